"""Plot helpers shared by the demos (matplotlib, Agg backend, PNG output); metrics vs figure data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["plt", "save", "strip_arrays"]


def save(fig: Any, path: Path) -> Path:
    """Save ``fig`` as PNG at ``path`` and close it."""
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def strip_arrays(data: Any) -> Any:
    """The JSON-able part of a demo's ``compute`` output: NumPy arrays (figure data) dropped, recursively.

    Demos return numbers, strings and lists as metrics and keep images and curves
    for ``plot`` as NumPy arrays (a dict of arrays only, e.g. ``"figure"``, is dropped
    whole); ``run`` returns ``strip_arrays(compute(...))``.
    """
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            if isinstance(v, np.ndarray):
                continue
            kept = strip_arrays(v)
            if not (isinstance(v, dict) and v and not kept):  # drop a dict that held only figure data
                out[k] = kept
        return out
    if isinstance(data, (list, tuple)):
        return type(data)(strip_arrays(v) for v in data if not isinstance(v, np.ndarray))
    return data
