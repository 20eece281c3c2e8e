r"""Entropic optimal transport: stabilised Sinkhorn and Sinkhorn-Newton-Sparse (SNS).

Both solve

.. math:: \min_{P \ge 0,\ P 1 = a,\ P^T 1 = b}\ \langle C, P\rangle
          + \varepsilon \sum_{ij} P_{ij} (\log P_{ij} - 1),

``eps = reg`` (the paper's ``eta = 1 / reg``; ``reg`` is POT's name for it, kept
so that POT users read csbox calls without translation), through the concave dual

.. math:: L(f, g) = \langle f, a\rangle + \langle g, b\rangle
          - \varepsilon \sum_{ij} e^{(f_i + g_j - C_{ij})/\varepsilon},
          \qquad P = e^{(f \oplus g - C)/\varepsilon},

with gradient ``(a - P 1, b - P^T 1)`` and Hessian
``-(1/eps) [[diag(P 1), P], [P^T, diag(P^T 1)]]``.

:func:`sinkhorn` alternates exact maximisations over ``f`` and ``g`` (matrix
scaling) in the plain domain: two matrix-vector products with the kernel
``K = exp((f + g - C)/eps)`` per iteration, as POT's plain ``sinkhorn``, with the
potentials kept in log form and the scalings absorbed into them whenever they
leave ``[e^-tau, e^tau]`` (Schmitzer 2019). So ``eps = 1/1200`` on costs in
``[0, 1]`` neither underflows nor overflows.

:func:`sinkhorn_newton_sparse` runs Sinkhorn steps and then Newton steps on
``L`` whose Hessian keeps only the ``ceil(density n m)`` largest entries of
``P`` (diagonal blocks exact), solved by conjugate gradients
(Jacobi-preconditioned; the null direction ``(1, -1)`` removed), with a
backtracking line search on ``L`` (Tang et al., ICLR 2024). With
``n_sinkhorn="auto"`` the Newton stage hands back to Sinkhorn when it does not
pay (see :func:`sinkhorn_newton_sparse`).

Every solver is an :class:`~csbox.iterative.IterativeSolver`: its estimate
(what the callback sees) is the pair of dual potentials ``concat([f, g])``
(``(n + m,)``, or ``(batch, n + m)``), from which the plan follows; results are
:class:`OTResult` (``plan``, ``f``, ``g``, ``cost``...).

Histograms with zero entries are solved on their support; the plan has zero
rows/columns there and the potentials are ``-inf``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._sparse import SparseMatrix, scatter, topk_indices
from .._validation import check_array, check_choice, check_int, check_memory, check_scalar, check_shape
from ..backend import Array, array_namespace, device, to_numpy
from ..iterative import Flag, IterativeSolver, IterState, Result, StoppingRule

__all__ = [
    "OTResult",
    "SNSResult",
    "WassersteinResult",
    "cost_matrix",
    "grid_cost",
    "sinkhorn",
    "sinkhorn_newton_sparse",
    "wasserstein_grid",
]

@dataclass(repr=False)
class OTResult(Result):
    """Result of entropic OT; ``x`` is the plan.

    Attributes
    ----------
    plan : array, shape (n, m) or (batch, n, m)
        The transport plan ``P`` (also ``x``).
    f, g : array
        Dual potentials (``-inf`` off the support of ``a``, ``b``).
    cost : array, 0-d or (batch,)
        Transport cost ``<C, P>``.
    objective : array, 0-d or (batch,)
        Entropic objective ``<C, P> + reg sum P (log P - 1)``.
    marginal_error : float
        ``||P 1 - a||_1 + ||P^T 1 - b||_1`` of the returned plan (summed over the batch).
    """

    plan: Any = None
    f: Any = None
    g: Any = None
    cost: Any = None
    objective: Any = None
    marginal_error: float = math.nan


@dataclass(repr=False)
class SNSResult(OTResult):
    """:class:`OTResult` of :func:`sinkhorn_newton_sparse`, with the stages' counts.

    Attributes
    ----------
    n_sinkhorn, n_newton : int
        Iterations of each stage (``n_iter`` is their sum).
    nnz : list of int
        Entries of ``P`` kept in the sparsified Hessian at each Newton step.
    density : float or None
        Kept fraction of the last Newton step (None without Newton steps).
    cg_iterations : list of int
        CG iterations of each Newton step.
    stages : list of (str, int)
        The stages in the order they ran, ``("sinkhorn" | "newton", iterations)``.
    switched : bool
        Whether a Newton stage ran.
    fell_back : bool
        Whether Sinkhorn took over from a Newton stage that did not pay
        (``n_sinkhorn="auto"``; the message says so too).
    """

    n_sinkhorn: int = 0
    n_newton: int = 0
    nnz: list[int] = field(default_factory=list)
    density: float | None = None
    cg_iterations: list[int] = field(default_factory=list)
    stages: list[tuple[str, int]] = field(default_factory=list)
    switched: bool = False
    fell_back: bool = False


@dataclass(repr=False)
class WassersteinResult(OTResult):
    """:class:`OTResult` of :func:`wasserstein_grid` with the distance.

    Attributes
    ----------
    distance : float
        ``W_p`` in grid units, ``(<C, P> max C)^{1/p}`` for the normalised cost.
    """

    distance: float = math.nan


# ----------------------------------------------------------------------------- input checks
def _validate(a: Array, b: Array, C: Array, reg: float, mass_rtol: float) -> tuple[Any, Array, Array, Array]:
    reg = check_scalar("reg", reg, low=0, low_open=True)
    mass_rtol = check_scalar("mass_rtol", mass_rtol, low=0)
    a = check_array("a", a, ndim=1, complex_ok=False)
    b = check_array("b", b, complex_ok=False)
    C = check_array("C", C, ndim=2, complex_ok=False)
    xp = array_namespace(a, b, C)
    if b.ndim not in (1, 2):
        raise ValueError(f"b must have shape (m,) or (batch, m), got {tuple(b.shape)}")
    n, m = a.shape[0], b.shape[-1]
    if tuple(C.shape) != (n, m):
        raise ValueError(f"C has shape {tuple(C.shape)}, expected (len(a), b.shape[-1]) = {(n, m)}")
    dt = xp.result_type(a.dtype, b.dtype, C.dtype)
    a, b, C = (xp.astype(v, dt) for v in (a, b, C))
    for name, v in (("a", a), ("b", b)):
        if bool(to_numpy(xp.any(v < 0))):
            raise ValueError(f"{name} has negative entries; histograms must be non-negative")
    sa = float(to_numpy(xp.sum(a)))
    sb = to_numpy(xp.sum(b, axis=-1))
    if sa <= 0 or np.any(sb <= 0):
        raise ValueError("a and b must have positive total mass")
    if np.any(np.abs(sb - sa) > mass_rtol * sa):
        raise ValueError(
            f"a and b must have equal mass (within mass_rtol = {mass_rtol:g} relative): "
            f"sum(a) = {sa:.12g}, sum(b) = {np.atleast_1d(sb)[:3]}"
        )
    # equal within the tolerance: rescale b to a's mass exactly so marginals can meet to 1e-12
    if b.ndim == 1:
        b = b * float(sa / sb)
    else:
        b = b * xp.asarray((sa / sb)[:, None], dtype=dt, device=device(b))
    return xp, a, b, C


def _exp(xp: Any, Z: Array) -> Array:
    """``exp(Z)`` with the entries below the dtype's smallest normal number set to zero.

    At large ``eta`` most kernel entries are far below ``1e-300``: as subnormal
    numbers they slow ``exp`` and every product with the kernel several-fold
    (measured 5x for ``K @ v`` at n = 500, eta = 1200), and next to row sums of
    order ``1/n`` they are zero to the last bit anyway.
    """
    floor = math.log(xp.finfo(Z.dtype).smallest_normal)
    return xp.where(Z >= floor, xp.exp(xp.maximum(Z, floor)), xp.zeros_like(Z))


def _lse(xp: Any, z: Array, axis: int) -> Array:
    """log(sum(exp(z))) along ``axis``, stable."""
    mx = xp.max(z, axis=axis, keepdims=True)
    mx = xp.where(xp.isfinite(mx), mx, xp.zeros_like(mx))
    return xp.squeeze(mx, axis=axis) + xp.log(xp.sum(xp.exp(z - mx), axis=axis))


class _Support:
    """Restriction of a problem to the support of ``a`` and ``b`` (one ``b``), with expansion back."""

    def __init__(self, xp: Any, a: Array, b: Array):
        self.xp = xp
        an, bn = to_numpy(a), to_numpy(b)
        self.full = (an.shape[0], bn.shape[-1])
        self.ia = np.flatnonzero(an > 0)
        self.ib = np.flatnonzero(bn > 0) if bn.ndim == 1 else np.arange(bn.shape[-1])
        self.trivial = self.ia.size == an.shape[0] and self.ib.size == bn.shape[-1]
        dev = device(a)
        self._ia = xp.asarray(self.ia, device=dev)
        self._ib = xp.asarray(self.ib, device=dev)

    def restrict(self, a: Array, b: Array, C: Array) -> tuple[Array, Array, Array]:
        if self.trivial:
            return a, b, C
        xp = self.xp
        C = xp.take(xp.take(C, self._ia, axis=0), self._ib, axis=1)
        return xp.take(a, self._ia, axis=0), xp.take(b, self._ib, axis=-1), C

    def _expand(self, v: Array, idx: np.ndarray, n: int, axis: int, fill: float) -> Array:
        return scatter(v, idx, n, axis=axis, fill=fill)

    def expand(self, f: Array, g: Array, P: Array) -> tuple[Array, Array, Array]:
        if self.trivial:
            return f, g, P
        n, m = self.full
        P = self._expand(self._expand(P, self.ia, n, P.ndim - 2, 0.0), self.ib, m, P.ndim - 1, 0.0)
        return (
            self._expand(f, self.ia, n, f.ndim - 1, -math.inf),
            self._expand(g, self.ib, m, g.ndim - 1, -math.inf),
            P,
        )


class _Problem:
    """A validated problem restricted to its support: ``xp, a, b, C, reg`` and the expansion."""

    def __init__(self, a: Array, b: Array, C: Array, reg: float, mass_rtol: float, batch_ok: bool):
        xp, a, b, C = _validate(a, b, C, reg, mass_rtol)
        if not batch_ok and b.ndim != 1:
            raise ValueError(f"sinkhorn_newton_sparse solves one problem: b must be 1-D, "
                             f"got {tuple(b.shape)}")
        self.sup = _Support(xp, a, b) if b.ndim == 1 else None
        if self.sup is not None:
            a, b, C = self.sup.restrict(a, b, C)
        elif bool(to_numpy(xp.any(a == 0) | xp.any(b == 0))):
            raise ValueError("batched b: zero entries are not supported; drop them or solve one b at a time")
        self.xp, self.a, self.b, self.C, self.reg = xp, a, b, C, float(reg)
        self.n, self.m = C.shape

    def split(self, x: Array) -> tuple[Array, Array]:
        """``(f, g)`` from the estimate ``concat([f, g])``."""
        return x[..., : self.n], x[..., self.n :]

    def plan(self, f: Array, g: Array) -> Array:
        xp = self.xp
        return _exp(xp, (f[..., :, None] + g[..., None, :] - self.C) / self.reg)

    def result(self, base: Result, cls: type = OTResult, **fields: Any) -> OTResult:
        """The typed result at the potentials ``base.x`` (none after an early NaN)."""
        if base.x is None:
            return cls(**base._base(), **fields)
        xp = self.xp
        f, g = self.split(base.x)
        P = self.plan(f, g)
        r, c = xp.sum(P, axis=-1), xp.sum(P, axis=-2)
        cost = xp.sum(P * self.C, axis=(-2, -1))
        # reg sum P log P = <f, P1> + <g, P^T 1> - <C, P>, so the objective needs no log of P
        obj = xp.sum(f * r, axis=-1) + xp.sum(g * c, axis=-1) - self.reg * xp.sum(r, axis=-1)
        err = float(to_numpy(xp.sum(xp.abs(r - self.a)) + xp.sum(xp.abs(c - self.b))))
        if self.sup is not None:
            f, g, P = self.sup.expand(f, g, P)
        return cls(**{**base._base(), "x": P}, plan=P, f=f, g=g, cost=cost, objective=obj,
                   marginal_error=err, **fields)


# ----------------------------------------------------------------------------- Sinkhorn
class _Scaling:
    """Stabilised Sinkhorn state: log potentials (f, g), scalings (u, v), kernel K = exp((f+g-C)/eps).

    The products ``K v`` and ``K^T u`` of the last half steps are kept: the marginal
    error at a checkpoint reuses ``K^T u`` and hands its ``K v`` to the next step,
    so a checkpoint costs no extra product with ``K``.
    """

    def __init__(self, pb: _Problem, tau: float, fg: tuple[Array, Array] | None = None):
        xp, a, b, C, reg = pb.xp, pb.a, pb.b, pb.C, pb.reg
        self.pb, self.xp, self.a, self.b, self.reg, self.tau = pb, xp, a, b, reg, tau
        if fg is not None:  # warm start from potentials (e.g. after Newton steps)
            self.f, self.g = fg
        else:  # one exact log-domain sweep gives potentials whose kernel rows/cols hold their mass
            g0 = xp.zeros((*b.shape[:-1], C.shape[1]), dtype=C.dtype, device=device(C))
            self.f = reg * (xp.log(a) - _lse(xp, (g0[..., None, :] - C) / reg, axis=-1))
            self.g = reg * (xp.log(b) - _lse(xp, (self.f[..., :, None] - C) / reg, axis=-2))
        self.reset()

    def reset(self) -> None:
        """Scalings to one and the kernel rebuilt from the current potentials."""
        xp = self.xp
        self.u = xp.ones_like(self.f)
        self.v = xp.ones_like(self.g)
        t0 = time.perf_counter()
        self.K = self.pb.plan(self.f, self.g)
        to_numpy(self.K[..., 0, 0])  # wait for the kernel (asynchronous devices) to time it
        self.t_kernel = time.perf_counter() - t0  # the unit of a Newton step's cost in n_sinkhorn="auto"
        self.Kv: Array | None = None
        self.KTu: Array | None = None

    def _kv(self, v: Array) -> Array:
        return self.K @ v if v.ndim == 1 else (self.K @ v[..., None])[..., 0]

    def _ktu(self, u: Array) -> Array:
        return u @ self.K if u.ndim == 1 else (u[..., None, :] @ self.K)[..., 0, :]

    def step(self) -> None:
        Kv = self._kv(self.v) if self.Kv is None else self.Kv
        self.u = self.a / Kv
        self.KTu = self._ktu(self.u)
        self.v = self.b / self.KTu
        self.Kv = None

    def stabilise(self) -> None:
        """Restart from the absorbed potentials after an overflow; absorb grown scalings."""
        xp = self.xp
        if not bool(to_numpy(xp.all(xp.isfinite(self.u)) & xp.all(xp.isfinite(self.v)))):
            self.reset()
            self.step()
        big = xp.maximum(xp.max(xp.abs(xp.log(self.u))), xp.max(xp.abs(xp.log(self.v))))
        if not float(to_numpy(big)) <= self.tau:
            self.absorb()

    def absorb(self) -> None:
        xp = self.xp
        self.f = self.f + self.reg * xp.log(self.u)
        self.g = self.g + self.reg * xp.log(self.v)
        self.reset()

    def marginal_error(self) -> Array:
        """``||P 1 - a||_1 + ||P^T 1 - b||_1`` summed over the batch (0-d array)."""
        xp = self.xp
        if self.KTu is None:
            self.KTu = self._ktu(self.u)
        self.Kv = self._kv(self.v)
        r = self.u * self.Kv
        c = self.v * self.KTu
        return xp.sum(xp.abs(r - self.a)) + xp.sum(xp.abs(c - self.b))

    def potentials(self) -> Array:
        """``concat([f + eps log u, g + eps log v])``: the estimate."""
        xp = self.xp
        return xp.concat([self.f + self.reg * xp.log(self.u), self.g + self.reg * xp.log(self.v)], axis=-1)


class _Sinkhorn(IterativeSolver):
    """Sinkhorn iterations; at each checkpoint the scalings are stabilised first."""

    name = "sinkhorn"
    tol_metric = "marginal_error"
    divergence = False

    def __init__(self, st: _Scaling, **contract: Any):
        super().__init__(**contract)
        self.st = st

    def step(self) -> None:
        self.st.step()
        if self._due(self.iteration):
            self.st.stabilise()

    def _due(self, k: int) -> bool:
        """Whether iteration ``k`` is a checkpoint of the loop (stabilised here, checked by the monitor)."""
        return k % self.check_every == 0 or k >= self.max_iter

    def estimate(self) -> Array:
        return self.st.potentials()

    def metrics(self) -> dict[str, Any]:
        return {"marginal_error": self.st.marginal_error(), "stage": 1}

    def result(self, base: Result) -> OTResult:
        return self.st.pb.result(base)


def sinkhorn(
    a: Array,
    b: Array,
    C: Array,
    reg: float,
    *,
    max_iter: int = 10_000,
    tol: float = 1e-9,
    check_every: int = 10,
    callback: Callable[[IterState], Any] | None = None,
    progress: bool = False,
    stop: StoppingRule | None = None,
    tau: float = 50.0,
    mass_rtol: float = 1e-6,
) -> OTResult:
    """Stabilised Sinkhorn for entropic OT; ``b`` may carry a leading batch axis.

    Iterates ``u = a / (K v)``, ``v = b / (K^T u)`` with ``K = exp((f + g - C)/reg)``
    and absorbs ``reg log u``, ``reg log v`` into ``f``, ``g`` at checkpoints where
    ``|log u|`` or ``|log v|`` exceeds ``tau``.

    Parameters
    ----------
    a : array, shape (n,)
        Source histogram (non-negative).
    b : array, shape (m,) or (batch, m)
        Target histogram(s); batched targets are solved together.
    C : array, shape (n, m)
        Ground cost.
    reg : float
        Entropic regularisation ``eps > 0`` (``eta = 1/eps`` in Tang et al.; POT's name).
    max_iter, tol, check_every : int, float, int
        Stop when the marginal error ``||P1 - a||_1 + ||P^T 1 - b||_1`` (summed
        over the batch) drops below ``tol``, checked every ``check_every`` iterations.
    callback, progress, stop
        The solver contract (``csbox.iterative``); the callback's ``state.x``
        is ``concat([f, g])``, the current dual potentials.
    tau : float
        Absorption threshold on ``|log u|``, ``|log v|`` (checked at checkpoints).
    mass_rtol : float
        ``sum(a)`` and ``sum(b)`` may differ by this relative amount; ``b`` is
        then rescaled to ``a``'s mass. A larger difference raises ``ValueError``.

    Returns
    -------
    OTResult
        ``plan`` (also ``x``), ``f``, ``g``, ``cost``, ``objective``,
        ``marginal_error``; history of ``marginal_error``.

    References
    ----------
    M. Cuturi, "Sinkhorn distances", NeurIPS 2013. B. Schmitzer, "Stabilized
    sparse scaling algorithms for entropy regularized transport problems",
    SIAM J. Sci. Comput. 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.ot import sinkhorn
    >>> t = np.linspace(0, 1, 20)
    >>> a = np.exp(-((t - 0.3) ** 2) / 0.01); a /= a.sum()
    >>> b = np.exp(-((t - 0.6) ** 2) / 0.01); b /= b.sum()
    >>> C = (t[:, None] - t[None, :]) ** 2
    >>> res = sinkhorn(a, b, C, reg=1e-2)
    >>> P = res.plan
    >>> bool(np.allclose(P.sum(1), a, atol=1e-8)), bool(np.allclose(P.sum(0), b, atol=1e-8))
    (True, True)
    """
    pb = _Problem(a, b, C, reg, mass_rtol, batch_ok=True)
    tau = check_scalar("tau", tau, low=0, low_open=True)
    st = _Scaling(pb, tau)
    return _Sinkhorn(st, max_iter=max_iter, tol=tol, check_every=check_every, callback=callback,
                     progress=progress, stop=stop).solve()


# ----------------------------------------------------------------------------- SNS
def _evaluate(pb: _Problem, f: Array, g: Array) -> tuple:
    """Plan, marginals, dual value ``L(f, g)`` and marginal error at ``(f, g)``.

    Returns ``(None, None, None, -inf, inf)`` when the exponent would overflow.
    """
    xp, a, b, reg = pb.xp, pb.a, pb.b, pb.reg
    Z = (f[:, None] + g[None, :] - pb.C) / reg
    if not float(to_numpy(xp.max(Z))) < 700.0:
        return None, None, None, -math.inf, math.inf
    P = _exp(xp, Z)
    r, c = xp.sum(P, axis=1), xp.sum(P, axis=0)
    L = float(to_numpy(xp.sum(f * a) + xp.sum(g * b) - reg * xp.sum(r)))
    err = float(to_numpy(xp.sum(xp.abs(r - a)) + xp.sum(xp.abs(c - b))))
    return P, r, c, L, err


def _pcg(matvec: Any, rhs: Array, diag: Array, tol: float, max_iter: int,
         deadline: float = math.inf) -> tuple[Array, int]:
    """Jacobi-preconditioned conjugate gradients for ``M x = rhs``, ``M`` symmetric positive (semi)definite.

    ``M`` is the sparsified Newton matrix, positive definite up to the null
    direction ``(1, -1)`` of the exact Hessian, to which ``rhs`` is (up to the
    marginal mismatch) orthogonal; the caller removes that component from the
    solution. Stops at ``||r|| <= tol ||rhs||``, or at ``time.perf_counter() >
    deadline`` (every CG iterate is an ascent direction of the dual, so a cut
    solve still gives an inexact Newton step).
    """
    xp = array_namespace(rhs)
    inv = 1.0 / diag
    x = xp.zeros_like(rhs)
    r = rhs
    z = inv * r
    p = z
    rz = float(to_numpy(xp.sum(r * z)))
    stop = tol * float(to_numpy(xp.linalg.vector_norm(rhs)))
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        Ap = matvec(p)
        pAp = float(to_numpy(xp.sum(p * Ap)))
        if not pAp > 0:
            break
        alpha = rz / pAp
        x = x + alpha * p
        r = r - alpha * Ap
        if float(to_numpy(xp.linalg.vector_norm(r))) <= stop or time.perf_counter() > deadline:
            break
        z = inv * r
        rz_new = float(to_numpy(xp.sum(r * z)))
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, it


class _Newton(IterativeSolver):
    """Newton steps on the dual with a sparsified Hessian (stage 2 of SNS); checked every step."""

    name = "sinkhorn-newton-sparse"
    tol_metric = "marginal_error"
    divergence = False

    def __init__(self, pb: _Problem, f: Array, g: Array, *, density: float | str, keep_mass: float,
                 cg_tol: float, cg_max_iter: int, race: _Switch | None = None, **contract: Any):
        super().__init__(check_every=1, **contract)
        self.race = race  # n_sinkhorn="auto": the rule that hands back to Sinkhorn when Newton does not pay
        self.t_start = time.perf_counter()
        xp, n, m = pb.xp, pb.n, pb.m
        self.pb, self.f, self.g = pb, f, g
        self.auto = density == "auto"
        self.n_keep = 2 * min(n, m) if self.auto else math.ceil(float(density) * n * m)
        self.keep_mass, self.cg_tol, self.cg_max_iter = keep_mass, cg_tol, cg_max_iter
        dev = device(pb.C)
        dt = pb.C.dtype
        null = xp.concat([xp.ones(n, dtype=dt, device=dev), -xp.ones(m, dtype=dt, device=dev)])
        self.null = null / math.sqrt(n + m)
        self.P, self.r, self.c, self.L, self.err = _evaluate(pb, f, g)
        self.t = 0.0
        self.nnz: list[int] = []
        self.cg_its: list[int] = []
        self.cut: list[bool] = []  # whether each step's CG stopped at its time limit
        self.errs = [self.err]  # at the switch, then after each step
        self.best = (self.err, f, g)  # the potentials of the lowest error seen, for a hand-back

    def _sparsified(self) -> SparseMatrix:
        """The ``n_keep`` largest entries of ``P``; ``"auto"`` doubles them until they hold ``keep_mass``."""
        xp, n, m, P = self.pb.xp, self.pb.n, self.pb.m, self.P
        flat = xp.reshape(P, (-1,))
        idx = topk_indices(P, self.n_keep)
        if self.auto:
            total = float(to_numpy(xp.sum(self.r)))
            target = self.keep_mass * total
            while self.n_keep < n * m and float(to_numpy(xp.sum(xp.take(flat, idx)))) < target:
                self.n_keep = min(2 * self.n_keep, n * m)
                idx = topk_indices(P, self.n_keep)
        self.nnz.append(int(idx.shape[0]))
        rows = idx // m
        return SparseMatrix(rows, idx - rows * m, xp.take(flat, idx), (n, m))

    def _direction(self, grad: Array) -> Array:
        """Inexact Newton direction: CG to a relative accuracy tied to the marginal error."""
        xp, n, reg, r, c = self.pb.xp, self.pb.n, self.pb.reg, self.r, self.c
        S = self._sparsified()

        def matvec(z: Array) -> Array:
            zx, zy = z[:n], z[n:]
            return xp.concat([r * zx + S.matvec(zy), S.rmatvec(zx) + c * zy]) / reg

        tol = max(self.cg_tol, min(1e-2, self.err))  # Eisenstat-Walker style forcing term
        deadline = math.inf if self.race is None else time.perf_counter() + self.race.step_limit()
        step, its = _pcg(matvec, grad, xp.concat([r, c]) / reg, tol, self.cg_max_iter, deadline)
        self.cg_its.append(its)
        self.cut.append(time.perf_counter() > deadline)
        return step - xp.sum(step * self.null) * self.null  # (1, -1) leaves P unchanged

    def step(self) -> None:
        xp = self.pb.xp
        grad = xp.concat([self.pb.a - self.r, self.pb.b - self.c])
        d = self._direction(grad)
        fn, gn, P, r, c, L, err, t = _line_search(self.pb, self.f, self.g, d, grad, self.L, self.err)
        self.errs.append(err if P is not None else math.nan)
        if P is None:  # no finite step: report a NaN error, the monitor keeps the last finite estimate
            self.err = math.nan
            return
        self.f, self.g, self.P, self.r, self.c, self.L, self.err, self.t = fn, gn, P, r, c, L, err, t
        if err < self.best[0]:
            self.best = (err, fn, gn)

    def estimate(self) -> Array:
        return self.pb.xp.concat([self.f, self.g])

    def metrics(self) -> dict[str, Any]:
        out = {"marginal_error": self.err, "stage": 2, "step_size": self.t}
        if self.race is not None:
            elapsed = time.perf_counter() - self.t_start
            pays = self.race.newton_pays(self.iteration, self.errs, elapsed, self.cut)
            out["newton_slow"] = float(not pays)
        return out

    def rules(self) -> list[StoppingRule]:
        return [Flag("newton_slow", "newton_slow", converges=False)] if self.race is not None else []


def _line_search(pb: _Problem, f: Array, g: Array, d: Array, grad: Array, L0: float, err0: float) -> tuple:
    """Backtracking (Armijo) on the concave dual from ``(f, g)`` along the ascent direction ``d``.

    Near the optimum the dual's change falls below its rounding error, and a
    step that keeps ``L`` within rounding while lowering the marginal error is
    accepted. Returns ``(f, g, P, r, c, L, err, t)`` (``P`` None: no finite step).
    """
    xp, n = pb.xp, pb.n
    slope = float(to_numpy(xp.sum(grad * d)))
    rounding = 1e-13 * abs(L0) + 1e-300
    t = 1.0
    while True:
        fn, gn = f + t * d[:n], g + t * d[n:]
        P, r, c, L, err = _evaluate(pb, fn, gn)
        if L >= L0 + 1e-4 * t * slope or (L >= L0 - rounding and err < err0) or t < 1e-10:
            return fn, gn, P, r, c, L, err, t
        t *= 0.5


class _Switch:
    r"""The rule of ``n_sinkhorn="auto"``: Newton only where it pays, in predicted seconds.

    *Sinkhorn's remaining time.* The log marginal error of Sinkhorn falls by
    ``lam`` per iteration (linear convergence), but ``lam`` may shrink as it
    runs (random costs at large eta: 0.16 to 0.015 per iteration over the
    first 120 at n = 500, eta = 1200). At each checkpoint from iteration ``20``
    on, the rates ``lam_0``, ``lam_1``, ``lam_2`` of the last three windows of
    ``w = 5`` iterations are read (the error is recorded every 5 iterations
    between checkpoints from the half steps' products alone, a few vector
    operations and no checkpoint; the rule decides at checkpoints; the first
    5 iterations, a transient, are not used); the rule judges only a
    steady rate (each within a factor 1.5 of the one before: W1 costs at
    eta = 1200 have erratic rates for hundreds of iterations), and
    ``q = lam_2 / lam_1`` per window where the rate shrinks by more than 10 %
    and a window still cuts the error by at least 10 % (``lam_2 w >= 0.1``;
    ``q = 1`` otherwise: the clouds' rates drift by 0-3 % a window, and on
    10x10 and 28x28 W1/W2 grids windows that cut the error by 0.1-3 % fluctuate
    by more than 10 % while the steady rate predicts Sinkhorn's count). If ``lam`` keeps
    shrinking by ``q`` per window, ``log e`` falls by at most
    ``lam_2 w q / (1 - q)`` in all; the windows ``j`` to the tolerance solve
    ``lam_2 w (q + ... + q^j) = log(e / tol)``, or there are none (Sinkhorn
    does not get there in this model: the time is infinite). The remaining time
    is ``w j`` times Sinkhorn's measured seconds per iteration.

    *Newton's time.* ``newton_steps = 8`` steps (measured 3 to 12 from 20
    Sinkhorn steps) at the measured seconds of a Newton step (the attempt's
    first step, which pays one-off costs, left out), or, before one is
    measured, ``kernel_cost = 8`` times the measured time of building the
    kernel ``exp((f + g - C)/eps)`` (a step builds ``P`` once per line-search
    trial, selects its largest entries and runs CG; measured 4 to 21 kernel
    builds for the first step, 1 to 11 for the next, on the benchmark's cases)
    plus ``overhead = 50`` Sinkhorn iterations (the per-call cost of CG's and
    the line search's small operations, which dominates below n ~ 200).

    *Switch* when Newton's time is below Sinkhorn's remaining time. *Hand back*
    to Sinkhorn (from the potentials of the lowest error seen) when a Newton
    step finds no finite point, from the second step the error exceeds 100
    times its value at the switch, from the sixteenth it is not below it (the
    1-D histogram case at eta = 1200 spends 8 steps above it), or the
    remaining Newton time, ``max(newton_steps - k, 2)`` steps at the measured
    step time, exceeds Sinkhorn's predicted remaining time from the current
    error, unless the last step cut the error tenfold (the superlinear phase,
    where Newton finishes in a few steps). While the error is not below its
    value at the switch, it also hands back once the attempt has spent a
    quarter of the budget (Sinkhorn's remaining time predicted at the switch:
    W2 on a 10x10 grid climbs from 0.5 to 2 and stays there for 16 steps; a
    28x28 one climbs for 5 steps, 8 % of its budget, then converges) or the
    CG of the last two steps stopped at its time limit (W1 on a 28x28 grid:
    CG runs to its cap, 0.5-1.6 s a step against ~0.1 s predicted, and the
    error does not fall; comparing step times with their prediction instead
    misfired on random costs at n = 200, whose CG time varies 100-fold from
    step to step and whose first step pays one-off costs). A step's CG stops at ``1/newton_steps`` of the
    budget or 4 times a step's time predicted before the switch, whichever
    comes first (an inexact Newton step; the prediction, not the measured
    step time, so that a cut step does not raise the next one's limit). After a
    hand-back the rule switches again only once Sinkhorn has run ten times the
    failed attempt's time (so failed attempts cost at most 10 % of the Sinkhorn
    time after them), at most ``attempts = 3`` times.
    """

    window, first, newton_steps, kernel_cost, overhead, attempts = 5, 20, 8, 8.0, 50, 3
    measurable, stall = 0.1, 0.25  # least log-cut of a window to trust a shrinking rate; see the hand-back

    def __init__(self, tol: float | None):
        self.target = tol if tol else 1e-15  # tol = 0 runs to max_iter: the error floor of doubles
        self.model = (math.inf, 1.0, 0.0)  # (lam_2, q, seconds per iteration) of the last Sinkhorn run
        self.t_newton: float | None = None
        self.t_first = 0.0  # seconds of the current Newton attempt's first step
        self.tries, self.wait, self.budget = 0, 0.0, math.inf

    def start(self, st: _Scaling) -> None:
        """A Sinkhorn stage starts from ``st``: its errors are recorded every ``window`` iterations."""
        self.w = self.window
        self.t_kernel = st.t_kernel
        self.t0 = time.perf_counter()
        self.points: dict[int, tuple[float, float]] = {}

    def sinkhorn_seconds(self, err: float) -> float:
        """Predicted seconds of Sinkhorn from marginal error ``err`` to the tolerance."""
        lam, q, per_it = self.model
        need = math.log(max(err, self.target) / self.target)
        if need == 0:
            return 0.0
        if not lam > 0:
            return math.inf
        step = lam * self.w
        if q >= 1.0 - 1e-9:
            return need / lam * per_it
        total = step * q / (1.0 - q)
        if total <= need:
            return math.inf
        j = math.log(1.0 - need * (1.0 - q) / (step * q)) / math.log(q)
        return j * self.w * per_it

    def newton_seconds(self, steps: float) -> float:
        """Predicted seconds of ``steps`` Newton steps (the measured step time once there is one)."""
        per_step = self.t_newton
        if per_step is None:
            per_step = self.predicted_step()
        return steps * per_step

    def predicted_step(self) -> float:
        """Seconds of a Newton step predicted from the kernel's build time and Sinkhorn's iteration time."""
        return self.kernel_cost * self.t_kernel + self.overhead * self.model[2]

    def listening(self) -> bool:
        """Whether the rule may switch within three windows (so that their errors must be recorded)."""
        if self.tries >= self.attempts:
            return False
        per_it = self.model[2]
        return time.perf_counter() - self.t0 >= self.wait - 4 * self.w * per_it

    def record(self, k: int, err: float) -> None:
        """The marginal error ``err`` after Sinkhorn iteration ``k`` (a multiple of the window)."""
        self.points[k] = (math.log(err) if err > 0 else -math.inf, time.perf_counter() - self.t0)

    def observe(self, k: int, err: float) -> bool:
        """At a Sinkhorn checkpoint (iteration ``k`` of the stage): True when Newton pays from here."""
        now = time.perf_counter() - self.t0
        w = self.w
        if k % w == 0:
            self.record(k, err)
        k -= k % w  # judge from the windows recorded up to here
        if k < self.first or k - 3 * w < 5 or any(k - i * w not in self.points for i in range(4)):
            return False
        (lm, _), (l0, _), (l1, _), (l2, t2) = (self.points[k - i * w] for i in (3, 2, 1, 0))
        lam0, lam1, lam2 = (lm - l0) / w, (l0 - l1) / w, (l1 - l2) / w
        if not (lam0 > 0 and 0.5 <= lam1 / lam0 <= 1.5 and 0.5 <= lam2 / lam1 <= 1.5):
            return False  # no steady rate yet (a transient, or W1's erratic one): nothing to judge by
        shrinking = lam2 < 0.9 * lam1 and lam2 * w >= self.measurable  # else steady, or too slow to tell
        q = lam2 / lam1 if shrinking else 1.0
        self.model = (lam2, q, t2 / k)  # the stage's mean seconds per iteration (a window's is noisy)
        if self.tries >= self.attempts or now < self.wait:
            return False
        self.budget = self.sinkhorn_seconds(err)
        return self.newton_seconds(self.newton_steps) < self.budget

    def newton_pays(self, k: int, errs: list[float], elapsed: float, cut: list[bool]) -> bool:
        """After Newton step ``k`` (``errs``: the errors at the switch and after each step; ``cut``:
        whether each step's CG stopped at its time limit)."""
        # the measured step time leaves out the attempt's first step, which pays one-off costs
        # (scipy.sparse's first use: 0.2 s; at n = 200 that step is then 10x the next ones)
        if k == 1:
            self.t_first = elapsed
        else:
            self.t_newton = (elapsed - self.t_first) / (k - 1)
        e0, prev, e = errs[0], errs[-2], errs[-1]
        if not math.isfinite(e) or (k >= 2 and e > 100.0 * e0) or (k >= 2 * self.newton_steps and e >= e0):
            return False
        # CG cut by its time limit at the last two steps: the sparsified systems do not pay (a measured
        # signal, where comparing step times with their prediction misfires on busy machines and small n,
        # whose CG time varies 100-fold between steps)
        slow = len(cut) >= 2 and cut[-1] and cut[-2]
        if e >= e0 and (elapsed >= self.stall * self.budget or slow):
            return False
        if e <= self.target:
            return True
        if e * 10.0 <= prev:  # the fast (superlinear) phase: Newton finishes in a few steps
            return True
        return self.newton_seconds(max(self.newton_steps - k, 2)) <= self.sinkhorn_seconds(e)

    def step_limit(self) -> float:
        """Seconds a Newton step's CG may take: the budget shared by the steps, at most 4x a step."""
        return min(self.budget / self.newton_steps, 4.0 * self.predicted_step())

    def switched(self) -> None:
        self.tries += 1

    def handed_back(self, seconds: float) -> None:
        """A Newton attempt of ``seconds`` did not pay: the next waits for 10x its time of Sinkhorn."""
        self.wait = 10.0 * seconds


class _SinkhornStage(_Sinkhorn):
    """SNS's Sinkhorn stage; with a :class:`_Switch` it stops (``newton_pays``) where Newton pays."""

    def __init__(self, st: _Scaling, switch: _Switch | None = None, **contract: Any):
        super().__init__(st, **contract)
        self.switch = switch
        if switch is not None:
            switch.start(st)

    def step(self) -> None:
        super().step()
        k, sw = self.iteration, self.switch
        # the rule's windows between checkpoints: the error alone (its K v is the next step's), no
        # checkpoint; none while the rule may not switch (after a hand-back: until 3 windows before its wait)
        if sw is not None and k % sw.w == 0 and not self._due(k):
            if sw.listening():
                sw.record(k, float(to_numpy(self.st.marginal_error())))

    def metrics(self) -> dict[str, Any]:
        out = super().metrics()
        if self.switch is not None:
            err = float(to_numpy(out["marginal_error"]))
            out["newton_pays"] = float(self.switch.observe(self.iteration, err))
        return out

    def rules(self) -> list[StoppingRule]:
        return [Flag("newton_pays", "newton_pays", converges=False)] if self.switch is not None else []

    def result(self, base: Result) -> Result:
        return base


def sinkhorn_newton_sparse(
    a: Array, b: Array, C: Array, reg: float, *, n_sinkhorn: int | str = 20, density: float | str = "auto",
    keep_mass: float = 0.999, max_newton: int = 200, max_iter: int = 10_000, tol: float = 1e-9,
    check_every: int = 10, callback: Callable[[IterState], Any] | None = None, progress: bool = False,
    stop: StoppingRule | None = None, cg_tol: float = 1e-10, cg_max_iter: int | None = None,
    mass_rtol: float = 1e-6,
) -> SNSResult:
    """Sinkhorn-Newton-Sparse (Tang et al., ICLR 2024) for entropic OT.

    Stage 1: Sinkhorn steps (:func:`sinkhorn`). Stage 2: Newton steps on the
    dual ``L(f, g)`` with the Hessian's off-diagonal block ``P`` sparsified to
    its ``ceil(density n m)`` largest entries (diagonal blocks ``diag(P1)``,
    ``diag(P^T 1)`` exact), so a Newton step costs ``O(n m)`` (forming ``P``,
    selecting its largest entries, the line search) plus sparse CG products.

    Parameters
    ----------
    a, b, C, reg, mass_rtol
        As :func:`sinkhorn` (one ``b``, no batch).
    n_sinkhorn : int or "auto"
        Sinkhorn steps before Newton (the paper's ``N1``: 20 for random
        assignment and W2, 700 for W1 costs). ``"auto"``: 20 Sinkhorn steps,
        then Newton steps unless they do not pay: when, from the second Newton
        step on, the marginal error exceeds 100 times its value at the switch,
        or from the eighth on it is not below that value, or its line search
        finds no finite step, Sinkhorn takes over
        (from the potentials of the lowest error seen) to the end. Measured:
        random assignment keeps its 9 Newton steps; the W1 case, where Newton
        from 20 Sinkhorn steps first drives the error to 1e20, hands back after
        two steps.
    density : float or "auto"
        Fraction ``lambda`` of ``P``'s entries kept (the paper uses ``2/n`` to
        ``15/n``). ``"auto"`` starts from ``2 / min(n, m)`` and doubles the
        count at each Newton step until the kept entries hold ``keep_mass`` of
        ``P``'s mass (``5/n`` on random assignment at eta = 1200, n = 500).
    keep_mass : float
        Mass fraction the kept entries must hold when ``density="auto"``.
    max_newton : int
        Cap on the Newton steps.
    max_iter, tol, check_every, callback, progress, stop
        The solver contract: ``max_iter`` caps both stages together; ``tol``
        bounds the marginal error; ``check_every`` is the checkpoint period of
        the Sinkhorn stage (every Newton step is checked). The callback's
        ``state.x`` is ``concat([f, g])``.
    cg_tol, cg_max_iter : float, int
        Floor of the relative residual of the CG solve, whose tolerance is
        ``max(cg_tol, min(1e-2, ||grad||_1))`` (inexact Newton), and its
        iteration cap (default ``10 (n + m)``).

    Returns
    -------
    SNSResult
        As :func:`sinkhorn`, plus ``n_sinkhorn``, ``n_newton``, ``nnz``,
        ``density``, ``cg_iterations``; the history has a row per Sinkhorn
        checkpoint and per Newton step (``stage`` 1 or 2).

    References
    ----------
    X. Tang, M. Shavlovsky, H. Rahmanian, E. Tardini, K. K. Thekumparampil,
    T. Xiao, L. Ying, "Accelerating Sinkhorn algorithm with sparse Newton
    iterations", ICLR 2024 (arXiv 2401.12253).
    """
    pb = _Problem(a, b, C, reg, mass_rtol, batch_ok=False)
    auto = n_sinkhorn == "auto"
    n1 = 0 if auto else check_int("n_sinkhorn", n_sinkhorn, low=1)
    run = _Stages(pb, check_int("max_iter", max_iter, low=0), check_int("max_newton", max_newton, low=0),
                  _newton_options(pb, density, keep_mass, cg_tol, cg_max_iter), tol=tol,
                  check_every=check_every, callback=callback, progress=progress, stop=stop)
    return run.auto() if auto else run.fixed(n1)


def _newton_options(pb: _Problem, density: Any, keep_mass: Any, cg_tol: Any, cg_max_iter: Any) -> dict:
    """The validated keywords of the Newton stage."""
    if isinstance(density, str):
        check_choice("density", density, ["auto"])
    else:
        check_scalar("density", density, low=0, low_open=True, high=1)
    return {
        "density": density,
        "keep_mass": check_scalar("keep_mass", keep_mass, low=0, low_open=True, high=1),
        "cg_tol": check_scalar("cg_tol", cg_tol, low=0, low_open=True),
        "cg_max_iter": check_int("cg_max_iter", cg_max_iter or 10 * (pb.n + pb.m), low=1),
    }


class _Stages:
    """Runs SNS's stages one after another, one contract: callback, history and counts continue."""

    skip = ("newton_slow", "newton_pays")  # stage-local flags, not history

    def __init__(self, pb: _Problem, max_iter: int, max_newton: int, newton_kw: dict, **contract: Any):
        self.pb, self.left, self.newton_left, self.newton_kw = pb, max_iter, max_newton, newton_kw
        self.contract = contract
        self.t0 = time.perf_counter()
        self.k0 = 0
        self.history: dict[str, list[float]] = {}
        self.stages: list[tuple[str, int]] = []
        self.nnz: list[int] = []
        self.cg_its: list[int] = []
        self.last: Result | None = None
        self.fell_back = False

    def fixed(self, n1: int) -> SNSResult:
        """The paper's SNS: ``n1`` Sinkhorn steps, then Newton steps to the end."""
        st = _Scaling(self.pb, 50.0)
        base = self.sinkhorn(st, min(n1, self.left))
        if base.stop_reason == "max_iter":
            self.newton(st)
        return self.result()

    def auto(self) -> SNSResult:
        """``n_sinkhorn="auto"``: Sinkhorn, Newton where :class:`_Switch` says it pays, Sinkhorn after."""
        switch = _Switch(self.contract["tol"])
        st = _Scaling(self.pb, 50.0)
        while self.sinkhorn(st, self.left, switch).stop_reason == "newton_pays":
            switch.switched()
            t_start = time.perf_counter()
            newton, reason = self.newton(st, switch)
            if reason not in ("newton_slow", "nan") or self.left == 0:
                break
            switch.handed_back(time.perf_counter() - t_start)
            self.fell_back = True
            st = _Scaling(self.pb, 50.0, fg=newton.best[1:])
        return self.result()

    def sinkhorn(self, st: _Scaling, max_iter: int, switch: _Switch | None = None) -> Result:
        kw = self.kw()
        return self.add(_SinkhornStage(st, switch, max_iter=max_iter, **kw), "sinkhorn")

    def newton(self, st: _Scaling, switch: _Switch | None = None) -> tuple[_Newton | None, str]:
        """A Newton stage from the potentials of ``st``, and its stop reason ("" when none is left)."""
        steps = min(self.newton_left, self.left)
        if steps == 0:
            return None, ""
        st.absorb()
        kw = self.kw()
        del kw["check_every"]  # every Newton step is a checkpoint
        newton = _Newton(self.pb, st.f, st.g, race=switch, max_iter=steps, **self.newton_kw, **kw)
        base = self.add(newton, "newton")
        self.newton_left -= base.n_iter
        self.nnz += newton.nnz[: base.n_iter]
        self.cg_its += newton.cg_its[: base.n_iter]
        return newton, base.stop_reason

    def kw(self) -> dict[str, Any]:
        """Contract keywords of the next stage (its callback counts from the run's start)."""
        kw = dict(self.contract)
        if kw["callback"] is not None:
            kw["callback"] = _shifted(kw["callback"], self.k0, time.perf_counter() - self.t0)
        return kw

    def add(self, solver: IterativeSolver, stage: str) -> Result:
        shift_t = time.perf_counter() - self.t0
        base = solver.solve()
        for key, vals in base.history.items():
            if key in self.skip:
                continue
            shift = self.k0 if key == "iteration" else shift_t if key == "time" else 0
            self.history.setdefault(key, []).extend(v + shift for v in vals)
        self.k0 += base.n_iter
        self.left -= base.n_iter
        self.stages.append((stage, base.n_iter))
        self.last = base
        return base

    def result(self) -> SNSResult:
        last = self.last
        message = last.message
        if self.fell_back:
            message = (message + "; " if message else "") + "Newton did not pay: Sinkhorn took over"
        base = Result(x=last.x, n_iter=self.k0, converged=last.converged, stop_reason=last.stop_reason,
                      history=self.history, message=message)
        count = {name: sum(k for s, k in self.stages if s == name) for name in ("sinkhorn", "newton")}
        nm = self.pb.n * self.pb.m
        return self.pb.result(base, SNSResult, n_sinkhorn=count["sinkhorn"], n_newton=count["newton"],
                              nnz=self.nnz, density=self.nnz[-1] / nm if self.nnz else None,
                              cg_iterations=self.cg_its, stages=self.stages,
                              switched=any(s == "newton" for s, _ in self.stages), fell_back=self.fell_back)


def _shifted(callback: Callable[[IterState], Any], k0: int, t0: float) -> Callable[[IterState], Any]:
    """The callback of a second stage, with iterations and times counted from the run's start."""

    def cb(state: IterState) -> Any:
        return callback(IterState(state.iteration + k0, state.x, state.metrics, state.time + t0))

    return cb


# ----------------------------------------------------------------------------- helpers
def cost_matrix(X: Array, Y: Array, metric: str | float = "sqeuclidean") -> Array:
    """Ground cost between point clouds ``X`` (n, d) and ``Y`` (m, d).

    Parameters
    ----------
    X : array, shape ``(n, d)``
        Real, finite points (integers are cast to float64).
    Y : array, shape ``(m, d)``
        Real, finite points of the same dimension ``d``, same namespace as ``X``.
    metric : {"sqeuclidean", "euclidean", "cityblock"} or float, default "sqeuclidean"
        ``"sqeuclidean"`` (``||x - y||_2^2``), ``"euclidean"`` (``||x - y||_2``),
        ``"cityblock"`` (``||x - y||_1``), or a number ``p >= 1`` for ``||x - y||_p^p``
        (forms the ``(n, m, d)`` differences; memory-checked).

    Returns
    -------
    array, shape ``(n, m)``
        The cost, in ``X``'s namespace and dtype, ``>= 0``.
    """
    X = check_array("X", X, ndim=2, complex_ok=False)
    Y = check_array("Y", Y, ndim=2, complex_ok=False)
    xp = array_namespace(X, Y)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must be (n, d) and (m, d), got {tuple(X.shape)} and {tuple(Y.shape)}")
    n, m, d = X.shape[0], Y.shape[0], X.shape[1]
    if metric in ("sqeuclidean", "euclidean"):
        check_memory("cost_matrix", n * m, X.dtype.itemsize if hasattr(X.dtype, "itemsize") else 8)
        d2 = (xp.sum(X * X, axis=1)[:, None] + xp.sum(Y * Y, axis=1)[None, :]
              - 2.0 * (X @ xp.matrix_transpose(Y)))
        d2 = xp.clip(d2, min=0.0)
        return d2 if metric == "sqeuclidean" else xp.sqrt(d2)
    if metric == "cityblock":
        metric = 1.0
    if isinstance(metric, str) or isinstance(metric, bool) or not isinstance(metric, (int, float)):
        raise ValueError(f"metric must be 'sqeuclidean', 'euclidean', 'cityblock' or a number p >= 1, "
                         f"got {metric!r}")
    p = check_scalar("metric", metric, low=1)
    check_memory("cost_matrix (n x m x d differences)", n * m * d, 8)
    return xp.sum(xp.abs(X[:, None, :] - Y[None, :, :]) ** p, axis=-1)


def grid_cost(shape: int | tuple[int, ...], p: float = 2.0, *, xp: Any = None, device: Any = None) -> Array:
    """Cost ``||i - j||_2^p`` between the cells of a grid of ``shape`` (unit spacing), ``(N, N)``.

    Parameters
    ----------
    shape : int or tuple of int
        Grid shape (positive sizes); ``N = prod(shape)`` cells in C order.
    p : float, default 2.0
        Exponent, ``> 0``.
    xp : module, optional
        Array namespace of the result (default NumPy).
    device : optional
        Device of the result in ``xp``.

    Returns
    -------
    array, shape ``(N, N)``, float64
        The cost in grid units (memory-checked: ``8 N^2`` bytes).
    """
    shape = check_shape("shape", shape)
    p = check_scalar("p", p, low=0, low_open=True)
    N = math.prod(shape)
    check_memory("grid_cost", float(N) * N, 8)
    if xp is None:
        xp = array_namespace(np.empty(0))
    pts = np.stack(np.meshgrid(*[np.arange(s, dtype=float) for s in shape], indexing="ij"), -1)
    pts = xp.asarray(pts.reshape(-1, len(shape)), device=device)
    d2 = cost_matrix(pts, pts, "sqeuclidean")
    return d2 if p == 2 else xp.sqrt(d2) ** p


def wasserstein_grid(
    mu: Array, nu: Array, p: float = 2.0, reg: float = 1e-3, *, method: str = "auto", **kwargs: Any
) -> WassersteinResult:
    """``W_p`` between two densities on the same grid, by entropic OT with a small ``reg``.

    The densities are normalised to unit mass and the cost ``||i - j||^p``
    (grid units) is divided by its maximum before solving; the distance is
    ``(<C, P> max(C))^{1/p}`` in grid units.

    Parameters
    ----------
    mu, nu : array
        Non-negative densities of the same shape (any number of axes).
    p : float
        Exponent, ``> 0``.
    reg : float
        Entropic regularisation on the normalised cost.
    method : {"auto", "sns", "sinkhorn"}
        ``"sns"``: :func:`sinkhorn_newton_sparse` (20 Sinkhorn steps first);
        ``"auto"``: SNS with ``n_sinkhorn="auto"`` (Newton only where it pays);
        ``"sinkhorn"``: :func:`sinkhorn`.
    **kwargs
        Passed to the solver.

    Returns
    -------
    WassersteinResult
        ``distance`` and the solver's plan, potentials and cost (``cost`` is on
        the normalised cost).
    """
    method = check_choice("method", method, ["auto", "sns", "sinkhorn"])
    mu = check_array("mu", mu, complex_ok=False)
    nu = check_array("nu", nu, complex_ok=False)
    if tuple(mu.shape) != tuple(nu.shape):
        raise ValueError(
            f"mu and nu must have the same grid shape, got {tuple(mu.shape)} and {tuple(nu.shape)}"
        )
    p = check_scalar("p", p, low=0, low_open=True)
    xp = array_namespace(mu, nu)
    a = xp.reshape(mu, (-1,))
    b = xp.reshape(nu, (-1,))
    for name, v in (("mu", a), ("nu", b)):
        if not float(to_numpy(xp.sum(v))) > 0:
            raise ValueError(f"{name} must have positive total mass")
    a = a / xp.sum(a)
    b = b / xp.sum(b)
    C = xp.astype(grid_cost(tuple(mu.shape), p, xp=xp, device=device(mu)), a.dtype)
    cmax = float(to_numpy(xp.max(C)))
    if method == "sinkhorn":
        res = sinkhorn(a, b, C / cmax, reg, **kwargs)
    else:
        kwargs.setdefault("n_sinkhorn", "auto" if method == "auto" else 20)
        res = sinkhorn_newton_sparse(a, b, C / cmax, reg, **kwargs)
    dist = (float(to_numpy(res.cost)) * cmax) ** (1.0 / p)
    fields = {k: getattr(res, k) for k in ("plan", "f", "g", "cost", "objective", "marginal_error")}
    return WassersteinResult(**res._base(), **fields, distance=dist)
