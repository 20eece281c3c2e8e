"""Input validation: the one place every public entry point checks its arguments.

Each check raises ``TypeError`` (wrong kind) or ``ValueError`` (wrong value)
with a message that names the argument, what it got and what it needs. The
checks never convert silently: integers and booleans are cast to the working
float type only by :func:`check_array` with ``cast_int=True``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .backend import Array, array_namespace, to_numpy

__all__ = [
    "check_array",
    "check_axes",
    "check_bool",
    "check_choice",
    "check_coords",
    "check_int",
    "check_memory",
    "check_same_namespace",
    "check_scalar",
    "check_seed",
    "check_shape",
]


def _is_int(v: Any) -> bool:
    """A Python or NumPy integer, or a 0-d NumPy integer array (``np.load`` gives those); not a bool."""
    if isinstance(v, (bool, np.bool_)):
        return False
    if isinstance(v, np.ndarray):
        return v.ndim == 0 and v.dtype.kind in "iu"
    return isinstance(v, numbers.Integral)


def _int_sequence(v: Any) -> Any:
    """A 1-D NumPy integer array as a tuple of ints (``np.array(img.shape)``); anything else unchanged."""
    if isinstance(v, np.ndarray) and v.ndim == 1 and v.dtype.kind in "iu":
        return tuple(int(s) for s in v)
    return v


def check_int(name: str, v: Any, *, low: int | None = None, high: int | None = None) -> int:
    """An integer (Python or NumPy, or a 0-d NumPy integer array) in ``[low, high]``; returns a Python int.

    Booleans and floats (even integral ones such as ``8.0``) are rejected with ``TypeError``.
    """
    if not _is_int(v):
        raise TypeError(f"{name} must be an int, got {type(v).__name__} {v!r}")
    v = int(v)
    if low is not None and v < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    if high is not None and v > high:
        raise ValueError(f"{name} must be <= {high}, got {v}")
    return v


def check_scalar(
    name: str,
    v: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """A real finite number in the given interval; returns a Python float.

    ``low_open``/``high_open`` exclude the bounds (``low=0, low_open=True``: strictly positive).
    """
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(v).__name__} {v!r}")
    v = float(v)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {v!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {v!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {v!r}")
    return v


def check_bool(name: str, v: Any) -> bool:
    """A flag: ``True``/``False`` or a NumPy bool; returns a Python bool (``"no"`` or ``2`` is not a flag)."""
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(v).__name__} {v!r}")
    return bool(v)


def check_seed(name: str, v: Any) -> int | None:
    """A seed for ``numpy.random.default_rng``: ``None`` or an int ``>= 0``."""
    return None if v is None else check_int(name, v, low=0)


def check_choice(name: str, v: Any, choices: Sequence[str]) -> str:
    """One of the strings in ``choices``."""
    if not isinstance(v, str) or v not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {v!r}")
    return v


def check_shape(
    name: str, shape: Any, *, ndim: int | None = None, allow_zero: bool = False
) -> tuple[int, ...]:
    """A shape: an int or a sequence of ints (NumPy ints accepted), each positive.

    Floats, strings and booleans are rejected, never truncated. A 1-D NumPy integer array is a sequence.
    """
    shape = _int_sequence(shape)
    if _is_int(shape):
        shape = (shape,)
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise TypeError(f"{name} must be an int or a sequence of ints, got {type(shape).__name__} {shape!r}")
    out = []
    for s in shape:
        if not _is_int(s):
            raise TypeError(f"{name} must contain ints only, got {type(s).__name__} {s!r} in {shape!r}")
        s = int(s)
        if s < 0 or (s == 0 and not allow_zero):
            raise ValueError(f"{name} must contain {'non-negative' if allow_zero else 'positive'} sizes, "
                             f"got {tuple(shape)!r}")
        out.append(s)
    if ndim is not None and len(out) != ndim:
        raise ValueError(f"{name} must have {ndim} entries, got {tuple(out)!r}")
    return tuple(out)


def check_axes(name: str, axes: Any, ndim: int, *, allow_empty: bool = False) -> tuple[int, ...]:
    """Axes of an ``ndim``-dimensional shape: ints in ``[-ndim, ndim)``, distinct; returned non-negative."""
    axes = _int_sequence(axes)
    if _is_int(axes):
        axes = (axes,)
    if isinstance(axes, (str, bytes)) or not isinstance(axes, Sequence):
        raise TypeError(f"{name} must be an int or a sequence of ints, got {type(axes).__name__} {axes!r}")
    out = []
    for a in axes:
        if not _is_int(a):
            raise TypeError(f"{name} must contain ints only, got {type(a).__name__} {a!r}")
        if not -ndim <= int(a) < ndim:
            raise ValueError(f"{name} has axis {a} out of range for {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name} must be distinct axes, got {tuple(axes)!r}")
    if not out and not allow_empty:
        raise ValueError(f"{name} must name at least one axis")
    return tuple(out)


def check_array(
    name: str,
    x: Any,
    *,
    ndim: int | None = None,
    min_ndim: int | None = None,
    shape: tuple[int | None, ...] | None = None,
    finite: bool = True,
    nonempty: bool = True,
    complex_ok: bool = True,
    cast_int: bool = True,
) -> Array:
    """An array of floating (or complex) values; integers/booleans cast to float64 when ``cast_int``.

    ``shape`` may hold ``None`` for free sizes and is matched against the
    trailing axes. float16 is rejected (too few digits for the solvers).
    """
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{name} must be an array, got {type(x).__name__}")
    xp = array_namespace(x)
    if getattr(x.dtype, "itemsize", 8) == 2 or str(x.dtype).endswith("float16"):
        raise TypeError(f"{name} has dtype float16; use float32 or float64")
    if xp.isdtype(x.dtype, ("integral", "bool")):
        if not cast_int:
            raise TypeError(f"{name} must be a floating array, got dtype {x.dtype}")
        x = xp.astype(x, xp.float64)
    elif not xp.isdtype(x.dtype, ("real floating", "complex floating")):
        raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
    if not complex_ok and xp.isdtype(x.dtype, "complex floating"):
        raise TypeError(f"{name} must be real, got dtype {x.dtype}")
    if ndim is not None and x.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(x.shape)}")
    if min_ndim is not None and x.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} axes, got shape {tuple(x.shape)}")
    if shape is not None:
        tail = tuple(x.shape[x.ndim - len(shape):]) if x.ndim >= len(shape) else None
        if tail is None or any(s is not None and s != t for s, t in zip(shape, tail, strict=True)):
            want = tuple("*" if s is None else s for s in shape)
            want_s = ", ".join(map(str, want))
            raise ValueError(f"{name} has shape {tuple(x.shape)}, expected (..., {want_s})")
    if nonempty and 0 in tuple(x.shape):
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
    if finite and not bool(to_numpy(xp.all(xp.isfinite(x)))):
        raise ValueError(f"{name} contains NaN or Inf")
    return x


def check_same_namespace(**arrays: Any) -> Any:
    """The shared namespace of the named arrays; ``TypeError`` naming the one that differs."""
    named = [(k, v) for k, v in arrays.items() if v is not None and hasattr(v, "shape")]
    if not named:
        return array_namespace()
    first_name, first = named[0]
    xp = array_namespace(first)
    for k, v in named[1:]:
        if array_namespace(v) is not xp:
            raise TypeError(
                f"{k} comes from {type(v).__module__}, but {first_name} from {type(first).__module__}; "
                "give all arrays in one namespace"
            )
    return xp


def _available_memory() -> int:
    """Bytes of memory available now (``/proc/meminfo`` MemAvailable, else physical memory)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def check_memory(name: str, n_elements: float, itemsize: int = 16, *, fraction: float = 0.8) -> None:
    """Raise ``ValueError`` before allocating ``n_elements`` items that cannot fit in memory.

    Parameters
    ----------
    name : str
        What is being allocated (named in the message).
    n_elements : float
        Number of array elements (a float so overflowing products are fine).
    itemsize : int
        Bytes per element (16 for complex128).
    fraction : float
        Fraction of the available memory one allocation may take.
    """
    need = float(n_elements) * itemsize
    avail = _available_memory()
    if need > fraction * avail:
        raise ValueError(
            f"{name} needs {_fmt_bytes(need)} but only {_fmt_bytes(avail)} of memory is available; "
            "reduce the size"
        )


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover


def as_numpy_mask(name: str, mask: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """A boolean NumPy mask (from any array or nested list), optionally of a given shape."""
    m = to_numpy(mask) if hasattr(mask, "shape") else np.asarray(mask)
    if m.dtype != bool:
        if m.dtype.kind not in "biuf" or not np.all((m == 0) | (m == 1)):
            raise TypeError(f"{name} must be a boolean mask (or 0/1 values), got dtype {m.dtype}")
        m = m.astype(bool)
    if shape is not None and m.shape != tuple(shape):
        raise ValueError(f"{name} has shape {m.shape}, expected {tuple(shape)}")
    return m


def check_coords(coords: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Non-Cartesian k-space coordinates ``(..., d)`` in grid units ``[-n/2, n/2]`` as host float64."""
    if not hasattr(coords, "shape"):
        coords = np.asarray(coords)
    c = to_numpy(coords)
    if c.dtype.kind not in "fiu":
        raise TypeError(f"coords must be a real array, got dtype {c.dtype}")
    d = len(shape)
    if c.ndim < 2 or c.shape[-1] != d:
        raise ValueError(f"coords must have shape (..., {d}) for a {d}-d image, got {c.shape}")
    if c.size == 0:
        raise ValueError(f"coords is empty (shape {c.shape})")
    c = np.asarray(c, dtype=np.float64)
    if not np.all(np.isfinite(c)):
        raise ValueError("coords contains NaN or Inf")
    half = np.asarray(shape, dtype=np.float64) / 2
    bad = (c < -half) | (c > half)
    if np.any(bad):
        a = int(np.nonzero(bad)[-1][0])
        raise ValueError(
            f"coords on axis {a} must lie in [-n/2, n/2] = [{-half[a]:g}, {half[a]:g}] (grid units), "
            f"got values in [{c[..., a].min():g}, {c[..., a].max():g}]"
        )
    return c
