r"""Data-fidelity terms ``f(A x; y)`` of the inverse problem ``min_x f(A x; y) + sum_i P_i(x)``.

The data term is an object beside the penalties (the role of SCICO's
``loss.SquaredL2Loss(y, A, W)`` and deepinv's ``data_fidelity``), so that every
inverse solver uses one written form instead of spelling ``0.5||Ax - y||^2``
itself. Each term acts on ``v = A x`` and the data ``y``:

- :class:`LeastSquares`: ``0.5 ||v - y||^2``, gradient ``v - y``;
- :class:`WeightedLeastSquares`: ``0.5 ||W^{1/2}(v - y)||^2 = 0.5 sum_j w_j |v_j - y_j|^2``,
  gradient ``w (v - y)``;
- :class:`ResidualBall`: the constraint ``||v - y||_2 <= eps`` (``0`` inside, ``+inf``
  outside), no gradient, prox = the projection;

and has ``value``, ``prox`` (``argmin_u 0.5||u - v||^2 + s f(u; y)``), ``grad``
(smooth terms), the Lipschitz factor ``lipschitz`` of the gradient (so
``||grad_x f(Ax)||`` is ``lipschitz * ||A||^2``-Lipschitz in ``x``) and
``residual`` (the relative residual the solvers report). Leading axes of ``y``
beyond ``A.oshape`` are independent problems: :class:`ResidualBall` bounds each
one's residual by ``eps``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._validation import check_scalar
from ..backend import Array, array_namespace, device, real_dtype, to_numpy

__all__ = ["DataFidelity", "LeastSquares", "ResidualBall", "WeightedLeastSquares"]


def _sqnorm(xp: Any, v: Array) -> Array:
    return xp.sum(xp.real(xp.conj(v) * v))


def _safe_ratio(xp: Any, num: Array, den: Array) -> Array:
    """``num / den`` with a zero ``den`` read as 1 (``||y|| = 0``: the absolute residual)."""
    return num / xp.where(den > 0, den, xp.ones_like(den))


class DataFidelity:
    """Base class of a data term ``f(v; y)`` evaluated at ``v = A x``.

    Subclasses implement ``value``, ``prox`` and (smooth terms) ``grad``; they set
    ``smooth`` (has a gradient), ``quadratic`` (``f`` is ``0.5 ||W^{1/2}(v - y)||^2``:
    a linear normal equation, usable by :func:`~csbox.solvers.cg` and
    :func:`~csbox.solvers.lsqr`) and ``lipschitz``.

    ``bind(y, n_core)`` returns a copy checked against the data (weights moved to
    ``y``'s namespace, device and precision): the solvers call it once, before they start.
    """

    smooth: bool = True
    quadratic: bool = True
    lipschitz: float = 1.0
    formula: str = ""

    def __init__(self) -> None:
        self.n_core: int | None = None

    def bind(self, y: Array, n_core: int) -> DataFidelity:
        """A copy of this term checked against ``y`` (``n_core`` = ``len(A.oshape)``)."""
        out = object.__new__(type(self))
        out.__dict__.update(self.__dict__)
        out.n_core = n_core
        return out

    def value(self, v: Array, y: Array) -> Array:  # pragma: no cover - abstract
        """``f(v; y)`` summed over every problem, a 0-d real array."""
        raise NotImplementedError

    def grad(self, v: Array, y: Array) -> Array:
        """The gradient of ``f`` with respect to ``v``."""
        raise ValueError(f"{self!r} is not differentiable: use a solver that takes its prox (admm, pdhg)")

    def prox(self, v: Array, y: Array, step: float = 1.0) -> Array:  # pragma: no cover - abstract
        """``argmin_u 0.5||u - v||^2 + step f(u; y)``."""
        raise NotImplementedError

    def weight(self, r: Array) -> Array:
        """``W r`` (the identity for unweighted terms); quadratic terms only."""
        return r

    def whiten(self, r: Array) -> Array:
        """``W^{1/2} r`` (the identity for unweighted terms); quadratic terms only."""
        return r

    def residual(self, v: Array, y: Array) -> Array:
        """Relative residual ``||v - y|| / ||y||`` over every problem (``W^{1/2}``-whitened for WLS)."""
        xp = array_namespace(v, y)
        num = xp.sqrt(_sqnorm(xp, self.whiten(v - y)))
        return _safe_ratio(xp, num, xp.sqrt(_sqnorm(xp, self.whiten(y))))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LeastSquares(DataFidelity):
    """Least squares ``f(v; y) = 0.5 ||v - y||_2^2`` (the default data term of every solver).

    Gradient ``v - y`` (Lipschitz factor 1), prox ``(v + s y) / (1 + s)``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import LeastSquares
    >>> f = LeastSquares()
    >>> float(f.value(np.array([1.0, 2.0]), np.array([0.0, 0.0])))
    2.5
    """

    formula = "0.5||Ax - y||^2"

    def value(self, v: Array, y: Array) -> Array:
        """``0.5 ||v - y||^2`` summed over every entry, as a 0-d real array.

        Parameters
        ----------
        v, y : array
            ``A x`` and the data, of one shape.

        Returns
        -------
        array
            0-d real array in ``v``'s namespace.
        """
        xp = array_namespace(v, y)
        return 0.5 * _sqnorm(xp, v - y)

    def grad(self, v: Array, y: Array) -> Array:
        """``v - y``."""
        return v - y

    def prox(self, v: Array, y: Array, step: float = 1.0) -> Array:
        """``(v + step y) / (1 + step)``, the minimiser of ``0.5||u - v||^2 + step 0.5||u - y||^2``."""
        step = check_scalar("step", step, low=0.0, low_open=True)
        return (v + step * y) / (1.0 + step)


class WeightedLeastSquares(DataFidelity):
    r"""Weighted least squares ``f(v; y) = 0.5 ||W^{1/2}(v - y)||^2 = 0.5 sum_j w_j |v_j - y_j|^2``.

    For noise-whitened data: with independent noise of variance ``sigma_j^2`` per
    sample (per coil in multi-coil MRI), ``w_j = 1 / sigma_j^2`` makes the
    objective the negative log-likelihood. A full coil covariance is whitened
    first (its Cholesky factor applied to the operator and the data) and then
    needs no weights. The normal equations are ``A^H W A x = A^H W y``.

    Parameters
    ----------
    weights : array or float
        ``w >= 0``, finite and real, shaped like ``y`` or broadcastable against it
        (e.g. ``(n_coils, 1)`` for per-coil weights on ``(n_coils, n_samples)``
        data). A zero weight ignores that sample.

    Notes
    -----
    Gradient ``w (v - y)`` with Lipschitz factor ``max(w)``; prox
    ``(v + s w y) / (1 + s w)``.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import WeightedLeastSquares
    >>> f = WeightedLeastSquares(np.array([1.0, 4.0]))
    >>> float(f.value(np.array([1.0, 1.0]), np.array([0.0, 0.0])))
    2.5
    """

    formula = "0.5||W^(1/2)(Ax - y)||^2"

    def __init__(self, weights: Array | float):
        super().__init__()
        if isinstance(weights, bool) or not (hasattr(weights, "shape") or isinstance(weights, (int, float))):
            raise TypeError(f"weights must be an array or a number, got {type(weights).__name__}")
        host = np.asarray(to_numpy(weights) if hasattr(weights, "shape") else weights)
        if host.dtype.kind not in "fiu":
            raise TypeError(f"weights must be real numbers, got dtype {host.dtype}")
        if host.size == 0:
            raise ValueError("weights is empty")
        if not np.all(np.isfinite(host)) or np.any(host < 0):
            raise ValueError("weights must be finite and >= 0")
        if not np.any(host > 0):
            raise ValueError("weights are all zero: the data term would be empty")
        self.weights = weights
        self._host = host.astype(np.float64)
        self.lipschitz = float(host.max())
        self._w: Array = self._host
        self._sqrt_w: Array = np.sqrt(self._host)

    def bind(self, y: Array, n_core: int) -> WeightedLeastSquares:
        """A copy with the weights checked against ``y`` and moved to its namespace and device.

        Parameters
        ----------
        y : array
            The data.
        n_core : int
            ``len(A.oshape)``.

        Returns
        -------
        WeightedLeastSquares
        """
        try:
            np.broadcast_shapes(self._host.shape, tuple(y.shape))
        except ValueError:
            raise ValueError(
                f"weights of shape {self._host.shape} do not broadcast against y of shape {tuple(y.shape)}"
            ) from None
        out = super().bind(y, n_core)
        xp = array_namespace(y)
        dt = real_dtype(xp, y.dtype)
        out._w = xp.asarray(self._host, dtype=dt, device=device(y))
        out._sqrt_w = xp.sqrt(out._w)
        return out

    def value(self, v: Array, y: Array) -> Array:
        """``0.5 sum w |v - y|^2`` as a 0-d real array.

        Parameters
        ----------
        v, y : array
            ``A x`` and the data.

        Returns
        -------
        array
        """
        xp = array_namespace(v, y)
        return 0.5 * _sqnorm(xp, self._sqrt_w * (v - y))

    def grad(self, v: Array, y: Array) -> Array:
        """``w (v - y)``."""
        return self._w * (v - y)

    def prox(self, v: Array, y: Array, step: float = 1.0) -> Array:
        """``(v + step w y) / (1 + step w)`` (entrywise)."""
        step = check_scalar("step", step, low=0.0, low_open=True)
        sw = step * self._w
        return (v + sw * y) / (1.0 + sw)

    def weight(self, r: Array) -> Array:
        """``w r``."""
        return self._w * r

    def whiten(self, r: Array) -> Array:
        """``sqrt(w) r``."""
        return self._sqrt_w * r

    def __repr__(self) -> str:
        return f"WeightedLeastSquares(weights of shape {self._host.shape}, max {self.lipschitz:g})"


class ResidualBall(DataFidelity):
    r"""The data constraint ``||A x - y||_2 <= eps`` as an indicator (basis pursuit denoising).

    ``f(v; y) = 0`` when ``||v - y||_2 <= eps`` (per problem of a batch) and
    ``+inf`` otherwise. Its prox is the exact projection onto the ball,

    .. math:: \operatorname{proj}(v) = y + (v - y) \min\big(1, \varepsilon / \|v - y\|_2\big),

    whatever the step. Not differentiable: :func:`~csbox.solvers.admm` and
    :func:`~csbox.solvers.pdhg` use it (ADMM splits ``z = A x``); the gradient and
    normal-equation solvers (FISTA, ISTA, CG, LSQR) raise ``ValueError``. With noise of
    standard deviation ``sigma`` per real component on ``m`` complex samples a common
    choice is ``eps = sigma sqrt(2 m)``.

    Parameters
    ----------
    eps : float
        Radius ``>= 0`` (0: the equality constraint ``A x = y``).

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.penalties import ResidualBall
    >>> ball = ResidualBall(1.0)
    >>> ball.prox(np.array([3.0, 4.0]), np.zeros(2))
    array([0.6, 0.8])
    """

    smooth = False
    quadratic = False
    lipschitz = math.inf
    formula = "the constraint ||Ax - y|| <= eps"

    def __init__(self, eps: float):
        super().__init__()
        self.eps = check_scalar("eps", eps, low=0.0)

    def _norms(self, r: Array) -> Array:
        """``||r_b||`` per problem, shaped to broadcast against ``r``."""
        xp = array_namespace(r)
        nc = r.ndim if self.n_core is None else self.n_core
        axes = tuple(range(r.ndim - nc, r.ndim))
        return xp.sqrt(xp.sum(xp.real(xp.conj(r) * r), axis=axes, keepdims=True))

    def distance(self, v: Array, y: Array) -> Array:
        """The largest ``max(||v_b - y_b|| - eps, 0)`` over the problems (0-d): how far from feasible."""
        xp = array_namespace(v, y)
        return xp.max(xp.clip(self._norms(v - y) - self.eps, 0.0, None))

    def value(self, v: Array, y: Array) -> Array:
        """``0`` when every residual is within ``eps`` (to ``1e-12`` relative), else ``inf``.

        Parameters
        ----------
        v, y : array
            ``A x`` and the data.

        Returns
        -------
        array
            0-d real array.
        """
        xp = array_namespace(v, y)
        d = self.distance(v, y)
        zero = xp.zeros_like(d)
        return xp.where(d <= 1e-12 * max(self.eps, 1.0), zero, zero + math.inf)

    def prox(self, v: Array, y: Array, step: float = 1.0) -> Array:
        """The projection of ``v`` onto ``{u : ||u - y|| <= eps}`` (independent of ``step``)."""
        check_scalar("step", step, low=0.0, low_open=True)
        xp = array_namespace(v, y)
        r = v - y
        nrm = self._norms(r)
        out = nrm > self.eps
        scale = xp.where(out, self.eps / xp.where(out, nrm, xp.ones_like(nrm)), xp.ones_like(nrm))
        return y + r * scale

    def __repr__(self) -> str:
        return f"ResidualBall(eps={self.eps:g})"

