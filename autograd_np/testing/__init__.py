"""Testing helpers: hypothesis strategies, and the table that says how to draw
valid inputs for every op (``OP_SPECS``).  Requires the ``testing`` extra
(hypothesis)."""
from .strategies import DOMAINS, arrays, axes_for, broadcastable_shapes, distinct_arrays, shapes
from .cases import Case, binary, reduction, unary
from .op_specs import COMPOSITE_SPECS, OP_SPECS, OpSpec, ops_markdown

__all__ = ["DOMAINS", "arrays", "axes_for", "broadcastable_shapes", "distinct_arrays", "shapes",
           "Case", "unary", "binary", "reduction", "OpSpec", "OP_SPECS", "COMPOSITE_SPECS", "ops_markdown"]
