"""Bad input raises a clear error naming the argument."""

import numpy as np
import pytest

from csbox.operators import FFT, Hadamard, Kronecker, MatrixOperator, PartialFourier, Restriction, Wavelet


def test_wrong_input_shape_names_operator_and_shapes():
    A = MatrixOperator(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"MatrixOperator.*\(5,\).*\(4,\)"):
        A @ np.ones(5)
    with pytest.raises(ValueError, match=r"MatrixOperator.H: input has shape \(4,\)"):
        A.H @ np.ones(4)


def test_wrong_dtype():
    with pytest.raises(TypeError, match="dtype"):
        FFT((4,)) @ np.ones(4, dtype=np.int64)


def test_composition_shape_mismatch():
    with pytest.raises(ValueError, match=r"compose.*\(4,\).*\(5,\)"):
        MatrixOperator(np.ones((3, 4))) @ MatrixOperator(np.ones((5, 2)))
    with pytest.raises(ValueError, match="shapes differ"):
        MatrixOperator(np.ones((3, 4))) + MatrixOperator(np.ones((3, 5)))


def test_mask_errors():
    with pytest.raises(ValueError, match=r"mask has shape \(4, 4\), expected \(8, 8\)"):
        PartialFourier((8, 8), np.ones((4, 4), bool))
    with pytest.raises(TypeError, match="mask must be a boolean"):
        PartialFourier((4,), np.array(["a", "b", "c", "d"]))
    m = np.ones(4)
    m[1] = np.nan
    with pytest.raises(ValueError, match="mask contains NaN"):
        PartialFourier((4,), m)
    with pytest.raises(ValueError, match="mask must be a boolean"):
        PartialFourier((4,), np.array([0.0, 0.5, 1.0, 1.0]))
    with pytest.raises(ValueError, match="selects no samples"):
        PartialFourier((4,), np.zeros(4, bool))
    with pytest.raises(ValueError, match="trailing axes"):
        PartialFourier((4, 4), np.ones(4, bool), axes=(0,))


@pytest.mark.parametrize("n", [0, 3, 12, 1000])
def test_hadamard_non_power_of_two(n):
    with pytest.raises(ValueError, match="n must be a positive power of two"):
        Hadamard(n)


def test_wavelet_errors():
    with pytest.raises(ValueError, match="unknown wavelet name 'db99x'"):
        Wavelet((16, 16), "db99x")
    with pytest.raises(ValueError, match="not divisible by 2\\*\\*level"):
        Wavelet((24, 16), "haar", level=4)
    with pytest.raises(ValueError, match="not orthogonal"):
        Wavelet((16,), "bior2.2")


def test_other_errors():
    with pytest.raises(ValueError, match="at least two factors"):
        Kronecker(np.ones((2, 2)))
    with pytest.raises(ValueError, match="indices must lie in"):
        Restriction((4,), np.array([0, 4]))
    with pytest.raises(ValueError, match="distinct"):
        Restriction((4,), np.array([1, 1]))
    with pytest.raises(ValueError, match="M contains NaN"):
        MatrixOperator(np.array([[np.nan]]))
    with pytest.raises(ValueError, match="norm must be one of"):
        FFT((4,), norm="unitary")
    with pytest.raises(ValueError, match="shape must contain positive sizes"):
        FFT((0, 4))
