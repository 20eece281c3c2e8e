"""The API reference (docs/api.rst + docs/_templates/autosummary/module.rst) covers every public name.

The site is built from ``docs/api.rst``: one autosummary entry per module, whose page (the module
template) lists the classes, functions and exceptions of its ``__all__`` on pages of their own and
describes every other name (constants, the pytest fixture) in place, from its ``#:`` comment. These
tests fail when a public module is missing from api.rst, when an ``__all__`` name does not exist or
has no docstring of its own (the page would be empty or show its type's docstring), or when the
template stops rendering a kind of member.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import pkgutil
import re
import warnings
from pathlib import Path

import pytest

import csbox

DOCS = Path(__file__).resolve().parents[1] / "docs"
# csbox.cli is the console script (documented by `csbox --help` and the README)
NOT_API = {"csbox.cli"}
_NEEDS_TORCH = {"csbox.sampling.dps", "csbox.sampling.unrolled", "csbox.mri.spokes"}


def _api_modules() -> list[str]:
    lines = (DOCS / "api.rst").read_text().splitlines()
    return [line.strip() for line in lines if re.fullmatch(r"\s+csbox(\.\w+)*", line)]


def _public_modules() -> list[str]:
    out = ["csbox"]
    for info in pkgutil.iter_modules(csbox.__path__, "csbox."):
        if not info.name.rsplit(".", 1)[1].startswith("_") and info.name not in NOT_API:
            out.append(info.name)
    return out


def _own_doc(mod_name: str, name: str, obj: object) -> str:
    """The text the reference shows: a docstring, or for plain data the ``#:`` comment."""
    if inspect.isclass(obj) or inspect.isroutine(obj) or callable(obj):
        return inspect.getdoc(obj) or ""
    from sphinx.pycode import ModuleAnalyzer

    mods = [mod_name, *sorted(m for m in _all_submodules(mod_name))]
    for sub in mods:
        docs = ModuleAnalyzer.for_module(sub).find_attr_docs()
        if ("", name) in docs:
            return "\n".join(docs[("", name)])
    return ""


def _all_submodules(mod_name: str) -> list[str]:
    mod = importlib.import_module(mod_name)
    if not hasattr(mod, "__path__"):
        return []
    return [info.name for info in pkgutil.walk_packages(mod.__path__, mod_name + ".")
            if not info.name.rsplit(".", 1)[1].startswith("_")]


def _imported_by_package(name: str) -> bool:
    """Whether ``csbox.pkg.sub``'s package imports it (then the package's ``__all__`` is its API)."""
    package, sub = name.rsplit(".", 1)
    init = importlib.util.find_spec(package).origin
    text = Path(init).read_text()
    return re.search(rf"from \.{sub} import|from \. import [^\n]*\b{sub}\b", text) is not None


def test_every_public_name_of_every_module_is_in_the_reference():
    """Modules a package does not import (the torch-only ``csbox.sampling.dps``) are API of their own:
    every name of their ``__all__`` must be in the ``__all__`` of a module of api.rst. (A submodule
    the package imports is an implementation file: the package's ``__all__`` is the API.)"""
    covered = set()
    for mod_name in _api_modules():
        mod = importlib.import_module(mod_name)
        covered |= {id(getattr(mod, name)) for name in mod.__all__}
    missing = []
    for info in pkgutil.walk_packages(csbox.__path__, "csbox."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or info.name in NOT_API or parts[1] == "demos":
            continue  # private, the console script, or a demo (documented by `csbox demo --list`)
        if len(parts) > 2 and _imported_by_package(info.name):
            continue
        if info.name in _NEEDS_TORCH and importlib.util.find_spec("torch") is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the 0.1 shims re-export 0.2 names
            mod = importlib.import_module(info.name)
        names = list(getattr(mod, "__all__", []))
        missing += [f"{info.name}.{n}" for n in names if id(getattr(mod, n)) not in covered]
    assert not missing, f"public names not in any module listed in docs/api.rst: {missing}"


def test_every_public_module_is_in_the_reference():
    missing = sorted(set(_public_modules()) - set(_api_modules()))
    assert not missing, f"public modules missing from docs/api.rst: {missing}"


@pytest.mark.parametrize("mod_name", _api_modules())
def test_every_public_name_is_documented(mod_name):
    pytest.importorskip("sphinx")
    if mod_name in _NEEDS_TORCH:
        pytest.importorskip("torch")
    mod = importlib.import_module(mod_name)
    names = getattr(mod, "__all__", None)
    assert names, f"{mod_name} has no __all__: the reference would list nothing"
    undocumented = []
    for name in names:
        assert hasattr(mod, name), f"{mod_name}.__all__ names {name!r}, which does not exist"
        obj = getattr(mod, name)
        doc = _own_doc(mod_name, name, obj)
        if not doc.strip() or (not inspect.isclass(obj) and doc == inspect.getdoc(type(obj))):
            undocumented.append(name)
    assert not undocumented, f"{mod_name}: no docstring / #: comment for {undocumented}"


def test_module_template_renders_every_kind_of_member():
    """Render the autosummary module template on a fake module with one member of each kind."""
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(DOCS / "_templates" / "autosummary")))
    env.filters["escape"] = lambda s: s
    env.filters["underline"] = lambda s, c="=": f"{s}\n{c * len(s)}"
    text = env.get_template("module.rst").render(
        fullname="pkg", module="pkg", members=["A", "f", "E", "CONST", "fixture"],
        classes=["A"], functions=["f"], exceptions=["E"], modules=[], attributes=[],
        long_values=["pkg.fixture"],
    )
    for name in ("A", "f", "E"):
        assert re.search(rf"^   {name}$", text, re.M), f"{name} not in an autosummary table"
    assert ".. autodata:: CONST" in text and ".. autodata:: fixture" in text
    assert text.count(":no-value:") == 1  # only the long one


def test_api_reference_names_are_all_reachable():
    """Each page name in api.rst imports, so autosummary cannot silently drop it."""
    for mod_name in _api_modules():
        if mod_name in _NEEDS_TORCH and importlib.util.find_spec("torch") is None:
            continue
        importlib.import_module(mod_name)
