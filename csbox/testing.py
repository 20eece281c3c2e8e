"""Testing helpers users can reuse: the adjoint dot-test and the backend fixture.

``dottest(A)`` checks ``<A x, y> = <x, A^H y>`` on random inputs.
:func:`available_backends` lists the array backends found on this machine
(NumPy; ``array_api_strict`` on its CPU device in float64 and on its
``device1`` in float32; torch and CuPy when they import and, for CuPy, see a
GPU). In a ``conftest.py``, ``from csbox.testing import backend`` registers a
pytest fixture parametrized over them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_scalar, check_shape
from .backend import array_namespace, to_numpy
from .linop import LinearOperator

__all__ = ["Backend", "available_backends", "backend", "dottest"]


@dataclass(frozen=True)
class Backend:
    """One array backend under test: namespace, device and working precision."""

    name: str
    xp: Any
    device: Any
    real: Any
    complex: Any

    @property
    def single(self) -> bool:
        """True for single precision (float32/complex64)."""
        return self.real == self.xp.float32

    @property
    def rtol(self) -> float:
        """A relative tolerance for results computed in this precision."""
        return 2e-4 if self.single else 1e-10

    def asarray(self, a: Any, dtype: Any = None) -> Any:
        """Move a NumPy array (or scalar) to this backend, cast to its precision."""
        a = np.asarray(a)
        if dtype is None:
            if a.dtype.kind == "c":
                dtype = self.complex
            elif a.dtype.kind == "f":
                dtype = self.real
        if self.device is None:
            out = self.xp.asarray(a)
        else:
            out = self.xp.asarray(a, device=self.device)
        if dtype is not None and out.dtype != dtype:
            out = self.xp.astype(out, dtype)
        return out

    def randn(self, shape: tuple[int, ...], complex: bool = False, seed: int = 0) -> Any:
        """Seeded standard normal array (complex: unit variance per component)."""
        rng = np.random.default_rng(seed)
        a = rng.standard_normal(shape)
        if complex:
            a = a + 1j * rng.standard_normal(shape)
        return self.asarray(a)

    def __repr__(self) -> str:
        return self.name


def available_backends() -> list[Backend]:
    """Backends found on this machine (see the module docstring)."""
    import array_api_compat.numpy as xnp

    out = [Backend("numpy", xnp, None, xnp.float64, xnp.complex128)]
    try:
        import array_api_strict as xs

        out.append(Backend("strict", xs, None, xs.float64, xs.complex128))
        out.append(Backend("strict-device1-f32", xs, xs.Device("device1"), xs.float32, xs.complex64))
    except Exception:
        pass
    try:
        import array_api_compat.torch as xt
        import torch

        out.append(Backend("torch", xt, torch.device("cpu"), xt.float64, xt.complex128))
        if torch.cuda.is_available():
            out.append(Backend("torch-cuda-f32", xt, torch.device("cuda"), xt.float32, xt.complex64))
    except Exception:
        pass
    try:
        import array_api_compat.cupy as xc
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            out.append(Backend("cupy", xc, None, xc.float64, xc.complex128))
            out.append(Backend("cupy-f32", xc, None, xc.float32, xc.complex64))
    except Exception:
        pass
    return out


def _dtype_name(dtype: Any) -> str:
    """``"float32"`` for ``"float32"``, ``np.float32``, ``xp.float32`` or a torch dtype."""
    name = str(getattr(dtype, "__name__", dtype))
    return name.rsplit(".", 1)[-1].strip("'>")


def dottest(
    A: LinearOperator,
    *,
    xp: Any = None,
    device: Any = None,
    dtype: Any = None,
    rtol: float | None = None,
    seed: int = 0,
    batch: tuple[int, ...] = (),
) -> float:
    """Adjoint test ``<A x, y> == <x, A^H y>`` on seeded random ``x`` and ``y``.

    Parameters
    ----------
    A : LinearOperator
    xp, device : optional
        Namespace and device of the test vectors (default NumPy).
    dtype : optional
        Real dtype of the test (``float64`` default; ``float32`` for single
        precision). Complex test vectors are used when ``A`` is complex.
    rtol : float, optional
        Allowed relative error; default ``1e-10`` in double and ``1e-4`` in
        single precision (a few ulps times the accumulation length).
    batch : tuple of int
        Leading batch shape of the test vectors.

    Returns
    -------
    float
        ``|<Ax, y> - <x, A^H y>| / max(|<Ax, y>|, |<x, A^H y>|)``.

    Raises
    ------
    AssertionError
        With both inner products when the relative error exceeds ``rtol``.
    """
    import array_api_compat.numpy as xnp

    if not isinstance(A, LinearOperator):
        raise TypeError(f"A must be a csbox LinearOperator, got {type(A).__name__}")
    batch = check_shape("batch", batch) if batch != () else ()
    if dtype is not None and _dtype_name(dtype) not in ("float32", "float64"):
        raise TypeError(f"dtype must be float32 or float64 (the real dtype of the test), got {dtype!r}")
    if rtol is not None:
        rtol = check_scalar("rtol", rtol, low=0.0, low_open=True)
    xp = xnp if xp is None else xp
    single = dtype is not None and _dtype_name(dtype) == "float32"
    real = xp.float32 if single else xp.float64
    cplx = xp.complex64 if single else xp.complex128
    rng = np.random.default_rng(seed)

    def rand(shape: tuple[int, ...]) -> Any:
        a = rng.standard_normal(shape)
        dt = real
        if A.is_complex:
            a = a + 1j * rng.standard_normal(shape)
            dt = cplx
        arr = xp.asarray(a, device=device) if device is not None else xp.asarray(a)
        return xp.astype(arr, dt)

    x = rand((*batch, *A.ishape))
    y = rand((*batch, *A.oshape))
    Ax = A @ x
    AHy = A.H @ y
    for name, arr, shape in (("A @ x", Ax, A.oshape), ("A.H @ y", AHy, A.ishape)):
        if tuple(arr.shape) != (*batch, *shape):
            raise AssertionError(f"{A!r}: {name} has shape {tuple(arr.shape)}, expected {shape}")
        if array_namespace(arr).__name__ != xp.__name__:
            raise AssertionError(f"{A!r}: {name} left the input's namespace")
        if not bool(to_numpy(xp.all(xp.isfinite(arr)))):
            raise AssertionError(f"{A!r}: {name} contains NaN or Inf on finite input")
    lhs = complex(to_numpy(xp.sum(xp.conj(y) * Ax)))
    rhs = complex(to_numpy(xp.sum(xp.conj(AHy) * x)))
    err = abs(lhs - rhs) / max(abs(lhs), abs(rhs), np.finfo(float).tiny)
    tol = rtol if rtol is not None else (1e-4 if single else 1e-10)
    if not math.isfinite(err) or err > tol:
        raise AssertionError(
            f"dottest failed for {A!r}: <Ax, y> = {lhs}, <x, A^H y> = {rhs}, "
            f"relative error {err:.3e} > rtol {tol:.1e}"
        )
    return err


try:  # the fixture exists only where pytest does
    import pytest

    _BACKENDS = available_backends()

    @pytest.fixture(params=_BACKENDS, ids=[b.name for b in _BACKENDS])
    def backend(request: Any) -> Backend:
        """Pytest fixture parametrized over :func:`available_backends`."""
        return request.param

except ImportError:  # pragma: no cover
    pass
