"""Sphinx configuration of the csbox documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
The gallery (``examples/plot_*.py``) is executed at build time; set
``CSBOX_DOCS_ONLINE=1`` to link to the NumPy/SciPy/... references through
intersphinx (it needs the network, which CI does not have).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import csbox  # noqa: E402

project = "csbox"
author = "the csbox developers"
copyright = "2026, the csbox developers"
release = csbox.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]
templates_path = ["_templates"]

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]

autosummary_generate = True
autosummary_imported_members = True
autosummary_ignore_module_all = False
autodoc_default_options = {"show-inheritance": True}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# every public name must carry a docstring: numpydoc reports those that do not (GL08), and -W fails the build
numpydoc_validation_checks = {"GL08"}
numpydoc_validation_exclude = {r"\.__init__$", r"\._[a-z]", r"\.__call__$", r"\.__repr__$"}

intersphinx_mapping = {}
if os.environ.get("CSBOX_DOCS_ONLINE"):
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "pywt": ("https://pywavelets.readthedocs.io/en/latest", None),
        "torch": ("https://pytorch.org/docs/stable", None),
        "cupy": ("https://docs.cupy.dev/en/stable", None),
        "dask": ("https://docs.dask.org/en/stable", None),
        "ot": ("https://pythonot.github.io", None),
    }

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "doc_module": ("csbox",),
    "reference_url": {"csbox": None},
    "backreferences_dir": "gen_modules/backreferences",
}

html_theme = "pydata_sphinx_theme"
html_title = f"csbox {release}"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
html_static_path: list[str] = []
