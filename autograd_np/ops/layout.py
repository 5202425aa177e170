"""Layout: NumPy's array manipulation, composed from the shape ops (reshape,
transpose, getitem, index_add, concatenate, stack, broadcast_to) and where:
every function is exact by construction and records only ops whose
derivatives are tested.  Documented one by one, they live by kin in

* ``axes``: flattening and axes (ravel, flatten, squeeze, expand_dims,
  atleast_*d, moveaxis, swapaxes), gathering and sorting (take_along_axis,
  sort, partition, take): the base the others build on;
* ``reorder``: reordering (flip, fliplr, flipud, rot90, roll) and copies
  (repeat, tile, pad);
* ``stacking``: joining (hstack, vstack, dstack, column_stack, append) and
  splitting (split, array_split, hsplit, vsplit);
* ``building``: differences (diff), matrix parts (diagonal, diag, tril, triu)
  and building tensors (array, linspace, broadcast_arrays);

and this module gathers them: the layout family, as ``ag.ops`` and NumPy's
dispatch (``interop``) import it."""
from .axes import (atleast_1d, atleast_2d, atleast_3d, expand_dims, flatten, moveaxis, partition, ravel, sort,
                   squeeze, swapaxes, take, take_along_axis)
from .building import array, broadcast_arrays, diag, diagonal, diff, linspace, tril, triu
from .reorder import flip, fliplr, flipud, pad, repeat, roll, rot90, tile
from .stacking import append, array_split, column_stack, dstack, hsplit, hstack, split, vsplit, vstack

__all__ = ["ravel", "flatten", "squeeze", "expand_dims", "atleast_1d", "atleast_2d", "atleast_3d", "moveaxis",
           "swapaxes", "take_along_axis", "sort", "partition", "take",
           "flip", "fliplr", "flipud", "rot90", "roll", "repeat", "tile", "pad",
           "hstack", "vstack", "dstack", "column_stack", "append", "split", "array_split", "hsplit", "vsplit",
           "diff", "diagonal", "diag", "tril", "triu", "array", "linspace", "broadcast_arrays"]
