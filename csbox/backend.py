"""Array-namespace helpers: the only module that knows about NumPy, CuPy or torch specifics.

Everything numerical in csbox is written against the Python array API standard.
This module supplies the namespace of an input (:func:`array_namespace`), its
device (:func:`device`), the conversion back to NumPy at the edges
(:func:`to_numpy`), moving constant arrays (masks, filters, matrices) onto the
namespace/device/precision of an input once and caching them
(:class:`ArrayCache`), and the FFT dispatch (:func:`fftn`, :func:`ifftn`):
``scipy.fft`` with all workers on NumPy, ``cupyx.scipy.fft`` on CuPy and the
namespace's own ``xp.fft`` everywhere else.

CuPy and torch are optional: nothing here imports them unless an input array
already comes from them.
"""

from __future__ import annotations

import os
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "ArrayCache",
    "array_namespace",
    "complex_dtype",
    "device",
    "fftn",
    "fftshift",
    "ifftn",
    "ifftshift",
    "is_complex",
    "is_numpy",
    "real_dtype",
    "result_dtype",
    "to_numpy",
]

Array = Any
_WORKERS = int(os.environ.get("CSBOX_FFT_WORKERS", "-1"))


def array_namespace(*arrays: Array) -> Any:
    """Return the array-API namespace shared by ``arrays`` (NumPy wrapped by array-api-compat).

    Python scalars and ``None`` are ignored. Arrays from different libraries
    raise ``TypeError``.
    """
    arrs = [a for a in arrays if a is not None and not isinstance(a, (int, float, complex))]
    if not arrs:
        return array_api_compat.array_namespace(np.empty(0))
    return array_api_compat.array_namespace(*arrs)


def device(x: Array) -> Any:
    """Device on which ``x`` lives (``"cpu"`` for NumPy)."""
    return array_api_compat.device(x)


def is_numpy(xp: Any) -> bool:
    """True when ``xp`` is NumPy (bare or wrapped by array-api-compat)."""
    return array_api_compat.is_numpy_namespace(xp)


def _is_cupy(xp: Any) -> bool:
    return array_api_compat.is_cupy_namespace(xp)


def to_numpy(x: Array) -> np.ndarray:
    """Copy ``x`` to a NumPy array on the host (the edge of csbox: plotting, I/O, tests)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (int, float, complex, np.generic)):
        return np.asarray(x)
    if array_api_compat.is_cupy_array(x):
        return x.get()
    if array_api_compat.is_torch_array(x):
        return x.detach().cpu().resolve_conj().numpy()
    mod = type(x).__module__
    if mod.startswith("array_api_strict"):
        import array_api_strict

        x = x.to_device(array_api_strict.Device("CPU_DEVICE"))
        return np.from_dlpack(x)
    try:
        return np.from_dlpack(x)
    except Exception:  # fall back for objects without a CPU DLPack export
        return np.asarray(x)


# ----------------------------------------------------------------------------- dtypes
def is_complex(xp: Any, dtype: Any) -> bool:
    """True for a complex floating dtype of namespace ``xp``."""
    return xp.isdtype(dtype, "complex floating")


def real_dtype(xp: Any, dtype: Any) -> Any:
    """Real floating dtype of the same precision as ``dtype``."""
    if dtype in (xp.complex64, xp.float32):
        return xp.float32
    return xp.float64


def complex_dtype(xp: Any, dtype: Any) -> Any:
    """Complex dtype of the same precision as ``dtype``."""
    if dtype in (xp.complex64, xp.float32):
        return xp.complex64
    return xp.complex128


def result_dtype(xp: Any, dtype: Any, complex_op: bool) -> Any:
    """Floating dtype of an operator's output for an input of ``dtype``.

    A complex operator (``complex_op``) promotes a real input to the complex dtype
    of the same precision; a real operator keeps the input's dtype.
    """
    if not xp.isdtype(dtype, ("real floating", "complex floating")):
        raise TypeError(f"expected a floating or complex array, got dtype {dtype}")
    return complex_dtype(xp, dtype) if complex_op else dtype


def _dtype_key(dtype: Any) -> str:
    return str(dtype)


class ArrayCache:
    """A constant array (NumPy or any namespace) moved once per namespace, device and dtype.

    Operators hold their masks, filters and matrices as NumPy arrays (or as the
    user gave them) and call :meth:`like` with the input being processed; the
    converted array is created on the input's device and cached, so a mask is
    copied to the GPU once, not at every application.

    Parameters
    ----------
    value : array
        The constant. A NumPy array, or an array of any array-API namespace.
    """

    def __init__(self, value: Array):
        self.value = value
        self._cache: dict[tuple, Array] = {}

    def like(self, x: Array, dtype: Any = None) -> Array:
        """Return the constant in ``x``'s namespace and device, cast to ``dtype`` if given."""
        xp = array_namespace(x)
        dev = device(x)
        key = (xp.__name__, str(dev), _dtype_key(dtype))
        arr = self._cache.get(key)
        if arr is None:
            arr = _move(self.value, xp, dev)
            if dtype is not None and arr.dtype != dtype:
                arr = xp.astype(arr, dtype)
            if len(self._cache) > 16:
                self._cache.clear()
            self._cache[key] = arr
        return arr


def _move(value: Array, xp: Any, dev: Any) -> Array:
    """Create ``value`` as an array of namespace ``xp`` on device ``dev``."""
    try:
        src_xp = array_namespace(value)
    except TypeError:
        src_xp = None
    if src_xp is not None and src_xp.__name__ == xp.__name__:
        if str(device(value)) == str(dev):
            return value
        return array_api_compat.to_device(value, dev)
    host = to_numpy(value)
    if _is_cupy(xp):
        return xp.asarray(host)
    return xp.asarray(host, device=dev)


# ----------------------------------------------------------------------------- FFT dispatch
def _fft_module(xp: Any) -> tuple[Any, dict]:
    """FFT implementation for ``xp`` and the extra keyword arguments it takes."""
    if is_numpy(xp):
        import scipy.fft

        return scipy.fft, {"workers": _WORKERS}
    if _is_cupy(xp):
        try:
            import cupyx.scipy.fft as cufft

            return cufft, {}
        except ImportError:  # pragma: no cover - CuPy without cupyx
            pass
    return xp.fft, {}


def fftn(x: Array, axes: tuple[int, ...], norm: str = "ortho") -> Array:
    """N-d FFT of a complex array over ``axes`` with the fastest implementation for its namespace."""
    xp = array_namespace(x)
    mod, kw = _fft_module(xp)
    return mod.fftn(x, axes=axes, norm=norm, **kw)


def ifftn(x: Array, axes: tuple[int, ...], norm: str = "ortho") -> Array:
    """Inverse N-d FFT, dispatched like :func:`fftn`."""
    xp = array_namespace(x)
    mod, kw = _fft_module(xp)
    return mod.ifftn(x, axes=axes, norm=norm, **kw)


def fftshift(x: Array, axes: tuple[int, ...]) -> Array:
    """Move the zero frequency to the centre along ``axes``."""
    xp = array_namespace(x)
    return xp.roll(x, tuple(x.shape[a] // 2 for a in axes), axis=axes)


def ifftshift(x: Array, axes: tuple[int, ...]) -> Array:
    """Inverse of :func:`fftshift`."""
    xp = array_namespace(x)
    return xp.roll(x, tuple(-(x.shape[a] // 2) for a in axes), axis=axes)


# ----------------------------------------------------------------------------- selection and sparse
def topk_indices(x: Array, k: int) -> Array:
    """Flat indices of the ``k`` largest entries of ``x`` (any order).

    ``argpartition`` on NumPy and CuPy (O(size)), ``torch.topk`` on torch, a
    full ``argsort`` on other namespaces.
    """
    xp = array_namespace(x)
    flat = xp.reshape(x, (-1,))
    k = int(min(max(k, 1), flat.shape[0]))
    if is_numpy(xp) or _is_cupy(xp):
        mod = np if is_numpy(xp) else __import__("cupy")
        return mod.argpartition(flat, flat.shape[0] - k)[flat.shape[0] - k :]
    if array_api_compat.is_torch_namespace(xp):
        return __import__("torch").topk(flat, k, sorted=False).indices
    return xp.argsort(flat, descending=True)[:k]


class SparseMatrix:
    """A sparse ``(n, m)`` matrix from COO ``(rows, cols, vals)`` with ``matvec`` and ``rmatvec``.

    ``scipy.sparse`` CSR on NumPy, ``cupyx.scipy.sparse`` on CuPy, torch's
    sparse COO on torch; on other namespaces a dense matrix built by a
    one-hot product (array-API only, ``O(n m)`` per product).
    """

    def __init__(self, rows: Array, cols: Array, vals: Array, shape: tuple[int, int]):
        xp = array_namespace(vals)
        self.shape = shape
        self.nnz = int(vals.shape[0])
        self._kind = "dense"
        if is_numpy(xp):
            import scipy.sparse

            self._S = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=shape)
            self._ST = self._S.T.tocsr()
            self._kind = "scipy"
        elif _is_cupy(xp):
            import cupyx.scipy.sparse as cusp

            self._S = cusp.coo_matrix((vals, (rows, cols)), shape=shape).tocsr()
            self._ST = self._S.T.tocsr()
            self._kind = "cupy"
        elif array_api_compat.is_torch_namespace(xp):
            import torch

            idx = torch.stack([rows, cols])
            kw = {"check_invariants": False}
            self._S = torch.sparse_coo_tensor(idx, vals, shape, **kw).coalesce()
            self._ST = torch.sparse_coo_tensor(idx.flip(0), vals, shape[::-1], **kw).coalesce()
            self._kind = "torch"
        else:
            n, m = shape
            dev = device(vals)
            flat = rows * m + cols
            dense = xp.zeros((n * m,), dtype=vals.dtype, device=dev)
            # scatter by a gather: position of each flat index in the COO list (indices are distinct)
            order = xp.argsort(flat)
            sorted_flat = xp.take(flat, order)
            pos = xp.searchsorted(sorted_flat, xp.arange(n * m, dtype=flat.dtype, device=dev))
            pos = xp.clip(pos, max=flat.shape[0] - 1)
            hit = xp.take(sorted_flat, pos) == xp.arange(n * m, dtype=flat.dtype, device=dev)
            picked = xp.take(xp.take(vals, order), pos)
            dense = xp.where(hit, picked, dense)
            self._S = xp.reshape(dense, (n, m))
            self._ST = xp.matrix_transpose(self._S)

    def matvec(self, v: Array) -> Array:
        """``S v``."""
        return self._S @ v

    def rmatvec(self, v: Array) -> Array:
        """``S^T v``."""
        return self._ST @ v

    def rmatvec_conj(self, v: Array) -> Array:
        """``S^H v = conj(S^T conj(v))``."""
        xp = array_namespace(v)
        return xp.conj(self._ST @ xp.conj(v))


# ----------------------------------------------------------------------------- discovery
def available_backends() -> dict[str, str]:
    """Names and versions of the array libraries that import cleanly (for ``csbox info``)."""
    found = {"numpy": np.__version__}
    for name in ("array_api_strict", "torch", "cupy"):
        try:
            mod = __import__(name)
            found[name] = getattr(mod, "__version__", "?")
        except Exception:  # broken installs must not break csbox
            continue
    return found


def gpu_devices() -> list[str]:
    """Human-readable names of GPUs visible to CuPy or torch (empty when none)."""
    names: list[str] = []
    try:
        import cupy

        for i in range(cupy.cuda.runtime.getDeviceCount()):
            props = cupy.cuda.runtime.getDeviceProperties(i)
            names.append(f"cupy:{i} {props['name'].decode()}")
    except Exception:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                names.append(f"torch:cuda:{i} {torch.cuda.get_device_name(i)}")
    except Exception:
        pass
    return names


def scalar(x: Array) -> float:
    """Synchronise a 0-d array to a Python float (the one place a device sync happens)."""
    return float(to_numpy(x)) if not isinstance(x, (int, float)) else float(x)
