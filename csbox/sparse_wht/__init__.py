"""Sparse Walsh-Hadamard transforms: SPRIGHT (peeling with BCH-coded delays) and sparse test signals."""

from .signals import sparse_wht_signal
from .spright import SparseSpectrum, SpectrumResult, spright

__all__ = ["SparseSpectrum", "SpectrumResult", "sparse_wht_signal", "spright"]
