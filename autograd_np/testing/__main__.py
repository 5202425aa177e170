"""``python -m autograd_np.testing`` prints the op table as Markdown (the documentation site's op table, docs/api/ops.md, is built from it)."""
from .op_specs import ops_markdown

print(ops_markdown())
