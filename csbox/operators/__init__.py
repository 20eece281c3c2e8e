"""Measurement operators: basics, Fourier, Kronecker, wavelet, Walsh-Hadamard."""

from .basic import Diagonal, Identity, MatrixOperator, Restriction
from .fourier import FFT, PartialFourier
from .hadamard import Hadamard, fwht
from .kronecker import Kronecker
from .wavelet import Wavelet

__all__ = [
    "FFT",
    "Diagonal",
    "Hadamard",
    "Identity",
    "Kronecker",
    "MatrixOperator",
    "PartialFourier",
    "Restriction",
    "Wavelet",
    "fwht",
]
