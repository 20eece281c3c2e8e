"""Array-namespace helpers: the only module that knows about NumPy, CuPy or torch specifics.

Everything numerical in csbox is written against the Python array API standard.
This module supplies the namespace of an input (:func:`array_namespace`), its
device (:func:`device`), the conversion back to NumPy at the edges
(:func:`to_numpy`), moving constant arrays (masks, filters, matrices) onto the
namespace/device/precision of an input once and caching them
(:class:`ArrayCache`, the one cache of csbox: also for objects built per namespace,
such as sparse matrices), and the FFT dispatch (:func:`fftn`, :func:`ifftn`):
``scipy.fft`` with all workers on NumPy, ``cupyx.scipy.fft`` on CuPy and the
namespace's own ``xp.fft`` everywhere else.

CuPy and torch are optional: nothing here imports them unless an input array
already comes from them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "Array",
    "ArrayCache",
    "TVDualKernel",
    "array_namespace",
    "as_real_pairs",
    "complex_dtype",
    "device",
    "fftn",
    "fftshift",
    "from_real_pairs",
    "ifftn",
    "ifftshift",
    "is_complex",
    "is_numpy",
    "real_dtype",
    "result_dtype",
    "to_numpy",
    "tv_dual_kernel",
]

#: Type of any array-API array (NumPy, CuPy, torch, array_api_strict, ...): the one alias csbox uses.
Array = Any
_WORKERS = int(os.environ.get("CSBOX_FFT_WORKERS", "-1"))


def array_namespace(*arrays: Array) -> Any:
    """Return the array-API namespace shared by ``arrays`` (NumPy wrapped by array-api-compat).

    Python scalars and ``None`` are ignored. Arrays from different libraries
    raise ``TypeError``.

    Parameters
    ----------
    *arrays : Array, Python scalar or None
        The arrays to inspect; with no array left after dropping scalars and
        ``None``, the wrapped NumPy namespace is returned.

    Returns
    -------
    module
        The array-API namespace (``array_api_compat.numpy`` for NumPy arrays).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.backend import array_namespace
    >>> xp = array_namespace(np.zeros(3))
    >>> float(xp.sum(xp.ones(3)))
    3.0
    """
    arrs = [a for a in arrays if a is not None and not isinstance(a, (int, float, complex))]
    if not arrs:
        return array_api_compat.array_namespace(np.empty(0))
    try:
        return array_api_compat.array_namespace(*arrs)
    except TypeError as e:
        kinds = ", ".join(sorted({type(a).__name__ for a in arrs}))
        msg = f"array_namespace: expected arrays of one array-API library, got {kinds} ({e})"
        raise TypeError(msg) from None


def device(x: Array) -> Any:
    """Device on which ``x`` lives (``"cpu"`` for NumPy).

    Parameters
    ----------
    x : Array
        Any array-API array.

    Returns
    -------
    object
        The namespace's device object (``array_api_compat.device(x)``).
    """
    if not hasattr(x, "shape"):
        raise TypeError(f"device: x must be an array, got {type(x).__name__}")
    return array_api_compat.device(x)


def is_numpy(xp: Any) -> bool:
    """True when ``xp`` is NumPy (bare or wrapped by array-api-compat).

    Parameters
    ----------
    xp : module
        An array namespace, e.g. from :func:`array_namespace`.

    Returns
    -------
    bool
        False for anything that is not a NumPy namespace (a string such as ``"numpy"`` included).
    """
    return isinstance(getattr(xp, "__name__", None), str) and array_api_compat.is_numpy_namespace(xp)


def is_cupy(xp: Any) -> bool:
    """True when ``xp`` is CuPy (bare or wrapped by array-api-compat)."""
    return array_api_compat.is_cupy_namespace(xp)


def to_numpy(x: Array) -> np.ndarray:
    """Copy ``x`` to a NumPy array on the host (the edge of csbox: plotting, I/O, tests).

    Parameters
    ----------
    x : Array, nested list of numbers, or Python/NumPy scalar
        NumPy (returned as is, no copy), CuPy, torch (detached, conjugation resolved),
        array_api_strict (moved to its CPU device) or any DLPack-exporting array. Another
        object (one NumPy could only wrap as an ``object`` array) raises ``TypeError``.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``x``; a 0-d array for a scalar.
    """
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
    except Exception:  # fall back for objects without a CPU DLPack export (lists, tuples)
        out = np.asarray(x)
    if out.dtype == object:
        raise TypeError(f"to_numpy: x must be an array, a nested list of numbers or a scalar, "
                        f"got {type(x).__name__}")
    return out


# ----------------------------------------------------------------------------- dtypes
def is_complex(xp: Any, dtype: Any) -> bool:
    """True for a complex floating dtype of namespace ``xp``.

    Parameters
    ----------
    xp : module
        The array namespace that ``dtype`` belongs to.
    dtype : dtype
        A dtype of ``xp``.

    Returns
    -------
    bool
    """
    return xp.isdtype(dtype, "complex floating")


def real_dtype(xp: Any, dtype: Any) -> Any:
    """Real floating dtype of the same precision as ``dtype``.

    Parameters
    ----------
    xp : module
        The array namespace that ``dtype`` belongs to.
    dtype : dtype
        A dtype of ``xp``.

    Returns
    -------
    dtype
        ``xp.float32`` for ``float32``/``complex64``, ``xp.float64`` for any other dtype.
    """
    _check_dtype(xp, dtype)
    if dtype in (xp.complex64, xp.float32):
        return xp.float32
    return xp.float64


def complex_dtype(xp: Any, dtype: Any) -> Any:
    """Complex dtype of the same precision as ``dtype``.

    Parameters
    ----------
    xp : module
        The array namespace that ``dtype`` belongs to.
    dtype : dtype
        A dtype of ``xp``.

    Returns
    -------
    dtype
        ``xp.complex64`` for ``float32``/``complex64``, ``xp.complex128`` for any other dtype.
    """
    _check_dtype(xp, dtype)
    if dtype in (xp.complex64, xp.float32):
        return xp.complex64
    return xp.complex128


def _check_dtype(xp: Any, dtype: Any) -> None:
    """``TypeError`` unless ``dtype`` is a dtype object of ``xp`` (a string such as ``"float32"`` is not)."""
    try:
        xp.isdtype(dtype, "numeric")
    except (TypeError, ValueError, AttributeError):
        msg = f"dtype must be a dtype of {_namespace_key(xp)} (e.g. xp.float32), got {dtype!r}"
        raise TypeError(msg) from None


def result_dtype(xp: Any, dtype: Any, complex_op: bool) -> Any:
    """Floating dtype of an operator's output for an input of ``dtype``.

    A complex operator (``complex_op``) promotes a real input to the complex dtype
    of the same precision; a real operator keeps the input's dtype.

    Parameters
    ----------
    xp : module
        The array namespace that ``dtype`` belongs to.
    dtype : dtype
        The input's dtype: real or complex floating, else ``TypeError``.
    complex_op : bool
        Whether the operator has complex coefficients.

    Returns
    -------
    dtype
    """
    if not xp.isdtype(dtype, ("real floating", "complex floating")):
        raise TypeError(f"expected a floating or complex array, got dtype {dtype}")
    return complex_dtype(xp, dtype) if complex_op else dtype


def _namespace_key(xp: Any) -> str:
    """A hashable name of namespace ``xp`` (the only place csbox reads ``xp.__name__``)."""
    return getattr(xp, "__name__", type(xp).__name__)


class ArrayCache:
    """A constant moved (or an object built) once per namespace, device and dtype.

    Operators hold their masks, filters and matrices as NumPy arrays (or as the
    user gave them) and call :meth:`like` with the input being processed; the
    converted array is created on the input's device and cached, so a mask is
    copied to the GPU once, not at every application. With ``build``, the
    cached object is ``build(x, dtype)`` instead (e.g. a sparse matrix on the
    input's namespace): every per-namespace cache in csbox is one of these.

    Parameters
    ----------
    value : array, optional
        The constant. A NumPy array, or an array of any array-API namespace.
    build : callable ``(x, dtype) -> object``, optional
        Builds the cached object for inputs like ``x`` (instead of moving ``value``).
    """

    _MAX_ENTRIES = 16

    def __init__(self, value: Array = None, *, build: Callable[[Array, Any], Any] | None = None):
        if (value is None) == (build is None):
            raise TypeError("ArrayCache needs exactly one of value or build")
        if build is not None and not callable(build):
            raise TypeError(f"ArrayCache: build must be a callable (x, dtype) -> object, "
                            f"got {type(build).__name__}")
        self.value = value
        self._build = build
        self._cache: dict[tuple, Any] = {}

    def like(self, x: Array, dtype: Any = None) -> Any:
        """The constant in ``x``'s namespace and device, cast to ``dtype`` if given (or the built object)."""
        xp = array_namespace(x)
        dev = device(x)
        key = (_namespace_key(xp), str(dev), str(dtype))
        arr = self._cache.get(key)
        if arr is None:
            if self._build is not None:
                arr = self._build(x, dtype)
            else:
                arr = _move(self.value, xp, dev)
                if dtype is not None and arr.dtype != dtype:
                    arr = xp.astype(arr, dtype)
            if len(self._cache) >= self._MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = arr
        return arr


def _move(value: Array, xp: Any, dev: Any) -> Array:
    """Create ``value`` as an array of namespace ``xp`` on device ``dev``."""
    try:
        src_xp = array_namespace(value)
    except TypeError:
        src_xp = None
    if src_xp is not None and _namespace_key(src_xp) == _namespace_key(xp):
        if str(device(value)) == str(dev):
            return value
        return array_api_compat.to_device(value, dev)
    host = to_numpy(value)
    if is_cupy(xp):
        return xp.asarray(host)
    return xp.asarray(host, device=dev)


# ----------------------------------------------------------------------------- FFT dispatch
def fft_module(xp: Any) -> tuple[Any, dict]:
    """FFT implementation for ``xp`` and the extra keyword arguments it takes."""
    if is_numpy(xp):
        import scipy.fft

        return scipy.fft, {"workers": _WORKERS}
    if is_cupy(xp):
        try:
            import cupyx.scipy.fft as cufft

            return cufft, {}
        except ImportError:  # pragma: no cover - CuPy without cupyx
            pass
    return xp.fft, {}


def fftn(x: Array, axes: tuple[int, ...], norm: str = "ortho") -> Array:
    """N-d FFT of a complex array over ``axes`` with the fastest implementation for its namespace.

    ``scipy.fft`` with ``CSBOX_FFT_WORKERS`` workers (default all cores) on NumPy, ``cupyx.scipy.fft``
    on CuPy, ``xp.fft`` elsewhere.

    Parameters
    ----------
    x : Array
        Complex array (cast a real one first: ``xp.fft`` of array_api_strict rejects it).
    axes : tuple of int
        Axes to transform.
    norm : {"ortho", "backward", "forward"}, default "ortho"
        Normalisation, as in ``numpy.fft.fftn``; ``"ortho"`` makes the transform unitary.

    Returns
    -------
    Array
        Same shape, dtype, namespace and device as ``x``.
    """
    xp = array_namespace(x)
    mod, kw = fft_module(xp)
    return mod.fftn(x, axes=axes, norm=norm, **kw)


def ifftn(x: Array, axes: tuple[int, ...], norm: str = "ortho") -> Array:
    """Inverse N-d FFT, dispatched like :func:`fftn`.

    Parameters
    ----------
    x, axes, norm
        As in :func:`fftn`.

    Returns
    -------
    Array
        Same shape, dtype, namespace and device as ``x``.
    """
    xp = array_namespace(x)
    mod, kw = fft_module(xp)
    return mod.ifftn(x, axes=axes, norm=norm, **kw)


def fftshift(x: Array, axes: tuple[int, ...]) -> Array:
    """Move the zero frequency to the centre along ``axes``.

    Parameters
    ----------
    x : Array
        Any array.
    axes : tuple of int
        Axes to shift; each is rolled by ``n // 2`` for its length ``n``.

    Returns
    -------
    Array
        Same shape, dtype and namespace as ``x``.
    """
    xp = array_namespace(x)
    axes = _shift_axes(axes, x)
    return xp.roll(x, tuple(x.shape[a] // 2 for a in axes), axis=axes)


def _shift_axes(axes: Any, x: Array) -> tuple[int, ...]:
    """``axes`` of ``x`` (an int or a sequence of ints, negative counted from the end), checked.

    The messages are those of ``csbox._validation.check_axes`` (which imports this module).
    """
    if not hasattr(x, "ndim"):
        raise TypeError(f"x must be an array, got {type(x).__name__}")
    if isinstance(axes, np.ndarray) and axes.ndim <= 1:
        axes = axes.tolist()
    seq = [axes] if isinstance(axes, (int, np.integer)) else axes
    if isinstance(seq, (str, bytes)) or not hasattr(seq, "__iter__"):
        raise TypeError(f"axes must be an int or a sequence of ints, got {type(axes).__name__} {axes!r}")
    out = []
    for a in seq:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"axes must be an int or a sequence of ints, got {type(a).__name__} {a!r}")
        if not -x.ndim <= int(a) < x.ndim:
            raise ValueError(f"axes has axis {a} out of range for {x.ndim} dimensions")
        out.append(int(a) % x.ndim)
    return tuple(out)


def ifftshift(x: Array, axes: tuple[int, ...]) -> Array:
    """Inverse of :func:`fftshift`.

    Parameters
    ----------
    x : Array
        Any array.
    axes : tuple of int
        Axes to shift; each is rolled by ``-(n // 2)`` for its length ``n``.

    Returns
    -------
    Array
        Same shape, dtype and namespace as ``x``.
    """
    xp = array_namespace(x)
    axes = _shift_axes(axes, x)
    return xp.roll(x, tuple(-(x.shape[a] // 2) for a in axes), axis=axes)




def as_real_pairs(x: Array) -> Array:
    """A complex ``x`` of shape ``S`` as a real array of shape ``(*S, 2)`` (real, imaginary).

    A view of the same memory on NumPy and torch (no copy); a stacked copy on
    other namespaces. Real-coefficient linear maps (filters, wavelets) act on
    the pairs with real arithmetic, half the work of complex products.

    Parameters
    ----------
    x : Array
        Complex array of shape ``S``.

    Returns
    -------
    Array
        Real array of shape ``(*S, 2)`` and matching precision (``float32`` for ``complex64``).
    """
    if not hasattr(x, "shape"):
        raise TypeError(f"as_real_pairs: x must be an array, got {type(x).__name__}")
    pair = {np.dtype(np.complex64): np.float32, np.dtype(np.complex128): np.float64}
    if array_api_compat.is_numpy_array(x) and x.flags.c_contiguous and x.dtype in pair:
        return x.view(pair[x.dtype]).reshape(*x.shape, 2)
    if array_api_compat.is_torch_array(x) and x.is_contiguous():
        import torch

        return torch.view_as_real(x)
    xp = array_namespace(x)
    return xp.stack([xp.real(x), xp.imag(x)], axis=-1)


def from_real_pairs(r: Array) -> Array:
    """Inverse of :func:`as_real_pairs`: ``r[..., 0] + 1j r[..., 1]`` (a view where the layout allows).

    Parameters
    ----------
    r : Array
        Real floating array of shape ``(*S, 2)``.

    Returns
    -------
    Array
        Complex array of shape ``S`` (``complex64`` for ``float32`` input).
    """
    if not hasattr(r, "shape") or r.ndim < 1 or r.shape[-1] != 2:
        raise ValueError(f"from_real_pairs: r must have a last axis of 2 (real, imaginary), got "
                         f"{getattr(r, 'shape', type(r).__name__)}")
    if not array_namespace(r).isdtype(r.dtype, "real floating"):
        raise TypeError(f"from_real_pairs: r must be a real floating array, got dtype {r.dtype}")
    if array_api_compat.is_numpy_array(r) and r.flags.c_contiguous and r.dtype in (np.float32, np.float64):
        return r.view(np.complex64 if r.dtype == np.float32 else np.complex128)[..., 0]
    if array_api_compat.is_torch_array(r) and r.is_contiguous():
        import torch

        return torch.view_as_complex(r)
    xp = array_namespace(r)
    return r[..., 0] + 1j * xp.astype(r[..., 1], complex_dtype(xp, r.dtype))


# ----------------------------------------------------------------------------- fused kernels (NumPy)
def _edge(ndim: int, axis: int, start: int | None, stop: int | None) -> tuple:
    idx = [slice(None)] * ndim
    idx[axis] = slice(start, stop)
    return tuple(idx)


def _sumsq_flat(a: np.ndarray) -> float:
    # einsum, not vdot: BLAS's threaded dot is 10-100x slower on a busy 2-core machine (measured)
    a = a.reshape(-1)
    return float(np.einsum("i,i->", a, a))


class TVDualKernel:
    r"""In-place NumPy kernel of one FGP step on the total-variation dual (Neumann differences).

    From the extrapolated dual ``r`` and the current dual ``q`` (fields of shape
    ``(len(axes), *b.shape)`` with ``|q_i| <= lam``), one step is

    .. math:: x = b - D^H r, \qquad w = P_\lambda(r + s\,D x), \qquad
              r \leftarrow w + c\,(w - q), \qquad q \leftarrow w,

    ``D`` the forward differences over ``axes`` (zero at the far edge), ``P_lam`` the
    projection onto ``{|q_i| <= lam}`` per pixel over the stacked components
    (isotropic) or per entry (anisotropic). Every operation is a ufunc call with
    ``out=`` on buffers allocated once, so a step allocates nothing; a complex image
    is held as its real and imaginary planes (the differences act on each plane, the
    norms take both), so every call runs on contiguous real arrays. The entries of
    each component at the far edge of its axis lie outside the range of ``D``: they
    are held at zero. Made by :func:`tv_dual_kernel`; used by
    :class:`csbox.penalties.FGP`.

    Parameters
    ----------
    b : numpy.ndarray
        The image (real or complex floating).
    axes : tuple of int
        Negative axes of ``b`` to difference.
    lam : float
        Radius of the dual ball, ``>= 0``.
    isotropic : bool
        Per-pixel Euclidean ball (True) or per-entry ball (False).
    step : float
        Gradient step ``s`` (``1 / ||D||^2`` bound).
    q0 : numpy.ndarray or None
        Starting dual, shaped ``(len(axes), *b.shape)``; projected on entry.
    """

    def __init__(self, b: np.ndarray, axes: tuple[int, ...], lam: float, isotropic: bool, step: float,
                 q0: np.ndarray | None = None):
        _check_kernel_args(b, axes, lam, isotropic, step)
        self.complex = np.iscomplexobj(b)
        self.dtype = b.dtype
        self.shape = tuple(b.shape)
        real = b.real.dtype
        self.b = np.stack([b.real, b.imag]) if self.complex else np.reshape(b, (1, *b.shape))
        self.bb = _sumsq_flat(self.b)
        self.lam, self.iso, self.s = float(lam), bool(isotropic), float(step)
        nd = self.b.ndim
        # (component, flat stride of its axis, index of the far edge) of each axis with a difference: on
        # C-ordered buffers a difference along any axis is one contiguous subtraction of the flattened
        # array shifted by the stride; it is wrong only at the far edge, which is zeroed after it
        self.active = [(i, math.prod(self.b.shape[nd + a + 1:]), _edge(nd, a, -1, None))
                       for i, a in enumerate(axes) if self.shape[a] > 1]
        k, planes = len(axes), self.b.shape[0]
        # one real entry per group (real anisotropic, or one differenced axis of a real image): an interval
        self.interval = planes == 1 and (not self.iso or len(self.active) <= 1)
        group = self.shape if self.iso else (k, *self.shape)
        self.m = np.empty(group, real)
        self.t = None if self.interval else np.empty(group, real)
        self.x = np.empty_like(self.b)
        self.q = np.zeros((k, *self.b.shape), real)
        if q0 is not None:
            self.q[:] = np.stack([q0.real, q0.imag], axis=1) if self.complex else np.reshape(q0, self.q.shape)
            self._zero_edges(self.q)
            self._project(self.q)
        self.r = self.q.copy() if q0 is not None else np.zeros_like(self.q)
        self.w = np.empty_like(self.q)
        self._zero_edges(self.w)  # the rest is written by each step before it is read

    def _zero_edges(self, g: np.ndarray) -> None:
        on = {i for i, _, _ in self.active}
        for i in range(g.shape[0]):
            if i not in on:
                g[i] = 0.0
        for i, _, edge in self.active:
            g[i][edge] = 0.0

    def _adjoint_into(self, out: np.ndarray, g: np.ndarray) -> None:
        """``out = b - D^H g`` (``(D^H g)_j = g_{j-1} - g_j``, ``g_{-1} = g_{n-1} = 0``).

        On the flattened arrays: ``g`` is zero at each far edge, so adding it there, or subtracting
        it one stride on across a block boundary, adds nothing."""
        np.copyto(out, self.b)
        of = out.reshape(-1)
        for i, st, _ in self.active:
            gf = g[i].reshape(-1)[:-st]
            np.add(of[:-st], gf, out=of[:-st])
            np.subtract(of[st:], gf, out=of[st:])

    def _diff_into(self, w: np.ndarray, x: np.ndarray) -> None:
        """``w_i = D_i x`` for the differenced components (the far edge of each zeroed after)."""
        xf = x.reshape(-1)
        for i, st, edge in self.active:
            np.subtract(xf[st:], xf[:-st], out=w[i].reshape(-1)[:-st])
            w[i][edge] = 0.0

    def _sumsq(self, w: np.ndarray) -> np.ndarray:
        """Sum of squares per group into ``self.m``: per pixel over components and planes (isotropic),
        per entry over the planes (anisotropic)."""
        m, t = self.m, self.t
        if self.iso:
            parts = [w[i, p] for i, _, _ in self.active for p in range(w.shape[1])]
            if not parts:
                m[...] = 0.0
                return m
            np.multiply(parts[0], parts[0], out=m)
            for v in parts[1:]:
                np.multiply(v, v, out=t)
                np.add(m, t, out=m)
            return m
        np.multiply(w[:, 0], w[:, 0], out=m)
        for p in range(1, w.shape[1]):
            np.multiply(w[:, p], w[:, p], out=t)
            np.add(m, t, out=m)
        return m

    def _project(self, w: np.ndarray) -> None:
        lam = self.lam
        if lam == 0:
            w[...] = 0.0
            return
        if self.interval:
            np.clip(w, -lam, lam, out=w)  # one real entry per group: the ball is an interval
            return
        m = self._sumsq(w)
        np.maximum(m, lam * lam, out=m)
        np.sqrt(m, out=m)
        np.divide(lam, m, out=m)
        np.multiply(w, m[:, None] if not self.iso else m, out=w)

    def step(self, c: float) -> None:
        """One projected gradient step from ``r``, then the extrapolation ``r = q + c (q - q_prev)``."""
        x, q, r, w = self.x, self.q, self.r, self.w
        self._adjoint_into(x, r)
        np.multiply(x, self.s, out=x)
        self._diff_into(w, x)
        for i, _, _ in self.active:
            np.add(w[i], r[i], out=w[i])
        self._project(w)
        if c == 0.0:
            np.copyto(r, w)
        else:
            np.subtract(w, q, out=r)
            np.multiply(r, c, out=r)
            np.add(r, w, out=r)
        self.q, self.w = w, q

    def primal(self) -> np.ndarray:
        """A new array ``x = b - D^H q`` (the primal point of the current dual), shaped and typed as ``b``."""
        x = np.empty_like(self.b)
        self._adjoint_into(x, self.q)
        return self._image(x)

    def _image(self, x: np.ndarray) -> np.ndarray:
        if self.complex:
            out = np.empty(self.shape, self.dtype)
            out.real, out.imag = x[0], x[1]
            return out
        return np.reshape(x, self.shape)

    def dual(self) -> np.ndarray:
        """The dual field ``q``, shaped ``(len(axes), *b.shape)`` with ``b``'s dtype (real ``b``: a view
        of the kernel's buffer, valid until the next :meth:`step`)."""
        if self.complex:
            out = np.empty((self.q.shape[0], *self.shape), self.dtype)
            out.real, out.imag = self.q[:, 0], self.q[:, 1]
            return out
        return np.reshape(self.q, (self.q.shape[0], *self.shape))

    def objectives(self, x: np.ndarray) -> tuple[float, float]:
        """Primal ``0.5||x - b||^2 + lam TV(x)`` at ``x`` (from :meth:`primal`) and the dual
        ``0.5||b||^2 - 0.5||b - D^H q||^2``; uses the scratch field, so call it between steps."""
        xr, w = self.x, self.w  # both scratch between steps
        if self.complex:
            xr[0], xr[1] = x.real, x.imag
        else:
            np.copyto(xr, np.reshape(x, xr.shape))
        xx = _sumsq_flat(xr)
        self._diff_into(w, xr)
        if self.interval:
            tv = float(np.sum(np.abs(w, out=w)))
        else:
            m = self._sumsq(w)
            tv = float(np.sum(np.sqrt(m, out=m)))
        np.subtract(xr, self.b, out=xr)
        fidelity = _sumsq_flat(xr)
        return 0.5 * fidelity + self.lam * tv, 0.5 * self.bb - 0.5 * xx


def _check_kernel_args(b: Any, axes: Any, lam: Any, isotropic: Any, step: Any) -> None:
    """FGP kernel arguments: negative in-range distinct axes, ``lam >= 0``, ``step > 0``, a bool flag."""
    ndim = len(getattr(b, "shape", ()))
    if (not isinstance(axes, tuple) or not axes or len(set(axes)) != len(axes)
            or any(isinstance(a, bool) or not isinstance(a, int) or not -ndim <= a < 0 for a in axes)):
        raise ValueError(f"axes must be distinct negative axes of b (ndim {ndim}), got {axes!r}")
    for name, v, low_ok in (("lam", lam, True), ("step", step, False)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0 or (
                v == 0 and not low_ok):
            raise ValueError(f"{name} must be a finite number {'>=' if low_ok else '>'} 0, got {v!r}")
    if not isinstance(isotropic, bool):
        raise TypeError(f"isotropic must be a bool, got {type(isotropic).__name__}")


def tv_dual_kernel(b: Array, axes: tuple[int, ...], lam: float, isotropic: bool, step: float,
                   q0: Array | None = None) -> TVDualKernel | None:
    """The fused NumPy kernel of FGP's step for ``b``, or None where it does not apply.

    It applies to NumPy arrays of a floating dtype (real or complex, 32 or 64 bits);
    every other namespace runs the generic array-API step.

    Parameters
    ----------
    b : Array
        The image.
    axes : tuple of int
        Negative axes of ``b`` to difference (Neumann boundary).
    lam, isotropic, step, q0
        As :class:`TVDualKernel`.

    Returns
    -------
    TVDualKernel or None
    """
    _check_kernel_args(b, tuple(axes) if isinstance(axes, (tuple, list)) else axes, lam, isotropic, step)
    if not isinstance(b, np.ndarray) or b.dtype not in (np.float32, np.float64, np.complex64, np.complex128):
        return None
    if q0 is not None and not isinstance(q0, np.ndarray):
        return None
    return TVDualKernel(b, tuple(axes), lam, isotropic, step, q0)
