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
from .dictionary import (
    OnlineOrthogonalDictionary,
    dictionary_recovery,
    orthogonal_dictionary_learning,
    sparse_code,
)
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
from .proximal import column_norms, fista, ista
from .sbl import kron_omp, kron_sbl, sbl
from .spright import SparseSpectrum, SpectrumResult, spright
from .thresholds import CEL0, MCP, Half, Hard, Soft, Threshold, get_threshold

__all__ = [
    "CEL0",
    "MCP",
    "DivergenceGuard",
    "Half",
    "Hard",
    "IterState",
    "MaxIter",
    "Monitor",
    "OTResult",
    "ObjectiveTol",
    "OnlineOrthogonalDictionary",
    "RelativeChange",
    "ResidualTol",
    "Result",
    "SNSResult",
    "Soft",
    "SparseSpectrum",
    "SpectrumResult",
    "StoppingRule",
    "Threshold",
    "WassersteinResult",
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
