"""Penalties ``lam * phi(x)`` as objects with ``prox(v, step)``, ``value(x)`` and ``in_basis(W)``."""

from .base import InBasis, Penalty
from .separable import CEL0, L0, L1, MCP, Half, Separable

__all__ = ["CEL0", "L0", "L1", "MCP", "Half", "InBasis", "Penalty", "Separable"]
