"""csbox: compressed sensing and sparse signal recovery on one array-API code path."""

from .linop import LinearOperator
from .reconstruct import reconstruct

__version__ = "0.1.0"

__all__ = ["LinearOperator", "__version__", "reconstruct"]
