"""The csbox linear operator: shapes, adjoint, algebra, batching.

A :class:`LinearOperator` maps arrays shaped ``(..., *ishape)`` to arrays shaped
``(..., *oshape)``; leading axes are a batch and are carried through untouched.
Subclasses implement ``_apply`` and ``_adjoint`` with array-API operations only,
so the same operator runs on NumPy, CuPy, torch or ``array_api_strict`` arrays
and returns its result in the input's namespace, on the input's device, in the
input's precision.

    >>> import numpy as np
    >>> from csbox.operators import MatrixOperator
    >>> A = MatrixOperator(np.eye(3))
    >>> B = 2.0 * A @ A.H + A
    >>> B
    <_Sum (3,) <- (3,), float64>
"""

from __future__ import annotations

import cmath
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._validation import check_int, check_memory, check_scalar, check_seed, check_shape
from .backend import Array, array_namespace, result_dtype, to_numpy

__all__ = ["LinearOperator"]

Shape = tuple[int, ...]

#: Default budget of :meth:`LinearOperator.column_norms` probing: columns (= operator applications).
MAX_PROBE = 2**14


def _as_shape(shape: int | Sequence[int], name: str) -> Shape:
    return check_shape(name, shape)


class LinearOperator:
    """Base class of csbox operators.

    Parameters
    ----------
    ishape, oshape : tuple of int
        Shape of one input and one output (without batch axes).
    dtype : str or numpy dtype, optional
        Nominal dtype: ``complex128`` for operators with complex coefficients
        (a real input gives a complex output of the same precision), ``float64``
        for real operators (the output keeps the input's dtype). Precision
        always follows the input.

    Notes
    -----
    Subclasses implement ``_apply(x)`` and ``_adjoint(y)`` on arrays with any
    number of leading batch axes, and may override :meth:`normal` where
    ``A^H A`` has a fast form.
    """

    def __init__(
        self,
        ishape: int | Sequence[int],
        oshape: int | Sequence[int],
        dtype: Any = "complex128",
    ):
        self.ishape = _as_shape(ishape, "ishape")
        self.oshape = _as_shape(oshape, "oshape")
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be a floating or complex dtype, got {dtype!r}") from None
        if self.dtype.kind not in "fc":
            raise TypeError(f"dtype must be a floating or complex dtype, got {self.dtype}")
        self._H: LinearOperator | None = None
        self._N: LinearOperator | None = None
        self._lipschitz: dict[tuple, float] = {}

    # ------------------------------------------------------------------ properties
    @property
    def is_complex(self) -> bool:
        """True when the operator has complex coefficients."""
        return self.dtype.kind == "c"

    @property
    def size_in(self) -> int:
        return math.prod(self.ishape)

    @property
    def size_out(self) -> int:
        return math.prod(self.oshape)

    @property
    def name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.name} {self.oshape} <- {self.ishape}, {self.dtype}>"

    # ------------------------------------------------------------------ application
    def _check(self, x: Array, shape: Shape, what: str) -> Any:
        if not hasattr(x, "shape") or not hasattr(x, "dtype"):
            raise TypeError(f"{self.name}: {what} must be an array, got {type(x).__name__}")
        n = len(shape)
        if x.ndim < n or tuple(x.shape[x.ndim - n :]) != shape:
            raise ValueError(
                f"{self.name}: {what} has shape {tuple(x.shape)}, expected (..., *{shape}) "
                f"(operator maps {self.ishape} -> {self.oshape})"
            )
        xp = array_namespace(x)
        try:
            return result_dtype(xp, x.dtype, self.is_complex)
        except TypeError:
            raise TypeError(
                f"{self.name}: {what} has dtype {x.dtype}, expected a floating or complex dtype"
            ) from None

    def apply(self, x: Array) -> Array:
        """Compute ``A x`` for ``x`` shaped ``(..., *ishape)``."""
        self._check(x, self.ishape, "input")
        return self._apply(x)

    def adjoint(self, y: Array) -> Array:
        """Compute ``A^H y`` for ``y`` shaped ``(..., *oshape)``."""
        self._check(y, self.oshape, "adjoint input")
        return self._adjoint(y)

    def _apply(self, x: Array) -> Array:  # pragma: no cover - abstract
        raise NotImplementedError

    def _adjoint(self, y: Array) -> Array:  # pragma: no cover - abstract
        raise NotImplementedError

    def _as_out_dtype(self, x: Array) -> Array:
        """Cast ``x`` to the dtype this operator computes in (complex for complex operators)."""
        xp = array_namespace(x)
        dt = result_dtype(xp, x.dtype, self.is_complex)
        return x if x.dtype == dt else xp.astype(x, dt)

    # ------------------------------------------------------------------ algebra
    @property
    def H(self) -> LinearOperator:
        """The adjoint operator (cached)."""
        if self._H is None:
            self._H = self._make_adjoint()
        return self._H

    def _make_adjoint(self) -> LinearOperator:
        return _Adjoint(self)

    def normal(self) -> LinearOperator:
        """The normal operator ``A^H A`` (cached); subclasses override it with a fast form."""
        if self._N is None:
            self._N = self._make_normal()
        return self._N

    def _make_normal(self) -> LinearOperator:
        return _Composition(self.H, self)

    def __matmul__(self, other: Any) -> Any:
        if isinstance(other, LinearOperator):
            return _Composition(self, other)
        return self.apply(other)

    def __add__(self, other: Any) -> LinearOperator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        return _Sum(self, other)

    def __sub__(self, other: Any) -> LinearOperator:
        if not isinstance(other, LinearOperator):
            return NotImplemented
        return _Sum(self, _Scaled(other, -1.0))

    def __neg__(self) -> LinearOperator:
        return _Scaled(self, -1.0)

    def __mul__(self, c: Any) -> LinearOperator:
        if isinstance(c, numbers.Number) and not isinstance(c, bool):
            return _Scaled(self, c)
        if isinstance(c, (bool, np.bool_, str, bytes)):
            raise TypeError(f"cannot scale {self.name} by {c!r}: the scale must be a number")
        return NotImplemented

    __rmul__ = __mul__

    # ------------------------------------------------------------------ analysis
    def lipschitz(
        self,
        *,
        max_iter: int = 100,
        tol: float = 1e-6,
        seed: int = 0,
        xp: Any = None,
        device: Any = None,
    ) -> float:
        """Largest eigenvalue of ``A^H A`` (the Lipschitz constant of ``0.5||Ax - y||^2``).

        Power iteration on :meth:`normal` from a seeded random start, cached per
        namespace and device. Runs on NumPy unless ``xp`` (and ``device``) say
        otherwise, e.g. for an operator that only accepts GPU arrays.

        Returns
        -------
        float
            The estimate; it approaches ``||A||_2^2`` from below, with relative
            accuracy ``tol`` on the Rayleigh quotient.
        """
        max_iter = check_int("max_iter", max_iter, low=1)
        tol = check_scalar("tol", tol, low=0.0)
        seed = check_seed("seed", seed)
        if xp is not None and not hasattr(xp, "asarray"):
            raise TypeError(f"xp must be an array namespace (a module such as numpy), got {xp!r}")
        key = (getattr(xp, "__name__", "numpy"), str(device), max_iter, tol, seed)
        if key in self._lipschitz:
            return self._lipschitz[key]
        check_memory(f"{self.name}.lipschitz power iteration", 4.0 * self.size_in + 2.0 * self.size_out)
        rng = np.random.default_rng(seed)
        v = rng.standard_normal(self.ishape)
        if self.is_complex:
            v = v + 1j * rng.standard_normal(self.ishape)
        v = v / np.linalg.norm(v)
        if xp is not None:
            v = xp.asarray(v, device=device) if device is not None else xp.asarray(v)
        x_ns = array_namespace(v)
        N = self.normal()
        lam = 0.0
        for _ in range(max_iter):
            w = N.apply(v)
            lam_new = float(to_numpy(x_ns.real(x_ns.sum(x_ns.conj(v) * w))))
            nrm = float(to_numpy(x_ns.linalg.vector_norm(w)))
            if not math.isfinite(nrm):
                raise ValueError(f"{self.name}: power iteration produced non-finite values")
            if nrm == 0.0:
                lam_new = 0.0
                break
            v = w / nrm
            if abs(lam_new - lam) <= tol * abs(lam_new):
                lam = lam_new
                break
            lam = lam_new
        self._lipschitz[key] = max(lam, 0.0)
        return self._lipschitz[key]

    @property
    def _isometry(self) -> bool:
        """True when ``||A x|| = ||x||`` for every ``x`` and ``A`` is square (unitary): its columns
        and rows have unit norm. Identity, orthonormal FFT, wavelet and Hadamard transforms say so."""
        return False

    def column_norms(self, *, batch: int = 256, max_probe: int = MAX_PROBE) -> np.ndarray:
        r"""Column norms ``a_i = ||A e_i||_2`` as a NumPy float64 array shaped ``ishape``.

        Used by :class:`~csbox.penalties.CEL0`. Structured operators answer in closed form,
        without applying the operator: identity and the unitary transforms (orthonormal FFT,
        wavelet, Hadamard: 1), :class:`~csbox.operators.Diagonal` (``|d|``),
        :class:`~csbox.operators.Restriction` (the mask), :class:`~csbox.operators.PartialFourier`
        and :class:`~csbox.operators.NUFFT` (``sqrt(M / N)``), :class:`~csbox.operators.MatrixOperator`,
        :class:`~csbox.operators.Gradient`, :class:`~csbox.operators.Convolve`, the stacks,
        :class:`~csbox.operators.Kronecker` (``a(A ⊗ B) = a(A) ⊗ a(B)``), scalar multiples
        (``|c| a(A)``), adjoints of those with closed row norms, ``U @ B`` for a unitary ``U``
        (``a(B)``) and :class:`~csbox.mri.Sense`.

        Any other operator is probed with unit vectors, ``batch`` columns at a time: ``size_in``
        columns in all, each costing one application, so the probe is refused *before it
        starts* when ``size_in > max_probe`` (``ValueError`` naming ``max_probe``), and when its
        batch would not fit in memory.

        Parameters
        ----------
        batch : int, default 256
            Columns per probing application (``>= 1``).
        max_probe : int, default ``2**14``
            Largest number of columns the probe may apply the operator to (``>= 0``); closed
            forms ignore it. Raise it knowingly: probing a ``256 x 256`` image operator is 65536
            columns.

        Returns
        -------
        numpy.ndarray of float64, shape ``ishape``
        """
        batch = check_int("batch", batch, low=1)
        max_probe = check_int("max_probe", max_probe, low=0)
        closed = self._column_norms(batch=batch, max_probe=max_probe)
        if closed is not None:
            return np.broadcast_to(np.asarray(closed, dtype=np.float64), self.ishape).copy()
        return _probe_columns(self, batch, max_probe)

    def _column_norms(self, **probe: Any) -> np.ndarray | None:
        """Closed-form column norms, or None (then :meth:`column_norms` probes).

        ``probe`` holds ``batch`` and ``max_probe`` for composite operators that ask their
        parts (``part.column_norms(**probe)``).
        """
        return np.ones(self.ishape) if self._isometry else None

    def _row_norms(self, **probe: Any) -> np.ndarray | None:
        """Closed-form row norms ``||A^H e_j||`` shaped ``oshape`` (the adjoint's column norms), or None."""
        return np.ones(self.oshape) if self._isometry else None

    def to_scipy(self) -> Any:
        """A ``scipy.sparse.linalg.LinearOperator`` on flattened NumPy vectors."""
        from scipy.sparse.linalg import LinearOperator as SciPyLinearOperator

        dt = self.dtype

        def matvec(v: np.ndarray) -> np.ndarray:
            v = np.asarray(v, dtype=np.result_type(v, dt) if dt.kind == "c" else v.dtype)
            return np.reshape(self.apply(np.reshape(v, self.ishape)), (-1,))

        def rmatvec(v: np.ndarray) -> np.ndarray:
            v = np.asarray(v, dtype=np.result_type(v, dt) if dt.kind == "c" else v.dtype)
            return np.reshape(self.adjoint(np.reshape(v, self.oshape)), (-1,))

        def matmat(V: np.ndarray) -> np.ndarray:
            V = np.moveaxis(np.reshape(V, (*self.ishape, -1)), -1, 0)
            return np.reshape(np.moveaxis(self.apply(V), 0, -1), (self.size_out, -1))

        def rmatmat(V: np.ndarray) -> np.ndarray:
            V = np.moveaxis(np.reshape(V, (*self.oshape, -1)), -1, 0)
            return np.reshape(np.moveaxis(self.adjoint(V), 0, -1), (self.size_in, -1))

        return SciPyLinearOperator(
            (self.size_out, self.size_in),
            matvec=matvec,
            rmatvec=rmatvec,
            matmat=matmat,
            rmatmat=rmatmat,
            dtype=dt,
        )


def _probe_columns(A: LinearOperator, batch: int, max_probe: int) -> np.ndarray:
    """Column norms of ``A`` by applying it to unit vectors, ``batch`` at a time (budget checked first)."""
    if A.size_in > max_probe:
        raise ValueError(
            f"{A.name}.column_norms: no closed form, and probing would apply the operator to "
            f"{A.size_in} unit vectors, more than max_probe={max_probe}; pass max_probe={A.size_in} "
            "to probe anyway, or compute the norms from the operator's structure"
        )
    batch = min(batch, A.size_in)
    check_memory(f"{A.name}.column_norms probing batch", float(batch) * (A.size_in + A.size_out))
    out = np.empty(A.size_in)
    for start in range(0, A.size_in, batch):
        idx = np.arange(start, min(start + batch, A.size_in))
        e = np.zeros((idx.size, A.size_in))
        e[np.arange(idx.size), idx] = 1.0
        cols = np.reshape(to_numpy(A.apply(np.reshape(e, (idx.size, *A.ishape)))), (idx.size, -1))
        out[idx] = np.linalg.norm(cols, axis=1)
    return out.reshape(A.ishape)


# ---------------------------------------------------------------------------- combinators
class _Adjoint(LinearOperator):
    def __init__(self, op: LinearOperator):
        super().__init__(op.oshape, op.ishape, op.dtype)
        self.op = op
        self._H = op

    @property
    def name(self) -> str:
        return f"{self.op.name}.H"

    def _apply(self, x: Array) -> Array:
        return self.op._adjoint(x)

    def _adjoint(self, y: Array) -> Array:
        return self.op._apply(y)

    def _make_normal(self) -> LinearOperator:
        return _Composition(self.op, self)

    @property
    def _isometry(self) -> bool:
        return self.op._isometry

    def _column_norms(self, **probe: Any) -> np.ndarray | None:
        return self.op._row_norms(**probe)

    def _row_norms(self, **probe: Any) -> np.ndarray | None:
        return self.op._column_norms(**probe)


class _Composition(LinearOperator):
    def __init__(self, A: LinearOperator, B: LinearOperator):
        if A.ishape != B.oshape:
            raise ValueError(
                f"cannot compose {A.name} (input {A.ishape}) with {B.name} (output {B.oshape})"
            )
        super().__init__(B.ishape, A.oshape, np.result_type(A.dtype, B.dtype))
        self.A, self.B = A, B

    @property
    def name(self) -> str:
        return f"({self.A.name} @ {self.B.name})"

    def _apply(self, x: Array) -> Array:
        return self.A._apply(self.B._apply(x))

    def _adjoint(self, y: Array) -> Array:
        return self.B._adjoint(self.A._adjoint(y))

    def _make_adjoint(self) -> LinearOperator:
        return _Composition(self.B.H, self.A.H)

    @property
    def _isometry(self) -> bool:
        return self.A._isometry and self.B._isometry

    def _column_norms(self, **probe: Any) -> np.ndarray | None:
        # ||U B e_i|| = ||B e_i|| for a unitary U
        return self.B.column_norms(**probe) if self.A._isometry else None

    def _row_norms(self, **probe: Any) -> np.ndarray | None:
        return self.A.H.column_norms(**probe) if self.B._isometry else None


class _Sum(LinearOperator):
    def __init__(self, A: LinearOperator, B: LinearOperator):
        if A.ishape != B.ishape or A.oshape != B.oshape:
            raise ValueError(
                f"cannot add {A.name} ({A.oshape} <- {A.ishape}) "
                f"and {B.name} ({B.oshape} <- {B.ishape}): shapes differ"
            )
        super().__init__(A.ishape, A.oshape, np.result_type(A.dtype, B.dtype))
        self.A, self.B = A, B

    def _apply(self, x: Array) -> Array:
        return self.A._apply(x) + self.B._apply(x)

    def _adjoint(self, y: Array) -> Array:
        return self.A._adjoint(y) + self.B._adjoint(y)


class _Scaled(LinearOperator):
    def __init__(self, A: LinearOperator, c: numbers.Number):
        if not cmath.isfinite(c):
            raise ValueError(f"cannot scale {A.name} by {c!r}: the scale must be finite")
        # a Python scalar, so that a NumPy scalar neither changes the input's precision
        # nor (np.complex64 is not a ``complex``) hides a complex scale from the adjoint
        c = complex(c) if np.iscomplexobj(c) else float(c)
        dt = np.result_type(A.dtype, np.complex128 if isinstance(c, complex) else A.dtype)
        super().__init__(A.ishape, A.oshape, dt)
        self.A, self.c = A, c

    @property
    def name(self) -> str:
        return f"{self.c}*{self.A.name}"

    def _apply(self, x: Array) -> Array:
        return self.c * self.A._apply(x)

    def _adjoint(self, y: Array) -> Array:
        c = self.c.conjugate() if isinstance(self.c, complex) else self.c
        return c * self.A._adjoint(y)

    def _column_norms(self, **probe: Any) -> np.ndarray | None:
        return abs(self.c) * self.A.column_norms(**probe)

    def _row_norms(self, **probe: Any) -> np.ndarray | None:
        return abs(self.c) * self.A.H.column_norms(**probe)
