"""Solvers on one Result/stopping machinery: ISTA/FISTA, thresholds, SBL, dictionary learning, OT."""

from ._core import (
    Below,
    DivergenceGuard,
    Flag,
    IterativeSolver,
    IterState,
    MaxIter,
    Monitor,
    ObjectiveTol,
    RelativeChange,
    ResidualTol,
    Result,
    StoppingRule,
)
from .dictionary import (
    OnlineOrthogonalDictionary,
    dictionary_recovery,
    orthogonal_dictionary_learning,
    sparse_code,
)
from .ot import cost_matrix, grid_cost, sinkhorn, sinkhorn_newton_sparse, wasserstein_grid
from .proximal import Backtracking, FixedStep, ProxGradResult, column_norms, fista, ista
from .sbl import OMPResult, SBLResult, kron_omp, kron_sbl, sbl
from .spright import spright
from .thresholds import CEL0, MCP, Half, Hard, Soft, Threshold, get_threshold

__all__ = [
    "CEL0",
    "MCP",
    "Backtracking",
    "Below",
    "DivergenceGuard",
    "FixedStep",
    "Flag",
    "Half",
    "Hard",
    "IterState",
    "IterativeSolver",
    "MaxIter",
    "Monitor",
    "OMPResult",
    "ObjectiveTol",
    "OnlineOrthogonalDictionary",
    "ProxGradResult",
    "RelativeChange",
    "ResidualTol",
    "Result",
    "SBLResult",
    "Soft",
    "StoppingRule",
    "Threshold",
    "column_norms",
    "cost_matrix",
    "dictionary_recovery",
    "fista",
    "get_threshold",
    "grid_cost",
    "ista",
    "kron_omp",
    "kron_sbl",
    "orthogonal_dictionary_learning",
    "sbl",
    "sinkhorn",
    "sinkhorn_newton_sparse",
    "sparse_code",
    "spright",
    "wasserstein_grid",
]
