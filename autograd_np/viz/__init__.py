"""Pictures of graphs (Graphviz): ``draw(loss)`` returns a ``graphviz.Digraph``.

``draw.py`` is the entry points (``draw``, ``to_dot``, ``render``,
``draw_program``); ``layout.py`` walks a graph and places its boxes;
``style.py`` the colours and labels; ``gradients.py`` the gradients shown.
``explore`` writes a self-contained HTML page to explore a graph
(``explore_data.py`` the data it embeds, ``explore_views.py`` its pictures,
``assets/`` its script, style and skeleton).  It may import the core and the
debugging tools (a failing ``check_graph`` row is drawn in red)."""
from .draw import draw, draw_program, grad_color, render, to_dot
from .explore import Explorer, explore
from .style import (CLUSTER_FILLS, CONST_STYLE, DATA_STYLE, GRAD_SCALE, MARK_COLOR, MODULE_STYLE, NONFINITE_FILL,
                    OP_STYLE, OUTPUT_STYLE, PARAM_STYLE, TENSOR_STYLE)

__all__ = ["draw", "to_dot", "render", "grad_color", "draw_program", "explore", "Explorer",
           # the styles, for who wants to match them (a legend, a test)
           "CLUSTER_FILLS", "CONST_STYLE", "DATA_STYLE", "GRAD_SCALE", "MARK_COLOR", "MODULE_STYLE", "NONFINITE_FILL",
           "OP_STYLE", "OUTPUT_STYLE", "PARAM_STYLE", "TENSOR_STYLE"]
