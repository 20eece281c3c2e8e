r"""Thresholding (proximal) operators for sparse coding, beyond the l1 norm.

Each threshold is the proximal map of a separable penalty ``lam * phi(x)``
with step ``g``:

.. math:: \operatorname{prox}(u) = \arg\min_x \tfrac12 |x - u|^2 + g\,\lambda\,\phi(x),

applied to the magnitude of complex entries with the phase kept
(``prox(u) = e^{i\angle u} prox(|u|)``), which is the exact prox of
``phi(|x|)`` on complex numbers. All are written with array-API functions.

- ``soft`` (l1): ``phi = |x|``; ``prox = (m - g lam)_+`` on ``m = |u|``.
- ``hard`` (l0): ``phi = 1{x != 0}``; ``prox = m 1{m > sqrt(2 g lam)}``.
- ``half`` (l1/2): ``phi = |x|^{1/2}``; Xu et al. half thresholding (below).
- ``mcp`` (firm): minimax concave penalty with ``gamma > g``;
  ``prox = (m - g lam)_+ / (1 - g/gamma)`` for ``m <= gamma lam``, else ``m``.
- ``cel0``: CEL0 with column norms ``a_i``;
  ``prox = min(m, (m - sqrt(2 lam) g a_i)_+ / (1 - g a_i^2))``, needs ``g a_i^2 < 1``.

Half thresholding (Xu, Chang, Xu, Zhang 2012) for ``min_x (x-u)^2 + mu |x|^{1/2}``
with ``mu = 2 g lam``: zero unless ``m > (54^{1/3}/4) mu^{2/3}``, otherwise
``(2/3) m (1 + cos(2pi/3 - (2/3) phi))`` with ``phi = arccos((mu/8)(m/3)^{-3/2})``.

References
----------
Z. Xu, X. Chang, F. Xu, H. Zhang, "L1/2 regularization: a thresholding
representation theory and a fast solver", IEEE TNNLS 2012.
C.-H. Zhang, "Nearly unbiased variable selection under minimax concave
penalty", Ann. Stat. 2010; H.-Y. Gao, A. Bruce, "WaveShrink with firm
shrinkage", Stat. Sinica 1997.
E. Soubies, L. Blanc-Féraud, G. Aubert, "A continuous exact l0 penalty (CEL0)
for least squares regularized problem", SIAM J. Imaging Sci. 2015.
I. Rentzeperis, L. Calatroni, L. Perrinet, D. Prandi, "Beyond l1 sparse coding
in V1", PLoS Comput. Biol. 2023 (arXiv 2301.10002), which compares these
thresholds for sparse coding.
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_scalar
from ..backend import Array, ArrayCache, array_namespace, real_dtype, to_numpy
from .base import _check_step

__all__ = ["CEL0", "MCP", "Half", "Hard", "Soft", "Threshold", "get_threshold"]


class Threshold:
    """Base class: subclasses give ``shrink(m, lam, g)`` on magnitudes and ``penalty_mag(m, lam)``."""

    name = "threshold"
    convex = False

    def shrink(self, m: Array, lam: float, g: float) -> Array:  # pragma: no cover - abstract
        """New magnitude ``argmin_r 0.5 (r - m)^2 + g * lam * phi(r)`` for magnitudes ``m >= 0``.

        Parameters
        ----------
        m : array
            Magnitudes ``|u|``.
        lam : float
            Weight of the penalty.
        g : float
            Step ``> 0``.

        Returns
        -------
        array
            Shrunk magnitudes, same shape as ``m``.
        """
        raise NotImplementedError

    def penalty_mag(self, m: Array, lam: float) -> Array:  # pragma: no cover - abstract
        """Entry-wise ``lam * phi(m)`` of magnitudes ``m >= 0``.

        Parameters
        ----------
        m : array
            Magnitudes.
        lam : float
            Weight.

        Returns
        -------
        array
            Same shape as ``m``.
        """
        raise NotImplementedError

    def prox(self, u: Array, lam: float, g: float = 1.0) -> Array:
        """Proximal map of ``g * lam * phi`` at ``u`` (real or complex); ``lam >= 0``, ``g > 0``."""
        g = _check_step(g)
        lam = check_scalar("lam", lam, low=0.0)
        xp = array_namespace(u)
        m = xp.abs(u)
        new = self.shrink(m, lam, g)
        if xp.isdtype(u.dtype, "complex floating"):
            safe = xp.where(m > 0, m, xp.ones_like(m))
            return u * xp.where(m > 0, new / safe, xp.zeros_like(m))
        return xp.where(u < 0, -new, new)

    def __call__(self, u: Array, lam: float, g: float = 1.0) -> Array:
        return self.prox(u, lam, g)

    def penalty(self, x: Array, lam: float) -> Array:
        """``lam * sum(phi(x))`` over the last axes, as a 0-d array (sum over everything)."""
        xp = array_namespace(x)
        return xp.sum(self.penalty_mag(xp.abs(x), lam))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Soft(Threshold):
    """Soft thresholding, the prox of the l1 norm."""

    name = "soft"
    convex = True

    def shrink(self, m: Array, lam: float, g: float) -> Array:
        """``max(m - g lam, 0)``."""
        xp = array_namespace(m)
        return xp.clip(m - g * lam, min=0.0)

    def penalty_mag(self, m: Array, lam: float) -> Array:
        """``lam * m``."""
        return lam * m

    def prox(self, u: Array, lam: float, g: float = 1.0) -> Array:
        """Soft thresholding ``u * max(1 - g lam / |u|, 0)`` (real or complex ``u``).

        Written as ``u * (max(|u|, t) - t) / max(|u|, t)`` with ``t = g * lam``,
        which is zero below the threshold without a division by zero.

        Parameters
        ----------
        u : array
            Input.
        lam : float
            Threshold weight ``>= 0``.
        g : float
            Step ``> 0``.

        Returns
        -------
        array
            Same shape, dtype and namespace as ``u``.
        """
        xp = array_namespace(u)
        t = _check_step(g) * check_scalar("lam", lam, low=0.0)
        if t == 0:
            return u
        # u * (1 - t / max(|u|, t)): zero below the threshold, four passes in all
        mt = xp.maximum(xp.abs(u), t)
        return u * ((mt - t) / mt)


class Hard(Threshold):
    """Hard thresholding, the prox of the l0 pseudo-norm (count of non-zeros)."""

    name = "hard"

    def shrink(self, m: Array, lam: float, g: float) -> Array:
        """``m`` where ``m > sqrt(2 g lam)``, else 0."""
        xp = array_namespace(m)
        return xp.where(m > math.sqrt(2.0 * g * lam), m, xp.zeros_like(m))

    def penalty_mag(self, m: Array, lam: float) -> Array:
        """``lam`` where ``m != 0``, else 0."""
        xp = array_namespace(m)
        return lam * xp.astype(m != 0, m.dtype)


class Half(Threshold):
    """Half thresholding (Xu et al. 2012), the prox of the l1/2 quasi-norm ``sum |x|^{1/2}``."""

    name = "half"

    def shrink(self, m: Array, lam: float, g: float) -> Array:
        """Xu et al.'s closed form: ``(2/3) m (1 + cos(2 pi/3 - (2/3) acos((mu/8)(m/3)^(-3/2))))``.

        With ``mu = 2 g lam``; zero for ``m <= (54^(1/3)/4) mu^(2/3)``.
        """
        xp = array_namespace(m)
        mu = 2.0 * g * lam
        thr = (54.0 ** (1.0 / 3.0) / 4.0) * mu ** (2.0 / 3.0)
        keep = m > thr
        safe = xp.where(keep, m, xp.full_like(m, max(thr, 1e-300) * 2.0))
        arg = xp.clip((mu / 8.0) * (safe / 3.0) ** -1.5, min=-1.0, max=1.0)
        phi = xp.acos(arg)
        val = (2.0 / 3.0) * safe * (1.0 + xp.cos(2.0 * math.pi / 3.0 - (2.0 / 3.0) * phi))
        return xp.where(keep, val, xp.zeros_like(m))

    def penalty_mag(self, m: Array, lam: float) -> Array:
        """``lam * sqrt(m)``."""
        xp = array_namespace(m)
        return lam * xp.sqrt(m)


class MCP(Threshold):
    """Firm thresholding, the prox of the minimax concave penalty (MCP).

    ``phi(x) = |x| - x^2 / (2 gamma lam)`` for ``|x| <= gamma lam``, else
    ``gamma lam / 2`` (times ``lam`` overall); requires ``gamma > g``.

    Parameters
    ----------
    gamma : float, default 3.0
        Concavity, ``> 0``; ``shrink`` raises ``ValueError`` unless ``gamma > g``.
    """

    name = "mcp"

    def __init__(self, gamma: float = 3.0):
        if not gamma > 0:
            raise ValueError(f"gamma must be > 0, got {gamma!r}")
        self.gamma = float(gamma)

    def shrink(self, m: Array, lam: float, g: float) -> Array:
        """Firm shrinkage ``max(m - g lam, 0) / (1 - g/gamma)`` for ``m <= gamma lam``, else ``m``."""
        xp = array_namespace(m)
        if not self.gamma > g:
            raise ValueError(f"MCP needs gamma > step (gamma={self.gamma}, step={g})")
        inner = xp.clip(m - g * lam, min=0.0) / (1.0 - g / self.gamma)
        return xp.where(m <= self.gamma * lam, inner, m)

    def penalty_mag(self, m: Array, lam: float) -> Array:
        """``lam m - m^2 / (2 gamma)`` for ``m <= gamma lam``, else ``gamma lam^2 / 2``."""
        xp = array_namespace(m)
        gl = self.gamma * lam
        return xp.where(m <= gl, lam * m - m * m / (2.0 * self.gamma), xp.full_like(m, gl * lam / 2.0))

    def __repr__(self) -> str:
        return f"MCP(gamma={self.gamma})"


class CEL0(Threshold):
    """CEL0, the continuous exact l0 relaxation of ``0.5||Ax - y||^2 + lam ||x||_0`` (Soubies et al.).

    ``phi_i(x) = 1 - (a_i^2 / (2 lam)) (|x| - sqrt(2 lam)/a_i)^2`` for
    ``|x| <= sqrt(2 lam)/a_i``, else 1 (times ``lam``), with ``a_i = ||A e_i||``.

    Parameters
    ----------
    col_norms : float or array
        Column norms ``a_i`` of the (effective) forward operator, scalar or
        shaped like ``x``. Use ``A.column_norms()``.
    """

    name = "cel0"

    def __init__(self, col_norms: float | Array = 1.0):
        self._scalar = isinstance(col_norms, (int, float))
        if self._scalar and not col_norms > 0:
            raise ValueError(f"col_norms must be > 0, got {col_norms!r}")
        if not self._scalar:
            host = to_numpy(col_norms) if hasattr(col_norms, "shape") else np.asarray(col_norms)
            if host.dtype.kind not in "fiu" or not np.all(np.isfinite(host)) or np.any(host < 0):
                raise ValueError(f"col_norms must be finite real numbers >= 0, got {host!r}")
        self.col_norms = col_norms
        self._cache = None if self._scalar else ArrayCache(col_norms)

    def _a(self, m: Array) -> Array | float:
        if self._scalar:
            return float(self.col_norms)
        xp = array_namespace(m)
        return self._cache.like(m, real_dtype(xp, m.dtype))

    def shrink(self, m: Array, lam: float, g: float) -> Array:
        """``min(m, max(m - sqrt(2 lam) g a, 0) / (1 - g a^2))`` where ``g a^2 < 1``.

        Where ``g a^2 >= 1`` the objective is concave on ``[0, sqrt(2 lam)/a]``: the
        prox is hard thresholding at ``sqrt(2 g lam)`` (``= sqrt(2 lam)/a`` at ``g a^2 = 1``).
        """
        xp = array_namespace(m)
        a = self._a(m)
        den = 1.0 - g * a * a
        s2l = math.sqrt(2.0 * lam)
        hard_thr = math.sqrt(2.0 * g * lam)
        if isinstance(den, float):
            if den <= 1e-12:  # g a^2 >= 1: the prox is hard thresholding at sqrt(2 g lam)
                return xp.where(m > hard_thr, m, xp.zeros_like(m))
            return xp.minimum(m, xp.clip(m - s2l * g * a, min=0.0) / den)
        safe = xp.where(den > 1e-12, den, xp.ones_like(den))
        val = xp.minimum(m, xp.clip(m - s2l * g * a, min=0.0) / safe)
        hard = xp.where(m > hard_thr, m, xp.zeros_like(m))
        return xp.where(den > 1e-12, val, hard)

    def penalty_mag(self, m: Array, lam: float) -> Array:
        """``lam - (a^2/2) (m - sqrt(2 lam)/a)^2`` for ``m <= sqrt(2 lam)/a``, else ``lam``."""
        xp = array_namespace(m)
        a = self._a(m)
        s2l = math.sqrt(2.0 * lam)
        # (a^2/2)(m - s2l/a)^2 = (a m - s2l)^2 / 2, without dividing by a (a = 0: phi = 0)
        am = a * m
        inner = lam - 0.5 * (am - s2l) ** 2
        return xp.where(am <= s2l, inner, xp.full_like(m, lam))


_REGISTRY = {"soft": Soft, "l1": Soft, "hard": Hard, "l0": Hard, "half": Half, "l1/2": Half, "mcp": MCP,
             "firm": MCP, "cel0": CEL0}


def get_threshold(spec: str | Threshold) -> Threshold:
    """A threshold from its name ('soft', 'hard', 'half', 'mcp', 'cel0') or an instance.

    Parameters
    ----------
    spec : str or Threshold
        A :class:`Threshold` (returned as is) or a name, case-insensitive: ``"soft"``/``"l1"``,
        ``"hard"``/``"l0"``, ``"half"``/``"l1/2"``, ``"mcp"``/``"firm"`` (``gamma=3``),
        ``"cel0"`` (unit column norms); anything else raises ``ValueError``.

    Returns
    -------
    Threshold
    """
    if isinstance(spec, Threshold):
        return spec
    if isinstance(spec, str) and spec.lower() in _REGISTRY:
        return _REGISTRY[spec.lower()]()
    raise ValueError(f"prox must be a Threshold or one of {sorted(set(_REGISTRY))}, got {spec!r}")
