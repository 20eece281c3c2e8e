r"""Penalties as composable objects: ``prox``, ``value``, ``in_basis``.

A :class:`Penalty` is ``lam * phi(x)`` with its weight inside. Solvers take
penalty objects instead of flags (the design of SigPy's ``sigpy.prox`` and
SCICO's functionals):

.. math:: \operatorname{prox}_{s\,\lambda\phi}(v) = \arg\min_x \tfrac12\|x - v\|_2^2 + s\,\lambda\,\phi(x),

with ``s > 0`` the solver's step. ``P.in_basis(W)`` is the penalty of the
coefficients ``lam * phi(W x)`` for an orthonormal ``W`` (analysis = synthesis),
whose prox is ``W^H prox(W v)``; with ``cycle_spin=True`` the image is
circularly shifted by a random offset in ``[0, 2^level)`` per transformed axis
before the transform and back after (translation-invariant thresholding).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..backend import Array, array_namespace
from ..linop import LinearOperator

__all__ = ["InBasis", "Penalty"]


def _check_lam(lam: Any) -> float:
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.integer, np.floating)):
        raise TypeError(f"lam must be a real number, got {type(lam).__name__} {lam!r}")
    lam = float(lam)
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
    return lam


def _check_step(step: Any) -> float:
    if isinstance(step, bool) or not isinstance(step, (int, float, np.integer, np.floating)):
        raise TypeError(f"step must be a real number, got {type(step).__name__} {step!r}")
    step = float(step)
    if not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a finite number > 0, got {step!r}")
    return step


class Penalty:
    """Base class of ``lam * phi(x)``.

    Subclasses implement ``_prox(v, t)`` (the prox of ``t * phi`` with
    ``t = step * lam``, ``t >= 0``) and ``_value(x)`` (``phi(x)`` summed over
    all entries as a 0-d array), and set ``convex`` and ``separable``.

    Parameters
    ----------
    lam : float
        Weight ``>= 0``.
    """

    convex: bool = True
    separable: bool = True

    def __init__(self, lam: float = 1.0):
        self.lam = _check_lam(lam)

    # ---------------------------------------------------------------- the family's part
    def _prox(self, v: Array, t: float) -> Array:  # pragma: no cover - abstract
        raise NotImplementedError

    def _value(self, x: Array) -> Array:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---------------------------------------------------------------- public
    def prox(self, v: Array, step: float = 1.0) -> Array:
        """``argmin_x 0.5||x - v||^2 + step * lam * phi(x)`` (real or complex ``v``)."""
        return self._prox(v, _check_step(step) * self.lam)

    def value(self, x: Array) -> Array:
        """``lam * phi(x)`` summed over every entry, as a 0-d array in ``x``'s namespace."""
        return self.lam * self._value(x)

    def __call__(self, x: Array) -> Array:
        return self.value(x)

    def with_lam(self, lam: float) -> Penalty:
        """A copy with weight ``lam`` (same kind and parameters)."""
        out = object.__new__(type(self))
        out.__dict__.update(self.__dict__)
        out.lam = _check_lam(lam)
        return out

    def in_basis(self, W: LinearOperator, *, cycle_spin: bool = False, seed: int = 0) -> InBasis:
        """``lam * phi(W x)`` for an orthonormal transform ``W`` (e.g. :class:`~csbox.operators.Wavelet`)."""
        return InBasis(self, W, cycle_spin=cycle_spin, seed=seed)

    def _params(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self._params()
        return f"{type(self).__name__}(lam={self.lam:g}{', ' + extra if extra else ''})"


class InBasis(Penalty):
    """``lam * phi(W x)`` for an orthonormal ``W``: prox ``W^H prox(W v)``, optional cycle spinning.

    Parameters
    ----------
    penalty : Penalty
        The penalty on the coefficients (its ``lam`` is used).
    W : LinearOperator
        Orthonormal transform acting on the image (``W^H W = I``).
    cycle_spin : bool
        Random circular shifts in ``[0, 2^level)`` per transformed axis before
        each prox, undone after (``level`` and ``axes`` read from ``W`` where it
        has them, else 8 and all axes).
    seed : int
        Seed of the shifts.
    """

    def __init__(self, penalty: Penalty, W: LinearOperator, *, cycle_spin: bool = False, seed: int = 0):
        if not isinstance(penalty, Penalty):
            raise TypeError(f"penalty must be a Penalty, got {type(penalty).__name__}")
        if not isinstance(W, LinearOperator):
            raise TypeError(f"W must be a csbox LinearOperator, got {type(W).__name__}")
        self.penalty = penalty
        self.W = W
        self.cycle_spin = bool(cycle_spin)
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        nd = len(W.ishape)
        self.period = 2 ** int(getattr(W, "level", 3))
        self._axes = tuple(a - nd for a in getattr(W, "axes", range(nd)))
        self.convex = penalty.convex
        self.separable = False

    @property
    def lam(self) -> float:  # type: ignore[override]
        return self.penalty.lam

    @lam.setter
    def lam(self, value: float) -> None:  # with_lam sets it on the copy
        self.penalty = self.penalty.with_lam(value)

    def prox(self, v: Array, step: float = 1.0) -> Array:
        """Prox of ``step * lam * phi(W .)``: ``W^H prox_{step lam phi}(W v)``.

        Exact because ``W`` is orthonormal. With ``cycle_spin`` the image is
        circularly shifted by a random offset before the transform and shifted
        back after, which averages the shift-variance of a decimated wavelet over
        the iterations.

        Parameters
        ----------
        v : array, shape ``W.ishape``
            Point at which the prox is evaluated (real or complex).
        step : float
            Step ``> 0`` multiplying ``lam``.

        Returns
        -------
        array
            The prox, same shape, dtype and namespace as ``v``.
        """
        W = self.W
        """"""
        if not self.cycle_spin:
            return W._adjoint(self.penalty.prox(W._apply(v), step))
        xp = array_namespace(v)
        shift = tuple(int(s) for s in self._rng.integers(0, self.period, size=len(self._axes)))
        out = W._adjoint(self.penalty.prox(W._apply(xp.roll(v, shift, axis=self._axes)), step))
        return xp.roll(out, tuple(-s for s in shift), axis=self._axes)

    def value(self, x: Array) -> Array:
        """``lam * phi(W x)`` summed over every coefficient, as a 0-d array.

        Parameters
        ----------
        x : array, shape ``W.ishape``
            Image.

        Returns
        -------
        array
            0-d array in ``x``'s namespace.
        """
        return self.penalty.value(self.W._apply(x))

    def with_lam(self, lam: float) -> InBasis:
        """A copy with weight ``lam`` (same transform, cycle spinning and seed).

        Parameters
        ----------
        lam : float
            New weight ``>= 0``.

        Returns
        -------
        InBasis
        """
        return InBasis(self.penalty.with_lam(lam), self.W, cycle_spin=self.cycle_spin, seed=self.seed)

    def __repr__(self) -> str:
        cs = ", cycle_spin=True" if self.cycle_spin else ""
        return f"{self.penalty!r}.in_basis({self.W!r}{cs})"
