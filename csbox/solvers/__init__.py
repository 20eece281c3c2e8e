"""Solvers on one Result/stopping machinery: ISTA/FISTA, thresholds, SBL, dictionary learning, OT."""

# 0.1 threshold names (deprecated for solvers: use csbox.penalties)
from ..penalties.thresholds import CEL0, MCP, Half, Hard, Soft, Threshold, get_threshold
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
from .admm import ADMMResult, admm
from .dictionary import (
    DictionaryResult,
    OnlineOrthogonalDictionary,
    dictionary_recovery,
    orthogonal_dictionary_learning,
    sparse_code,
)
from .linear import CGResult, LSQRResult, cg, lsqr
from .ot import (
    OTResult,
    SNSResult,
    WassersteinResult,
    cost_matrix,
    grid_cost,
    sinkhorn,
    sinkhorn_newton_sparse,
    wasserstein_grid,
)
from .pdhg import PDHGResult, pdhg
from .proximal import Backtracking, FixedStep, ProxGradResult, ProximalGradient, column_norms, fista, ista
from .sbl import OMPResult, SBLResult, kron_omp, kron_sbl, sbl
from .spright import SparseSpectrum, SpectrumResult, spright
from .tv import TVResult, tv_denoise

__all__ = [
    "CEL0",
    "MCP",
    "ADMMResult",
    "Backtracking",
    "Below",
    "CGResult",
    "DictionaryResult",
    "DivergenceGuard",
    "FixedStep",
    "Flag",
    "Half",
    "Hard",
    "IterState",
    "IterativeSolver",
    "LSQRResult",
    "MaxIter",
    "Monitor",
    "OMPResult",
    "OTResult",
    "ObjectiveTol",
    "OnlineOrthogonalDictionary",
    "PDHGResult",
    "ProxGradResult",
    "ProximalGradient",
    "RelativeChange",
    "ResidualTol",
    "Result",
    "SBLResult",
    "SNSResult",
    "Soft",
    "SparseSpectrum",
    "SpectrumResult",
    "StoppingRule",
    "TVResult",
    "Threshold",
    "WassersteinResult",
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
