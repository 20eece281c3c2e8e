r"""Simple convex penalties: Tikhonov, box indicator, group l2,1.

- :class:`Tikhonov`: ``(lam / 2) ||x||^2``, prox ``v / (1 + s lam)``;
- :class:`Indicator`: ``0`` on the box ``low <= x <= high`` (non-negativity:
  ``Indicator(low=0)``), ``+inf`` outside; prox: the projection (clipping);
- :class:`GroupL21`: ``lam sum_g ||x_g||_2`` over groups along ``axis`` (the
  isotropic TV of a gradient field is ``GroupL21`` over its stacked axis);
  prox: block soft thresholding ``x_g max(1 - s lam / ||x_g||, 0)``.
"""

from __future__ import annotations

import math
from typing import Any

from .._validation import check_scalar
from ..backend import Array, array_namespace, device
from .base import Penalty

__all__ = ["GroupL21", "Indicator", "Tikhonov"]


class Tikhonov(Penalty):
    """``(lam / 2) ||x||_2^2`` (ridge / Tikhonov); prox ``v / (1 + step lam)``.

    A quadratic penalty: :func:`csbox.reconstruct` solves a problem whose only
    penalty is ``Tikhonov(d)`` by :func:`~csbox.solvers.cg` with ``damp=d``.

    Parameters
    ----------
    lam : float, default 1.0
        Weight ``lam``, finite and ``>= 0`` (``TypeError`` for a non-number, ``ValueError``
        otherwise); :func:`~csbox.solvers.fista` given ``lam=`` or ``lam_rel=`` replaces it.
    """

    separable = True
    quadratic = True

    def _prox(self, v: Array, t: float) -> Array:
        return v / (1.0 + t)

    def _value(self, x: Array) -> Array:
        xp = array_namespace(x)
        return 0.5 * xp.sum(xp.real(xp.conj(x) * x))


class Indicator(Penalty):
    """Indicator of the box ``low <= x <= high`` (``+inf`` outside); prox: clipping.

    Parameters
    ----------
    low, high : float or None
        Bounds (``None``: unbounded on that side); ``Indicator(low=0)`` is
        non-negativity. Real arrays only (a box has no meaning for complex values).

    Notes
    -----
    ``lam`` has no effect (``lam`` times an indicator is the indicator); it is
    kept at 1. ``value`` is 0 inside the box (with a relative slack of
    ``1e-12`` of the bound scale, for rounding) and ``inf`` outside.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import Indicator
    >>> box = Indicator(0.0, 1.0)
    >>> box.prox(np.array([-1.0, 0.5, 2.0]))
    array([0. , 0.5, 1. ])
    >>> float(box.value(np.array([0.2, 0.9]))), float(box.value(np.array([1.5])))
    (0.0, inf)
    """

    separable = True

    def __init__(self, low: float | None = None, high: float | None = None):
        super().__init__(1.0)
        self.low = None if low is None else check_scalar("low", low)
        self.high = None if high is None else check_scalar("high", high)
        if self.low is None and self.high is None:
            raise ValueError("Indicator needs at least one of low and high")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low must be <= high, got low={self.low!r}, high={self.high!r}")

    def _check_real(self, x: Array) -> Any:
        xp = array_namespace(x)
        if xp.isdtype(x.dtype, "complex floating"):
            raise TypeError(f"Indicator of a box needs a real array, got dtype {x.dtype}")
        return xp

    def _prox(self, v: Array, t: float) -> Array:
        xp = self._check_real(v)
        return xp.clip(v, self.low, self.high)

    def value(self, x: Array) -> Array:
        """``0`` if ``low <= x <= high`` everywhere (to ``1e-12`` relative), else ``inf``.

        ``lam`` does not scale an indicator, so this is ``phi(x)`` itself.

        Parameters
        ----------
        x : array
            Real array.

        Returns
        -------
        array
            0-d array in ``x``'s namespace.
        """
        return self._value(x)

    def _value(self, x: Array) -> Array:
        xp = self._check_real(x)
        scale = max(abs(self.low or 0.0), abs(self.high or 0.0), 1.0)
        ok = xp.ones(x.shape, dtype=xp.bool, device=device(x))
        if self.low is not None:
            ok = ok & (x >= self.low - 1e-12 * scale)
        if self.high is not None:
            ok = ok & (x <= self.high + 1e-12 * scale)
        zero = xp.zeros((), dtype=x.dtype, device=device(x))
        return xp.where(xp.all(ok), zero, zero + math.inf)

    def with_lam(self, lam: float) -> Indicator:
        """A copy; ``lam`` is ignored since ``lam * indicator = indicator`` for ``lam > 0``.

        Parameters
        ----------
        lam : float
            Accepted for the :class:`Penalty` interface.

        Returns
        -------
        Indicator
        """
        return Indicator(self.low, self.high)

    def _params(self) -> str:
        return f"low={self.low}, high={self.high}"

    def __repr__(self) -> str:
        return f"Indicator(low={self.low}, high={self.high})"


class GroupL21(Penalty):
    """``lam sum_g ||x_g||_2``, the groups being the vectors along ``axis``.

    Parameters
    ----------
    lam : float
    axis : int or tuple of int
        Axis (axes) spanned by each group, e.g. the stacked axis of a gradient
        field (``axis=-3`` for the output of a 2-D :class:`~csbox.operators.Gradient`
        with batch axes in front) or the coil axis of a multi-coil image.
    """

    separable = False

    def __init__(self, lam: float = 1.0, axis: int | tuple[int, ...] = 0):
        super().__init__(lam)
        axes = (axis,) if isinstance(axis, int) and not isinstance(axis, bool) else axis
        if not isinstance(axes, tuple) or not axes or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in axes
        ):
            raise TypeError(f"axis must be an int or a non-empty tuple of ints, got {axis!r}")
        self.axis = axes

    def _norms(self, x: Array) -> Array:
        xp = array_namespace(x)
        for a in self.axis:
            if not -x.ndim <= a < x.ndim:
                raise ValueError(f"GroupL21: axis {a} out of range for an array of shape {tuple(x.shape)}")
        return xp.sqrt(xp.sum(xp.real(xp.conj(x) * x), axis=self.axis, keepdims=True))

    def _prox(self, v: Array, t: float) -> Array:
        if t == 0:
            return v
        xp = array_namespace(v)
        nrm = self._norms(v)
        ok = nrm > t
        scale = xp.where(ok, 1.0 - t / xp.where(ok, nrm, xp.ones_like(nrm)), xp.zeros_like(nrm))
        return v * scale

    def _value(self, x: Array) -> Array:
        xp = array_namespace(x)
        return xp.sum(self._norms(x))

    def _params(self) -> str:
        return f"axis={self.axis if len(self.axis) > 1 else self.axis[0]}"
