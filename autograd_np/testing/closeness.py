"""How close a value must be to a reference, for the boundary sweep and its
comparison with PyTorch: NaN where the reference has NaN, the same infinities,
finite values within ``rtol`` (and a tiny absolute slack at the values' scale)."""
from __future__ import annotations

import numpy as np

__all__ = ["close"]


def close(a, b, rtol):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    same = ~np.isnan(a)
    a, b = a[same], b[same]
    if not np.array_equal(a[np.isinf(a)], b[np.isinf(a)]) or np.any(np.isinf(b) & ~np.isinf(a)):
        return False
    finite = np.isfinite(a)
    scale = max(1.0, float(np.max(np.abs(b[finite]), initial=0.0)))
    return bool(np.all(np.abs(a[finite] - b[finite]) <= rtol * np.abs(b[finite]) + 1e-12 * scale))
