"""Measurement operators: basics, Fourier, Kronecker, wavelet, Walsh-Hadamard."""

from .basic import Diagonal, Identity, MatrixOperator, Restriction
from .fourier import FFT, PartialFourier
from .hadamard import Hadamard, fwht
from .kronecker import Kronecker
from .nufft import NUFFT
from .wavelet import Wavelet

__all__ = [
    "FFT",
    "Diagonal",
    "Hadamard",
    "Identity",
    "Kronecker",
    "MatrixOperator",
    "NUFFT",
    "PartialFourier",
    "Restriction",
    "Wavelet",
    "fwht",
]
