"""Deprecated alias of :mod:`csbox.penalties.thresholds` (moved in 0.2; use the penalty objects)."""

import warnings

from ..penalties.thresholds import CEL0, MCP, Half, Hard, Soft, Threshold, get_threshold

__all__ = ["CEL0", "MCP", "Half", "Hard", "Soft", "Threshold", "get_threshold"]

warnings.warn(
    "csbox.solvers.thresholds moved to csbox.penalties.thresholds in 0.2; use csbox.penalties "
    "(L1, L0, Half, MCP, CEL0)",
    DeprecationWarning,
    stacklevel=2,
)
