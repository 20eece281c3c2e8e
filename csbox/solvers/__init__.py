"""Solvers on one Result/stopping machinery: ISTA/FISTA, thresholds, SBL, dictionary learning, OT."""

from ._core import (
    DivergenceGuard,
    IterState,
    MaxIter,
    Monitor,
    ObjectiveTol,
    RelativeChange,
    ResidualTol,
    Result,
    StoppingRule,
)
from .admm import ADMMResult, admm
from .dictionary import (
    OnlineOrthogonalDictionary,
    dictionary_recovery,
    orthogonal_dictionary_learning,
    sparse_code,
)
from .linear import CGResult, LSQRResult, cg, lsqr
from .ot import cost_matrix, grid_cost, sinkhorn, sinkhorn_newton_sparse, wasserstein_grid
from .pdhg import PDHGResult, pdhg
from .proximal import column_norms, fista, ista
from .sbl import kron_omp, kron_sbl, sbl
from .spright import spright
from .thresholds import CEL0, MCP, Half, Hard, Soft, Threshold, get_threshold
from .tv import TVResult, tv_denoise

__all__ = [
    "CEL0",
    "MCP",
    "ADMMResult",
    "CGResult",
    "DivergenceGuard",
    "Half",
    "Hard",
    "IterState",
    "LSQRResult",
    "MaxIter",
    "Monitor",
    "ObjectiveTol",
    "OnlineOrthogonalDictionary",
    "PDHGResult",
    "RelativeChange",
    "ResidualTol",
    "Result",
    "Soft",
    "StoppingRule",
    "TVResult",
    "Threshold",
    "admm",
    "cg",
    "column_norms",
    "cost_matrix",
    "dictionary_recovery",
    "fista",
    "get_threshold",
    "grid_cost",
    "ista",
    "kron_omp",
    "kron_sbl",
    "lsqr",
    "orthogonal_dictionary_learning",
    "pdhg",
    "sbl",
    "sinkhorn",
    "sinkhorn_newton_sparse",
    "sparse_code",
    "spright",
    "tv_denoise",
    "wasserstein_grid",
]
