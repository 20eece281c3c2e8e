"""Sub-sampling of ultrasound data: keep some receive channels or some slow-time pulses."""

from __future__ import annotations

import numpy as np

from .._validation import as_numpy_mask, check_shape
from ..backend import Array, array_namespace
from ..linop import LinearOperator
from ..operators.basic import Restriction

__all__ = ["ChannelSubsampling", "SlowTimeSubsampling"]


class _AxisSubsampling(LinearOperator):
    """Keep the entries of one axis of ``shape`` where a boolean ``mask`` is True."""

    def __init__(self, shape: tuple[int, ...], mask: np.ndarray, axis: int):
        shape = check_shape("shape", shape)
        axis = axis % len(shape)
        m = as_numpy_mask("mask", mask)
        if m.shape != (shape[axis],):
            raise ValueError(
                f"mask must be a boolean array of shape ({shape[axis]},), got {m.dtype} {m.shape}"
            )
        self.mask = m
        view = [1] * len(shape)
        view[axis] = -1
        self._R = Restriction(shape, np.broadcast_to(m.reshape(view), shape))
        oshape = list(shape)
        oshape[axis] = int(m.sum())
        super().__init__(shape, tuple(oshape), "float64")

    def _apply(self, x: Array) -> Array:
        xp = array_namespace(x)
        y = self._R._apply(x)
        return xp.reshape(y, (*y.shape[:-1], *self.oshape))

    def _adjoint(self, y: Array) -> Array:
        xp = array_namespace(y)
        b = tuple(y.shape[: y.ndim - len(self.oshape)])
        return self._R._adjoint(xp.reshape(y, (*b, -1)))


class ChannelSubsampling(_AxisSubsampling):
    """Keep the receive elements where ``mask`` is True: ``(n_tx, n_elements, n_s) -> (n_tx, M, n_s)``.

    A real restriction (its adjoint zero-fills the dropped channels); leading batch axes pass through.

    Parameters
    ----------
    data_shape : tuple of 3 int
        ``(n_tx, n_elements, n_s)``, the channel-data shape (``ishape``).
    mask : array of bool (or 0/1), shape ``(n_elements,)``
        The kept elements, ``M = mask.sum() >= 1``.
    """

    def __init__(self, data_shape: tuple[int, int, int], mask: np.ndarray):
        super().__init__(check_shape("data_shape", data_shape, ndim=3), mask, axis=1)


class SlowTimeSubsampling(_AxisSubsampling):
    """Keep the slow-time pulses (last axis, length ``n_pulses``) where ``mask`` is True.

    A real restriction (its adjoint zero-fills the dropped pulses); leading batch axes pass through.

    Parameters
    ----------
    shape : tuple of int
        ``ishape``, e.g. ``(nz, nx, n_pulses)``; the last axis is slow time.
    mask : array of bool (or 0/1), shape ``(n_pulses,)``
        The kept pulses, at least one; ``oshape`` is ``shape`` with ``mask.sum()`` pulses.
    """

    def __init__(self, shape: tuple[int, ...], mask: np.ndarray):
        super().__init__(shape, mask, axis=-1)
