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

from ._validation import check_int, check_scalar, check_seed, check_shape
from .backend import array_namespace, to_numpy
from .linop import LinearOperator

__all__ = ["Backend", "available_backends", "backend", "dottest"]


@dataclass(frozen=True)
class Backend:
    """One array backend under test: namespace, device and working precision.

    Attributes
    ----------
    name : str
        Test id (``"numpy"``, ``"strict"``, ``"strict-device1-f32"``, ``"torch"``...).
    xp : module
        The array namespace (array-api-compat wrapped where needed).
    device : object or None
        Device for array creation (None: the namespace's default).
    real, complex : dtype
        Working real and complex dtypes (float64/complex128 or float32/complex64).
    """

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
        rng = np.random.default_rng(check_seed("seed", seed))
        a = rng.standard_normal(check_shape("shape", shape, allow_zero=True))
        if complex:
            a = a + 1j * rng.standard_normal(shape)
        return self.asarray(a)

    def __repr__(self) -> str:
        return self.name


def available_backends() -> list[Backend]:
    """Backends found on this machine (see the module docstring).

    Examples
    --------
    >>> from csbox.testing import available_backends
    >>> "numpy" in [b.name for b in available_backends()]
    True
    """
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


def _random_input(A: LinearOperator, shape: tuple, xp: Any, device: Any, single: bool, rng: Any) -> Any:
    """Seeded standard-normal test array (complex for a complex ``A``) on ``xp``, in the test precision."""
    a = rng.standard_normal(shape)
    if A.is_complex:
        a = a + 1j * rng.standard_normal(shape)
    arr = xp.asarray(a, device=device) if device is not None else xp.asarray(a)
    if A.is_complex:
        return xp.astype(arr, xp.complex64 if single else xp.complex128)
    return xp.astype(arr, xp.float32 if single else xp.float64)


def _check_output(A: LinearOperator, name: str, arr: Any, shape: tuple, xp: Any) -> None:
    """An operator output has the expected shape, stays in the input's namespace and is finite."""
    if tuple(arr.shape) != tuple(shape):
        raise AssertionError(f"{A!r}: {name} has shape {tuple(arr.shape)}, expected {shape}")
    if array_namespace(arr).__name__ != xp.__name__:
        raise AssertionError(f"{A!r}: {name} left the input's namespace")
    if not bool(to_numpy(xp.all(xp.isfinite(arr)))):
        raise AssertionError(f"{A!r}: {name} contains NaN or Inf on finite input")


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

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.operators import FFT
    >>> from csbox.testing import dottest
    >>> dottest(FFT(16)) < 1e-12
    True
    """
    import array_api_compat.numpy as xnp

    if not isinstance(A, LinearOperator):
        raise TypeError(f"A must be a csbox LinearOperator, got {type(A).__name__}")
    batch = () if isinstance(batch, tuple) and not batch else check_shape("batch", batch)
    seed = check_seed("seed", seed)
    _check_namespace(xp)
    if dtype is not None and _dtype_name(dtype) not in ("float32", "float64"):
        raise TypeError(f"dtype must be float32 or float64 (the real dtype of the test), got {dtype!r}")
    if rtol is not None:
        rtol = check_scalar("rtol", rtol, low=0.0, low_open=True)
    xp = xnp if xp is None else xp
    single = dtype is not None and _dtype_name(dtype) == "float32"
    rng = np.random.default_rng(seed)
    x = _random_input(A, (*batch, *A.ishape), xp, device, single, rng)
    y = _random_input(A, (*batch, *A.oshape), xp, device, single, rng)
    Ax = A @ x
    AHy = A.H @ y
    for name, arr, shape in (("A @ x", Ax, A.oshape), ("A.H @ y", AHy, A.ishape)):
        _check_output(A, name, arr, (*batch, *shape), xp)
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


def _check_namespace(xp: Any) -> None:
    if xp is not None and not hasattr(xp, "asarray"):
        raise TypeError(f"xp must be an array namespace (a module such as array_api_strict), got {xp!r}")


def _expect(exc: type[Exception] | tuple, what: str, fn: Any, *args: Any, **kwargs: Any) -> str:
    """Run ``fn`` and require ``exc``; return the message (AssertionError naming ``what`` otherwise)."""
    try:
        fn(*args, **kwargs)
    except exc as e:
        msg = str(e)
        if not msg:
            raise AssertionError(f"{what}: raised {type(e).__name__} with an empty message") from None
        return msg
    except Exception as e:  # the wrong kind of error is a failure of the check
        raise AssertionError(f"{what}: expected {exc}, got {type(e).__name__}: {e}") from None
    raise AssertionError(f"{what}: no error was raised")


def check_operator(
    A: LinearOperator,
    *,
    xp: Any = None,
    device: Any = None,
    dtype: Any = None,
    normal_rtol: float | None = None,
) -> dict:
    """Conformance checks any csbox operator (ours or a user's) should pass.

    Checks: the adjoint (:func:`dottest`, also with a batch axis); ``A @ x`` and
    ``A.H @ y`` on a batch equal the stacked single applications; ``A.normal()``
    equals ``A.H @ (A @ x)``; a wrong trailing shape raises ``ValueError``; a
    non-numeric array raises ``TypeError``; a non-array raises ``TypeError``;
    ``repr`` is informative. ``normal_rtol`` loosens the normal-operator check
    for operators whose fast ``normal()`` is an approximation (a Toeplitz NUFFT).

    Returns
    -------
    dict
        The dottest errors (``dottest``, ``dottest_batch``) and the relative
        normal-operator error (``normal``).
    """
    import array_api_compat.numpy as xnp

    if not isinstance(A, LinearOperator):
        raise TypeError(f"A must be a csbox LinearOperator, got {type(A).__name__}")
    _check_namespace(xp)
    if normal_rtol is not None:
        normal_rtol = check_scalar("normal_rtol", normal_rtol, low=0.0, low_open=True)
    xp = xnp if xp is None else xp
    out = {"dottest": dottest(A, xp=xp, device=device, dtype=dtype)}
    out["dottest_batch"] = dottest(A, xp=xp, device=device, dtype=dtype, batch=(2,), seed=1)
    single = dtype is not None and _dtype_name(dtype) == "float32"
    xa = _random_input(A, (2, *A.ishape), xp, device, single, np.random.default_rng(7))
    both = to_numpy(A @ xa)
    each = np.stack([to_numpy(A @ xa[i, ...]) for i in range(2)])
    tol = 1e-4 if single else 1e-10
    scale = max(float(np.max(np.abs(each))), 1e-30)
    if float(np.max(np.abs(both - each))) > tol * scale:
        raise AssertionError(f"{A!r}: a batched application differs from the stacked single ones")
    n1 = to_numpy(A.normal() @ xa)
    n2 = to_numpy(A.H @ (A @ xa))
    out["normal"] = float(np.linalg.norm(n1 - n2) / max(np.linalg.norm(n2), 1e-30))
    if normal_rtol is None:
        normal_rtol = 1e-3 if single else 1e-8
    if out["normal"] > normal_rtol:
        raise AssertionError(f"{A!r}: A.normal() @ x differs from A.H @ (A @ x) by {out['normal']:.2e}")
    bad = np.ones((*A.ishape[:-1], A.ishape[-1] + 1))
    _expect(ValueError, f"{A!r} @ wrongly shaped input", A.apply, xp.asarray(bad))
    _expect(ValueError, f"{A!r}.H @ wrongly shaped input", A.adjoint, xp.asarray(np.ones((*A.oshape, 2))))
    _expect(TypeError, f"{A!r} @ a list", A.apply, [1.0, 2.0])
    if xp is xnp:
        _expect(TypeError, f"{A!r} @ a string array", A.apply, np.full(A.ishape, "a"))
    if " object at 0x" in repr(A):
        raise AssertionError(f"{type(A).__name__} has no informative repr: {A!r}")
    return out


def check_solver(solve: Any, A: Any, y: Any, *, x_shape: tuple[int, ...] | None = None, **kwargs: Any) -> Any:
    """Conformance checks for an iterative solver ``solve(A, y, **kwargs) -> Result``.

    Checks the solver contract (keywords ``max_iter``, ``tol``, ``check_every``,
    ``callback``, ``progress`` defaulting to False, ``stop``; a typed
    :class:`~csbox.iterative.Result`), that the callback sees a full-length
    estimate, and that bad data raise clear errors: NaN/Inf, empty or wrongly
    shaped ``y`` (``ValueError``), a string array (``TypeError``), negative
    ``max_iter`` and ``tol`` (``ValueError``).

    Returns
    -------
    Result
        The result of the good run.
    """
    import inspect

    from .iterative import Result

    if not callable(solve):
        raise TypeError(f"solve must be a solver function, got {type(solve).__name__}")
    if x_shape is not None:
        x_shape = check_shape("x_shape", x_shape)
    sig = inspect.signature(solve)
    for kw in ("max_iter", "tol", "check_every", "callback", "progress", "stop"):
        if kw not in sig.parameters:
            raise AssertionError(f"{solve.__name__} has no keyword {kw!r} (the solver contract)")
    if sig.parameters["progress"].default is not False:
        raise AssertionError(f"{solve.__name__}: progress must default to False")
    seen: list[tuple[int, ...]] = []

    def cb(state: Any) -> None:
        if state.x is None:
            raise AssertionError(f"{solve.__name__}: the callback got x=None")
        seen.append(tuple(state.x.shape))

    res = solve(A, y, callback=cb, **kwargs)
    if not isinstance(res, Result):
        raise AssertionError(f"{solve.__name__} returned {type(res).__name__}, not a Result")
    if x_shape is not None and any(sh[-len(x_shape):] != tuple(x_shape) for sh in seen):
        raise AssertionError(f"{solve.__name__}: the callback saw shapes {set(seen)}, expected {x_shape}")
    yn = to_numpy(y)
    xp = array_namespace(y)
    for what, bad, exc in [
        ("NaN in y", np.where(np.arange(yn.size).reshape(yn.shape) == 0, np.nan, yn), ValueError),
        ("Inf in y", np.where(np.arange(yn.size).reshape(yn.shape) == 0, np.inf, yn), ValueError),
        ("empty y", yn[..., :0], ValueError),
        ("y of a wrong shape", np.concatenate([yn, yn[..., :1]], axis=-1), ValueError),
        ("a string y", np.full(yn.shape, "a"), TypeError),
    ]:
        arr = bad if bad.dtype.kind == "U" else xp.asarray(bad)
        _expect(exc, f"{solve.__name__} with {what}", solve, A, arr, **kwargs)
    _expect(ValueError, f"{solve.__name__} with max_iter=-1", solve, A, y, **{**kwargs, "max_iter": -1})
    _expect(ValueError, f"{solve.__name__} with tol=-1", solve, A, y, **{**kwargs, "tol": -1.0})
    return res


def check_penalty(P: Any, *, shape: tuple[int, ...] = (6, 5), n_trials: int = 20, seed: int = 0) -> None:
    """Conformance checks for a penalty object (``prox(v, step)``, ``value(x)``).

    For convex penalties the prox must be the global minimiser of
    ``step * value(x) + 0.5 ||x - v||^2``: no random perturbation of the prox
    may do better (to 1e-9 relative). For every penalty: ``value`` is a finite
    real 0-d array, ``prox`` keeps shape and dtype (real and complex), and a
    step ``<= 0`` or NaN raises ``ValueError``.
    """
    from .penalties import Penalty

    if not isinstance(P, Penalty):
        raise TypeError(f"P must be a csbox Penalty, got {type(P).__name__}")
    shape = check_shape("shape", shape)
    n_trials = check_int("n_trials", n_trials, low=1)
    rng = np.random.default_rng(check_seed("seed", seed))
    for cplx in (False, True):
        v = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if cplx else 0)
        for step in (0.3, 1.7):
            p = P.prox(v, step)
            if p.shape != v.shape or p.dtype != v.dtype:
                raise AssertionError(
                    f"{P!r}.prox changed shape/dtype: {v.shape}/{v.dtype} -> {p.shape}/{p.dtype}"
                )

            def obj(x: Any, v: Any = v, step: float = step) -> float:
                return step * float(to_numpy(P.value(x))) + 0.5 * float(np.sum(np.abs(x - v) ** 2))

            val = P.value(p)
            if getattr(val, "shape", ()) != () or not np.isfinite(float(to_numpy(val))):
                raise AssertionError(f"{P!r}.value is not a finite 0-d value: {val!r}")
            if P.convex:
                best = obj(p)
                for _ in range(n_trials):
                    d = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if cplx else 0)
                    for eps in (1e-1, 1e-3):
                        if obj(p + eps * d) < best - 1e-9 * max(1.0, abs(best)):
                            raise AssertionError(f"{P!r}.prox is not the minimiser (step {step})")
    for bad in (0.0, -1.0, float("nan")):
        _expect(ValueError, f"{P!r}.prox with step={bad}", P.prox, np.ones(shape), bad)


try:  # the fixture exists only where pytest does
    import pytest

    _BACKENDS = available_backends()

    @pytest.fixture(params=_BACKENDS, ids=[b.name for b in _BACKENDS])
    def backend(request: Any) -> Backend:
        """Pytest fixture parametrized over :func:`available_backends`."""
        return request.param

except ImportError:  # pragma: no cover
    pass
