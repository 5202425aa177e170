"""Tools that say what is wrong: ``gradcheck`` (central differences),
``check_graph`` (every op of a graph against its numerical derivative),
``detect_anomaly`` (where a NaN or inf came from), ``explain`` (the backward
pass step by step).  They may import the core and the ops."""
from .anomaly import AnomalyError, detect_anomaly
from .explain import ExplainStep, ExplainSteps, explain
from .gradcheck import GradcheckError, central_difference, gradcheck, gradgradcheck, numerical_gradient
from .graphcheck import GraphCheckError, GraphReport, NodeCheck, check_graph

__all__ = ["detect_anomaly", "AnomalyError", "explain", "ExplainStep", "ExplainSteps", "gradcheck",
           "gradgradcheck", "numerical_gradient", "central_difference", "GradcheckError", "check_graph",
           "GraphReport", "NodeCheck", "GraphCheckError"]
