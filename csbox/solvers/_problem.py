"""The one problem check of the inverse-problem solvers: ``A``, ``y``, the data term, ``x0``.

Every solver of this package (fista, ista, cg, lsqr, admm, pdhg, reconstruct) starts with
:func:`check_problem`, so they accept the same things and fail the same way, at the start:

- ``A``: a :class:`~csbox.linop.LinearOperator`, or a 2-D array wrapped in
  :class:`~csbox.operators.MatrixOperator`; anything else is a ``TypeError`` naming ``A``;
- ``y``: a floating or complex array shaped ``(..., *A.oshape)`` (integers are cast to
  float64; booleans, strings, empty arrays, NaN/Inf and wrong shapes are refused, naming ``y``);
- ``data``: a data term of :mod:`csbox.penalties` (default least squares) that the solver
  can use (a gradient solver refuses the constraint :class:`~csbox.penalties.ResidualBall`);
- ``x0``: the warm start, in ``y``'s namespace, of the shape of ``x`` or of ``A.ishape``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .._validation import check_array
from ..backend import Array, array_namespace, device, result_dtype
from ..iterative import Result
from ..linop import LinearOperator
from ..penalties import DataFidelity, LeastSquares


@dataclass(kw_only=True, repr=False)
class InverseResult(Result):
    """Fields every inverse-problem result shares (its subclasses are the public results).

    Attributes
    ----------
    residual : float
        Final relative residual ``||A x - y|| / ||y||`` over every right-hand side
        (``W^{1/2}``-whitened for weighted least squares).
    data : DataFidelity
        The data term that was solved (``LeastSquares()`` unless another was given).
    """

    residual: float = math.nan
    data: Any = None


def as_operator(A: Any) -> LinearOperator:
    """``A`` itself, a 2-D array wrapped in ``MatrixOperator``, or a ``TypeError`` naming ``A``."""
    if isinstance(A, LinearOperator):
        return A
    if hasattr(A, "shape") and hasattr(A, "dtype") and len(A.shape) == 2:
        from ..operators import MatrixOperator

        return MatrixOperator(A)
    raise TypeError(f"A must be a csbox LinearOperator or a 2-D array, got {type(A).__name__}")


@dataclass
class Problem:
    """A checked problem: the operator, the data cast to the dtype of ``x``, and the data term."""

    A: LinearOperator
    y: Array
    xp: Any
    batch: tuple[int, ...]
    dtype: Any
    device: Any
    data: DataFidelity

    @property
    def x_shape(self) -> tuple[int, ...]:
        return (*self.batch, *self.A.ishape)

    def zeros(self) -> Array:
        return self.xp.zeros(self.x_shape, dtype=self.dtype, device=self.device)


def _check_y(A: LinearOperator, y: Any) -> Array:
    if not hasattr(y, "shape") or not hasattr(y, "dtype"):
        raise TypeError(f"y must be an array, got {type(y).__name__}")
    xp = array_namespace(y)
    if xp.isdtype(y.dtype, "bool"):
        raise TypeError("y must be a floating, complex or integer array, got dtype bool")
    return check_array("y", y, shape=A.oshape)


def check_data_term(data: Any, *, solver: str, smooth: bool = False, quadratic: bool = False) -> DataFidelity:
    """``data`` (``LeastSquares()`` for None) when ``solver`` can use it, else a ``TypeError``
    or ``ValueError`` naming ``data``."""
    if data is None:
        return LeastSquares()
    if not isinstance(data, DataFidelity):
        raise TypeError(
            "data must be a csbox.penalties data term (LeastSquares, WeightedLeastSquares, ResidualBall), "
            f"got {type(data).__name__}"
        )
    if quadratic and not data.quadratic:
        raise ValueError(f"{solver} solves normal equations and needs a least-squares data term, "
                         f"got data={data!r}")
    if smooth and not data.smooth:
        raise ValueError(f"{solver} takes gradient steps and needs a smooth data term, got data={data!r}; "
                         "use admm or pdhg for a constraint")
    return data


def check_problem(A: Any, y: Any, data: Any = None, *, solver: str, smooth: bool = False,
                  quadratic: bool = False) -> Problem:
    """Check ``A``, ``y`` and the data term for ``solver``; return the :class:`Problem`."""
    A = as_operator(A)
    y = _check_y(A, y)
    term = check_data_term(data, solver=solver, smooth=smooth, quadratic=quadratic)
    xp = array_namespace(y)
    xdt = result_dtype(xp, y.dtype, A.is_complex)
    y = xp.astype(y, xdt) if y.dtype != xdt else y
    batch = tuple(y.shape[: y.ndim - len(A.oshape)])
    return Problem(A, y, xp, batch, xdt, device(y), term.bind(y, len(A.oshape)))


def check_x0(x0: Any, prob: Problem) -> Array:
    """A warm start of the shape of ``x`` (or of ``A.ishape``, broadcast over the batch), or zeros."""
    xp, shape, dtype = prob.xp, prob.x_shape, prob.dtype
    if x0 is None:
        return prob.zeros()
    x0 = check_array("x0", x0, cast_int=True, complex_ok=xp.isdtype(dtype, "complex floating"))
    if array_namespace(x0) is not xp:
        raise TypeError(f"x0 comes from {type(x0).__module__}, but y from another namespace")
    if tuple(x0.shape) not in (shape, tuple(prob.A.ishape)):
        raise ValueError(f"x0 has shape {tuple(x0.shape)}, expected {shape} or {tuple(prob.A.ishape)}")
    return xp.astype(x0, dtype) + prob.zeros()


def sqnorm(xp: Any, v: Array) -> Array:
    """``||v||^2`` over every axis as a 0-d real array (one ``vecdot``, no temporaries)."""
    flat = xp.reshape(v, (-1,))
    return xp.real(xp.vecdot(flat, flat))


def normal_op(prob: Problem) -> Any:
    """``v -> A^H W A v`` for a quadratic data term (``A.normal()`` when unweighted: its fast form)."""
    A, data = prob.A, prob.data
    if type(data) is LeastSquares:
        return A.normal()._apply
    return lambda v: A._adjoint(data.weight(A._apply(v)))


def adjoint_data(prob: Problem) -> Array:
    """``A^H W y`` (``A^H y`` unweighted): the right-hand side of the normal equations."""
    return prob.A._adjoint(prob.data.weight(prob.y))
