"""Entropic optimal transport: stabilised Sinkhorn, Sinkhorn-Newton-Sparse, cost helpers, grid Wasserstein."""

from .sinkhorn import (
    OTResult,
    SNSResult,
    WassersteinResult,
    cost_matrix,
    grid_cost,
    sinkhorn,
    sinkhorn_newton_sparse,
    wasserstein_grid,
)

__all__ = [
    "OTResult",
    "SNSResult",
    "WassersteinResult",
    "cost_matrix",
    "grid_cost",
    "sinkhorn",
    "sinkhorn_newton_sparse",
    "wasserstein_grid",
]
