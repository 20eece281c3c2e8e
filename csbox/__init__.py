"""csbox: compressed sensing and sparse signal recovery on one array-API code path."""

from .linop import LinearOperator
from .solvers import reconstruct

#: The installed version of csbox.
__version__ = "0.2.0"

__all__ = ["LinearOperator", "__version__", "reconstruct"]
