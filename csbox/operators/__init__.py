"""Measurement operators: basics, Fourier, Kronecker, wavelet, Walsh-Hadamard."""

from .basic import Diagonal, Identity, MatrixOperator, Restriction
from .convolve import Convolve
from .fourier import FFT, PartialFourier
from .gradient import Gradient
from .hadamard import Hadamard, fwht, parity
from .kronecker import Kronecker
from .nufft import NUFFT
from .stack import BlockDiag, HStack, VStack
from .wavelet import Wavelet

__all__ = [
    "FFT",
    "NUFFT",
    "BlockDiag",
    "Convolve",
    "Diagonal",
    "Gradient",
    "HStack",
    "Hadamard",
    "Identity",
    "Kronecker",
    "MatrixOperator",
    "PartialFourier",
    "Restriction",
    "VStack",
    "Wavelet",
    "fwht",
    "parity",
]
