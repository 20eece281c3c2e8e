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
# module pages describe constants in place; those with a long repr (a dict of files, the pytest
# fixture) are shown without their value (see _templates/autosummary/module.rst)
API_MODULES = [line.strip() for line in (Path(__file__).parent / "api.rst").read_text().splitlines()
               if line.strip().startswith("csbox")]


def _long_values() -> list[str]:
    import importlib

    out = []
    for modname in API_MODULES:
        mod = importlib.import_module(modname)
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if not callable(obj) or type(obj).__module__.startswith("_pytest"):
                if len(repr(obj)) > 200 or type(obj).__module__.startswith("_pytest"):
                    out.append(f"{modname}.{name}")
    return out


autosummary_context = {"long_values": _long_values()}
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

# Every cross-reference must resolve (nitpicky + -W). Offline (CI has no network) intersphinx is off,
# so references into NumPy/torch (bases such as ``numpy.ndarray`` and ``torch.nn.Module``) cannot
# resolve: those, and only those, are ignored when offline.
nitpicky = True
nitpick_ignore_regex = []
intersphinx_mapping = {}
if not os.environ.get("CSBOX_DOCS_ONLINE"):
    nitpick_ignore_regex = [(r"py:class", r"(numpy|torch)\..*")]
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



def _constant_docs(app, what, name, obj, options, lines):
    """Docs of constants: the ``#:`` comment where they are defined, never their type's docstring.

    autodoc reads ``#:`` comments only from the module it was asked about, so
    ``csbox.ultrasound.C_SOUND`` (defined in ``csbox.ultrasound.probe``) would
    show ``float``'s docstring; look in the module and its submodules for the
    defining comment.
    """
    if what != "data":
        return
    from sphinx.pycode import ModuleAnalyzer

    modname, attr = name.rsplit(".", 1)
    for sub in [modname, *sorted(m for m in sys.modules if m.startswith(modname + "."))]:
        try:
            docs = ModuleAnalyzer.for_module(sub).find_attr_docs()
        except Exception:  # extension modules and namespace packages have no source
            continue
        if ("", attr) in docs:
            lines[:] = list(docs[("", attr)])
            return
    if getattr(obj, "__doc__", None) == type(obj).__doc__:
        lines[:] = []


def _public_bases(app, name, obj, options, bases):
    """"Bases:" names documented classes: a private helper base (``_Estimator``) has no page, so
    it is replaced by its own public bases."""

    def public(cls):
        if not cls.__name__.startswith("_"):
            return [cls]
        return [b for base in cls.__bases__ for b in public(base)]

    out = []
    for base in bases:
        out += [b for b in public(base) if b not in out]
    bases[:] = out or [object]


def setup(app):
    app.connect("autodoc-process-docstring", _constant_docs)
    app.connect("autodoc-process-bases", _public_bases)


html_theme = "pydata_sphinx_theme"
html_title = f"csbox {release}"
html_theme_options = {"navigation_depth": 2, "show_toc_level": 2}
html_static_path: list[str] = []
