"""Sphinx configuration of the documentation site: ``make docs`` builds docs/ into build/docs/.

    .venv/bin/python -m sphinx -W --keep-going -b html docs build/docs

The pages are MyST Markdown (myst-parser, through myst-nb); the API reference is generated from
the packages' ``__all__`` at build time (``_ext/apigen.py``); the notebooks of examples/notebooks/
are copied in and executed during the build (``_ext/notebooks.py``, myst-nb), so their outputs
cannot go stale.  Warnings are errors (``-W``): a renamed function breaks the build.
"""
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT))  # the packages documented, also when they are not installed

# The notebooks' kernels inherit this environment (set before any of them starts, and before NumPy loads
# here): the short run of the test suite (tests/test_notebooks.py) -- one BLAS thread each, the 8x8 digits
# instead of Fashion-MNIST, no MNIST -- and notebook 9 on the Zen of Python instead of Debian's fortunes
# (its minute and a half of training would double the build).  The data folders named do not exist
# (relative names: no page shows a path of this machine).  _ext/notebooks.py says so on each page.
os.environ.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                   "NETS_FASHION_MNIST_DIR": "no-fashion-mnist-in-the-docs-build",
                   "NETS_MNIST_DIR": "no-mnist-in-the-docs-build",
                   "NETS_FORTUNES_DIR": "no-fortunes-in-the-docs-build"})
os.environ.pop("MPLBACKEND", None)  # the kernel's own inline backend draws the figures

import autograd_np  # noqa: E402  (after the environment above)

project = "autograd_np"
author = "the autograd_np authors"
copyright = "the autograd_np authors, MIT license"
release = version = autograd_np.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",  # the tables of names on the namespace pages (the pages themselves: apigen)
    "numpydoc",
    "myst_nb",  # MyST Markdown pages and the executed notebooks (it brings myst-parser)
    "sphinx_copybutton",
    "apigen",  # _ext/apigen.py: a page per public name, walking __all__; the op table from the registry
    "notebooks",  # _ext/notebooks.py: examples/notebooks/*.ipynb copied into notebooks/ at build time
]

exclude_patterns = ["**/.ipynb_checkpoints", ".DS_Store"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
language = "en"
nitpicky = False  # type annotations name private modules (autograd_np.core.tensor.Tensor): apigen maps
# the ones it can to their public pages; the others stay plain text instead of warnings

# --- MyST (the guides) ---------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3  # [text](page.md#a-heading) links to headings down to ###

# --- myst-nb: execute the notebooks at every build ------------------------------------------------------
nb_execution_mode = "force"  # no cache: every build runs them, so a page shows what the code does today
nb_execution_timeout = 300  # seconds per cell, as examples/notebooks/render.py
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_show_tb = True  # ... and the log shows its traceback
nb_execution_in_temp = True  # files a notebook writes land in a temporary folder, not in docs/
nb_output_stderr = "warn"  # a notebook writing to stderr (a warning) fails the build too, as in the tests
nb_merge_streams = True

# --- the API reference ----------------------------------------------------------------------------------
# Documented in this order; a name in several __all__ lists gets one page, under the first namespace
# that exports it (nets.Affine, not nets.layers.Affine); the later namespaces link to it.
apigen_namespaces = [
    "autograd_np", "autograd_np.func", "autograd_np.viz", "autograd_np.testing",
    "nets", "nets.optim", "nets.callbacks", "nets.metrics", "nets.datasets", "nets.text", "nets.init",
    "nets.distributed", "nets.layers", "nets.models", "nets.io", "nets.training", "nets.debug", "nets.cli",
]
autosummary_generate = False  # apigen writes the pages; autosummary only draws the tables
autodoc_member_order = "bysource"
autodoc_preserve_defaults = True  # signatures show defaults as written (rng=None), never an object's repr
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autodoc_inherit_docstrings = True
numpydoc_show_class_members = False  # autodoc's :members: lists them, each with its docstring
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()  # the docstrings are NumPy-style but not all numpydoc-complete
numpydoc_attributes_as_param_list = True

# --- HTML: the PyData theme, with no link that leaves the site ------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "autograd_np"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {
    "navbar_start": ["navbar-logo"],
    "navbar_center": ["navbar-nav"],
    "navbar_end": ["theme-switcher"],
    "navbar_persistent": ["search-button"],
    "header_links_before_dropdown": 6,
    "icon_links": [],
    "show_toc_level": 2,
    "navigation_depth": 3,
    "show_nav_level": 1,
    "collapse_navigation": True,  # the reference has hundreds of pages: the sidebar shows the open branch
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_center": [],
    "footer_end": [],  # the theme's default credits link out of the site
    "logo": {"text": "autograd_np"},
    "pygments_light_style": "default",
    "pygments_dark_style": "monokai",
}
html_sidebars = {"index": [], "getting-started": []}  # pages with no section to navigate: no empty column
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
