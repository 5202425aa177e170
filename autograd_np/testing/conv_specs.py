"""Op-table entries for the convolution and pooling ops (``ops/conv.py``)."""
from __future__ import annotations

CONV_SPECS: dict = {}       # op name -> OpSpec, merged into OP_SPECS
CONV_COMPOSITES: dict = {}  # composite name -> OpSpec, merged into COMPOSITE_SPECS
