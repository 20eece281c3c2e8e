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


def test_sizes_take_numpy_integers_and_flags_are_booleans():
    """Issue 28: ``Hadamard(np.int64(8))`` was refused; ``FFT(centered="yes")`` was taken as True."""
    from csbox.operators import Convolve, Gradient, Identity, fwht, parity

    assert Hadamard(np.int64(8)).n == 8 and Hadamard(np.array(16)).n == 16
    assert Wavelet((16, 16), "db2", level=np.int64(2)).level == 2
    assert Identity(np.array([3, 4])).ishape == (3, 4)
    assert FFT((4, 4), axes=np.array([1])).axes == (1,)
    assert Gradient((4, 5), axes=np.int32(1)).axes == (1,)
    assert Convolve(np.ones(3), np.int64(8)).ishape == (8,)
    for bad in (True, 8.0):
        with pytest.raises(TypeError, match="n must be an int"):
            Hadamard(bad)
    with pytest.raises(TypeError, match="level must be an int"):
        Wavelet((16, 16), "db2", level=True)
    with pytest.raises(ValueError, match="level must be <= 5"):  # 2**level must divide 16
        Wavelet((16, 16), "haar", level=10**9)
    with pytest.raises(TypeError, match="wavelet must be a wavelet name"):
        Wavelet((16, 16), 3)
    with pytest.raises(TypeError, match="centered must be True or False"):
        FFT((4, 4), centered="yes")
    with pytest.raises(TypeError, match="centered must be True or False"):
        PartialFourier(4, np.ones(4, bool), centered=2)
    assert FFT((4, 4), centered=np.True_).centered is True
    with pytest.raises(TypeError, match="normalize must be True or False"):
        fwht(np.ones(4), normalize="no")
    # parity: a negative int64 has 64 set bits in two's complement, a float was truncated
    with pytest.raises(ValueError, match="v must be non-negative"):
        parity(np.array([-1, 3]))
    with pytest.raises(TypeError, match="v must be an integer array"):
        parity(np.array([1.5]))
    assert parity([1, 2, 3]).tolist() == [1, 1, 0]


def test_empty_or_non_numeric_coefficients_name_the_argument():
    from csbox.operators import Diagonal

    with pytest.raises(ValueError, match="M is empty"):
        MatrixOperator(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="d is empty"):
        Diagonal(np.ones(0))
    with pytest.raises(TypeError, match="d must be a numeric array"):
        Diagonal(np.array(["a", "b"]))
    np.testing.assert_array_equal(Diagonal([1.0, 2.0]) @ np.ones(2), [1.0, 2.0])
    from csbox import LinearOperator

    with pytest.raises(TypeError, match="dtype must be a floating or complex dtype, got 'foo'"):
        LinearOperator(3, 3, "foo")
    with pytest.raises(TypeError, match="the scale must be a number"):
        MatrixOperator(np.eye(2)) * "a"
    with pytest.raises(ValueError, match="seed must be >= 0"):
        MatrixOperator(np.eye(2)).lipschitz(seed=-1)
