"""Demos: each module defines ``NAME``, ``DESCRIPTION`` and ``run(out_dir, quick=False) -> dict``.

Modules in this package register themselves by defining ``NAME``; ``csbox demo
--list`` shows them and ``csbox demo NAME`` runs one.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

__all__ = ["get", "registry"]


def registry() -> dict[str, ModuleType]:
    """Map demo names to their modules."""
    out: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        name = getattr(mod, "NAME", None)
        if name:
            out[name] = mod
    return dict(sorted(out.items()))


def get(name: str) -> ModuleType:
    """The demo module called ``name`` (``ValueError`` listing the known ones otherwise).

    Parameters
    ----------
    name : str
        A demo's ``NAME`` (the keys of :func:`registry`).

    Returns
    -------
    module
        The demo module, with ``NAME``, ``DESCRIPTION``, ``compute``, ``plot`` and ``run``.
    """
    reg = registry()
    if name not in reg:
        raise ValueError(f"unknown demo {name!r}; available: {', '.join(reg)}")
    return reg[name]
