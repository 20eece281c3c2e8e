"""Dictionary learning: orthogonal (Frank-Wolfe streaming, MSP), sparse coding, image patches."""

from .learning import (
    DictionaryResult,
    dictionary_recovery,
    orthogonal_dictionary_learning,
    polar,
    sparse_code,
)
from .online import OnlineOrthogonalDictionary
from .patches import assemble_patches, dct_dictionary, extract_patches

__all__ = [
    "DictionaryResult",
    "OnlineOrthogonalDictionary",
    "assemble_patches",
    "dct_dictionary",
    "dictionary_recovery",
    "extract_patches",
    "orthogonal_dictionary_learning",
    "polar",
    "sparse_code",
]
