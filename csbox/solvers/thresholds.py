"""Deprecated location (0.1): the thresholds live in :mod:`csbox.penalties.thresholds` since 0.2.

Prefer the penalty objects (:class:`csbox.penalties.L1`, ``L0``, ``Half``,
``MCP``, ``CEL0``), which carry their weight and compose with ``in_basis``.
"""

from ..penalties.thresholds import CEL0, MCP, Half, Hard, Soft, Threshold, get_threshold

__all__ = ["CEL0", "MCP", "Half", "Hard", "Soft", "Threshold", "get_threshold"]
