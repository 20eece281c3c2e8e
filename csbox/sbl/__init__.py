"""Sparse Bayesian learning: SBL (EM), Kronecker SBL (SVD / AM / pattern-coupled) and Kronecker OMP."""

from .bayesian import SBLResult, kron_sbl, sbl
from .omp import OMPResult, kron_omp

__all__ = ["OMPResult", "SBLResult", "kron_omp", "kron_sbl", "sbl"]
