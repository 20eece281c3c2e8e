"""Plot helpers shared by the demos (matplotlib, Agg backend, PNG output)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

__all__ = ["plt", "save"]


def save(fig: Any, path: Path) -> Path:
    """Save ``fig`` as PNG at ``path`` and close it."""
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
