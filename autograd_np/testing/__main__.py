"""``python -m autograd_np.testing`` prints the op table as Markdown (for the README)."""
from .op_specs import ops_markdown

print(ops_markdown())
