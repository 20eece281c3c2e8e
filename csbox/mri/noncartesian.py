r"""Non-Cartesian SENSE: coil sensitivities followed by one batched NUFFT, with a Toeplitz normal.

.. math:: y_c = A (S_c x), \qquad c = 1..C, \qquad
          E^H E x = \sum_c \bar S_c\, T(S_c x),

with ``A`` the :class:`~csbox.operators.NUFFT` of the trajectory and ``T = A^H W A`` its
Toeplitz embedding (``W`` optional sample weights): the normal operator applies ``C``
FFT pairs on the ``2n`` grid, all coils in one batched call, and never grids.

References
----------
K. P. Pruessmann, M. Weiger, P. Börnert, P. Boesiger, "Advances in sensitivity encoding
with arbitrary k-space trajectories", MRM 46(4), 2001. J. A. Fessler et al., "Toeplitz-based
iterative image reconstruction for MRI with correction for magnetic field inhomogeneity",
IEEE TSP 53(9), 2005.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_array
from ..backend import ArrayCache, array_namespace, to_numpy
from ..linop import LinearOperator
from ..operators.nufft import NUFFT

__all__ = ["NonCartesianSense"]

Array = Any


class NonCartesianSense(LinearOperator):
    """SENSE encoding on a non-Cartesian trajectory: ``x -> [NUFFT(S_c x)]_c``.

    Parameters
    ----------
    maps : array, shape (n_coils, *image_shape)
        Coil sensitivities (any namespace; moved once per input namespace/device/precision).
    coords : array, shape (..., d)
        Trajectory in grid units (:class:`~csbox.operators.NUFFT` convention), ``d = len(image_shape)``.
    eps : float
        NUFFT accuracy.
    impl : str
        NUFFT engine (see :class:`~csbox.operators.NUFFT`).

    Notes
    -----
    Inputs ``(..., *image_shape)`` map to ``(..., n_coils, *coords.shape[:-1])``; every
    coil (and every leading slice or frame) goes through one batched NUFFT call.
    ``normal(weights)`` is ``E^H W E`` by Toeplitz embedding.
    """

    def __init__(self, maps: Array, coords: Any, eps: float = 1e-6, *, impl: str = "auto"):
        maps = check_array("maps", maps, min_ndim=2)
        shape = tuple(int(s) for s in maps.shape[1:])
        self.nufft = NUFFT(shape, coords, eps, impl=impl)
        self.n_coils = int(maps.shape[0])
        super().__init__(shape, (self.n_coils, *self.nufft.oshape), "complex128")
        self.maps = maps
        self._maps = ArrayCache(maps)
        self._conj = ArrayCache(to_numpy(maps).conj())
        self._normals: dict[Any, LinearOperator] = {}

    def __repr__(self) -> str:
        return f"<NonCartesianSense {self.oshape} <- {self.ishape}, {self.n_coils} coils>"

    def _coil_axis(self) -> int:
        return -len(self.ishape) - 1

    def _apply(self, x: Array) -> Array:
        x = self._as_out_dtype(x)
        xp = array_namespace(x)
        return self.nufft._apply(xp.expand_dims(x, axis=self._coil_axis()) * self._maps.like(x, x.dtype))

    def _adjoint(self, y: Array) -> Array:
        y = self._as_out_dtype(y)
        xp = array_namespace(y)
        z = self.nufft._adjoint(y)
        return xp.sum(z * self._conj.like(z, z.dtype), axis=self._coil_axis())

    def normal(self, weights: Any = None) -> LinearOperator:
        """``E^H W E = sum_c conj(S_c) T_W (S_c x)``, ``T_W`` the NUFFT's Toeplitz normal (cached)."""
        key = None if weights is None else np.asarray(to_numpy(weights), dtype=np.float64).tobytes()
        if key not in self._normals:
            self._normals.clear()
            self._normals[key] = _SenseToeplitz(self, self.nufft.normal(weights))
        return self._normals[key]


class _SenseToeplitz(LinearOperator):
    def __init__(self, op: NonCartesianSense, T: LinearOperator):
        super().__init__(op.ishape, op.ishape, "complex128")
        self.op, self.T = op, T

    @property
    def name(self) -> str:
        return f"{self.op.name}.normal"

    def _apply(self, x: Array) -> Array:
        x = self._as_out_dtype(x)
        xp = array_namespace(x)
        ax = self.op._coil_axis()
        s = xp.expand_dims(x, axis=ax) * self.op._maps.like(x, x.dtype)
        z = self.T._apply(s)
        return xp.sum(z * self.op._conj.like(z, z.dtype), axis=ax)

    _adjoint = _apply

    def _make_adjoint(self) -> LinearOperator:
        return self
