"""Checking a model's gradients: ``gradient_check`` (backprop against central differences
on a float64 copy) and ``compare_grads`` (a hand-written backward's gradients next to the
engine's), with their reports.  Imports ``nets.layers`` and ``nets.util``."""
from .gradients import (GradComparison, GradComparisonRow, GradientCheckReport, GradientCheckRow, compare_grads,
                        float64_copy, gradient_check)

__all__ = ["gradient_check", "GradientCheckReport", "GradientCheckRow", "compare_grads", "GradComparison",
           "GradComparisonRow", "float64_copy"]
