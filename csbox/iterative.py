"""The solver contract: one loop, stopping rules, typed results.

Every iterative csbox solver is an :class:`IterativeSolver`: it supplies
``step()`` (one iteration), ``metrics()`` (what a checkpoint records),
``estimate()`` (the full-length current estimate) and ``result(base)`` (its
typed :class:`Result`). :meth:`IterativeSolver.solve` is the one loop that
drives all of them (the design of SCICO's ``Optimizer.solve`` and PyLops's
solver template): it runs ``step`` up to ``max_iter`` times and, every
``check_every`` iterations and at the last, hands the estimate and metrics to
a :class:`Monitor`. Only there are device scalars synchronised to Python
floats, so GPU iterations are not stalled by host syncs at every step.

A checkpoint records the history, runs the NaN/Inf guard, calls the user's
``callback(state)`` (which may raise ``StopIteration`` to stop cleanly) and
asks the stopping rules whether to stop, in this order: NaN, callback, rules
(tolerances, family rules, the user's ``stop``, the divergence guard), then
``max_iter``. So a run whose tolerance is met at its last iteration reports
the tolerance (converged), never ``max_iter``. No solver sets a stop reason by
hand: a family that has its own reasons to stop (all weights pruned, a
query budget spent) reports a metric and adds a rule (:class:`Below`,
:class:`Flag`) that reads it.

Contract of every public iterative solver:

- keywords ``max_iter``, ``tol``, ``check_every``, ``callback``, ``progress``
  (default ``False``), ``stop``, and ``x0`` where a warm start makes sense;
- the callback and the monitor see the full-length estimate (never ``None``,
  never a pruned active set);
- after a NaN/Inf the result holds the last finite checked estimate, with
  ``converged=False`` and ``stop_reason="nan"``; where there was none, ``x`` is
  ``None`` and ``message`` says so.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._validation import check_int
from .backend import Array, array_namespace, to_numpy

__all__ = [
    "Below",
    "DivergenceGuard",
    "Flag",
    "IterState",
    "IterativeSolver",
    "MaxIter",
    "Monitor",
    "ObjectiveTol",
    "RelativeChange",
    "ResidualTol",
    "Result",
    "StoppingRule",
]


@dataclass
class Result:
    """Outcome of a solver; families return subclasses with documented fields.

    Attributes
    ----------
    x : array or None
        The estimate, in the namespace and on the device of the input data
        (``None`` only when a NaN/Inf appeared before any finite checkpoint).
    n_iter : int
        Iterations run.
    converged : bool
        True only when a convergence rule (not ``max_iter``, a callback, a NaN,
        divergence or a budget) stopped the run.
    stop_reason : str
        ``"tol"``, ``"residual"``, ``"objective"``, ``"max_iter"``, ``"callback"``,
        ``"nan"``, ``"diverged"``, ``"budget"`` or a family-specific reason
        documented by the solver.
    history : dict of list
        Per checked iteration: ``iteration``, ``time`` (s since start) and the
        metrics the method reports (``objective``, ``residual``, ``rel_change``...).
    message : str
        A human-readable account of why the run stopped, empty when obvious.
    """

    x: Any
    n_iter: int
    converged: bool
    stop_reason: str
    history: dict[str, list[float]] = field(default_factory=dict)
    message: str = ""

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v and k not in ("iteration", "time")}
        metrics = ", ".join(f"{k}={v:.3g}" for k, v in last.items())
        return (
            f"{type(self).__name__}(n_iter={self.n_iter}, converged={self.converged}, "
            f"stop_reason={self.stop_reason!r}{', ' + metrics if metrics else ''})"
        )

    def _base(self) -> dict[str, Any]:
        """The base fields, to build a family's subclass: ``FamilyResult(**res._base(), ...)``."""
        return {
            "x": self.x,
            "n_iter": self.n_iter,
            "converged": self.converged,
            "stop_reason": self.stop_reason,
            "history": self.history,
            "message": self.message,
        }


@dataclass
class IterState:
    """What a callback or a stopping rule sees at a checkpoint.

    A metric is also readable as an attribute: ``state.rel_change`` is
    ``state.metrics["rel_change"]``.

    Attributes
    ----------
    iteration : int
        The 1-based iteration just completed.
    x : array
        The full-length current estimate, in the input's namespace and device.
    metrics : dict of str to float
        The metrics the solver reports at this checkpoint, synchronised to Python floats.
    time : float
        Seconds since the loop started.
    """

    iteration: int
    x: Any
    metrics: dict[str, float]
    time: float

    def __getattr__(self, name: str) -> Any:
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(name)


class StoppingRule:
    """A rule that inspects a checkpoint and returns a stop reason or None.

    Rules compose with ``|`` (stop when any says so). ``converges`` tells
    whether stopping by this rule counts as convergence.
    """

    converges: bool = True

    def __call__(self, state: IterState) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __or__(self, other: StoppingRule) -> StoppingRule:
        return _AnyRule([self, other])


class _AnyRule(StoppingRule):
    def __init__(self, rules: list[StoppingRule]):
        self.rules: list[StoppingRule] = []
        for r in rules:
            if not isinstance(r, StoppingRule):
                raise TypeError(f"stop must be a StoppingRule, got {type(r).__name__}")
            self.rules.extend(r.rules if isinstance(r, _AnyRule) else [r])
        self.fired: StoppingRule | None = None

    def __call__(self, state: IterState) -> str | None:
        for r in self.rules:
            reason = r(state)
            if reason:
                self.fired = r.fired if isinstance(r, _AnyRule) else r
                return reason
        return None


class MaxIter(StoppingRule):
    """Stop after ``n`` iterations (not convergence).

    Parameters
    ----------
    n : int
        Iteration count at whose first checkpoint the run stops (reason ``"max_iter"``).
    """

    converges = False

    def __init__(self, n: int):
        self.n = n

    def __call__(self, state: IterState) -> str | None:
        return "max_iter" if state.iteration >= self.n else None


class Below(StoppingRule):
    """Stop when the checkpoint metric ``metric`` falls below ``tol``.

    Parameters
    ----------
    metric : str
        Name of a metric the solver reports (``"rel_change"``, ``"residual"``...).
    tol : float
        Threshold, ``>= 0``.
    reason : str
        Stop reason to report (default ``"tol"``).
    converges : bool
        Whether stopping here counts as convergence (default True).
    """

    def __init__(self, metric: str, tol: float, reason: str = "tol", *, converges: bool = True):
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
            raise ValueError(f"tol must be a number >= 0, got {tol!r}")
        self.metric = metric
        self.tol = float(tol)
        self.reason = reason
        self.converges = converges

    def __call__(self, state: IterState) -> str | None:
        v = state.metrics.get(self.metric)
        return self.reason if v is not None and v < self.tol else None

    def __repr__(self) -> str:
        return f"Below({self.metric!r}, {self.tol:g}, reason={self.reason!r})"


class Flag(StoppingRule):
    """Stop when the checkpoint metric ``metric`` is non-zero (a family's own condition).

    E.g. ``Flag("all_pruned", "pruned")`` for an SBL run whose weights all
    vanished, or ``Flag("budget_spent", "budget", converges=False)``.

    Parameters
    ----------
    metric : str
        Name of a metric the solver reports; a missing metric never fires.
    reason : str
        Stop reason to report.
    converges : bool, default True
        Whether stopping here counts as convergence (a reason among ``"max_iter"``,
        ``"nan"``, ``"callback"``, ``"diverged"``, ``"budget"`` never does).
    """

    def __init__(self, metric: str, reason: str, *, converges: bool = True):
        self.metric = metric
        self.reason = reason
        self.converges = converges

    def __call__(self, state: IterState) -> str | None:
        v = state.metrics.get(self.metric)
        return self.reason if v else None


def RelativeChange(tol: float) -> Below:
    """Converged when ``||x_k - x_{k-1}|| / ||x_k|| < tol`` (reason ``"tol"``).

    Parameters
    ----------
    tol : float
        Threshold on the ``rel_change`` metric, ``>= 0``.

    Returns
    -------
    Below
        ``Below("rel_change", tol, "tol")``.
    """
    return Below("rel_change", tol, "tol")


def ResidualTol(tol: float) -> Below:
    """Converged when the method's ``residual`` metric drops below ``tol`` (reason ``"residual"``).

    Parameters
    ----------
    tol : float
        Threshold on the ``residual`` metric, ``>= 0``.

    Returns
    -------
    Below
        ``Below("residual", tol, "residual")``.
    """
    return Below("residual", tol, "residual")


class ObjectiveTol(StoppingRule):
    """Converged when the objective changes by less than ``tol`` (relative) between checkpoints.

    Stops with reason ``"objective"`` when ``|f_k - f_prev| <= tol * |f_k|`` for the
    ``objective`` metric of two consecutive checkpoints; it never fires for a solver
    that reports no ``objective``. A rule instance keeps state: use a new one per run.

    Parameters
    ----------
    tol : float
        Relative tolerance.
    """

    def __init__(self, tol: float):
        self.tol = tol
        self._last: float | None = None

    def __call__(self, state: IterState) -> str | None:
        v = state.metrics.get("objective")
        if v is None:
            return None
        last, self._last = self._last, v
        if last is not None and abs(v - last) <= self.tol * max(abs(v), 1e-300):
            return "objective"
        return None


class DivergenceGuard(StoppingRule):
    """Stop with ``"diverged"`` when the objective grows past ``factor`` times its first value.

    Not convergence. Every :class:`IterativeSolver` whose ``divergence`` is True adds
    one with the default factor. A rule instance keeps state: use a new one per run.

    Parameters
    ----------
    factor : float, default 1e8
        Stop when ``|f_k| > factor * |f_first|`` for the ``objective`` metric.
    """

    converges = False

    def __init__(self, factor: float = 1e8):
        self.factor = factor
        self._first: float | None = None

    def __call__(self, state: IterState) -> str | None:
        v = state.metrics.get("objective")
        if v is None:
            return None
        if self._first is None:
            self._first = abs(v) + 1e-300
            return None
        return "diverged" if abs(v) > self.factor * self._first else None


def _check_int(name: str, v: Any, low: int) -> int:
    return check_int(name, v, low=low)


class Monitor:
    """Runs the checkpoints of a solver loop (used by :meth:`IterativeSolver.solve`).

    Parameters
    ----------
    max_iter : int
    rules : list of StoppingRule
        Tolerances, family rules and the user's ``stop``, checked in order.
    check_every : int
        Checkpoint period; the last iteration is always checked.
    callback : callable, optional
        ``callback(state: IterState)``; raising ``StopIteration`` stops cleanly.
    progress : bool
        Show a tqdm progress bar.
    desc : str
        Progress bar label.
    divergence : bool
        Add a :class:`DivergenceGuard` on the ``objective`` metric.
    """

    def __init__(
        self,
        *,
        max_iter: int,
        rules: list[StoppingRule] | None = None,
        check_every: int = 10,
        callback: Callable[[IterState], Any] | None = None,
        progress: bool = False,
        desc: str = "",
        divergence: bool = True,
    ):
        self.max_iter = _check_int("max_iter", max_iter, 0)
        self.check_every = _check_int("check_every", check_every, 1)
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self.callback = callback
        rules = [r for r in (rules or []) if r is not None]
        if divergence:
            rules.append(DivergenceGuard())
        self.rule = _AnyRule(rules) if rules else None
        self.history: dict[str, list[float]] = {"iteration": [], "time": []}
        self.t0 = time.perf_counter()
        self.last_good: Any = None
        self.last_good_iter: int | None = None
        self.reason: str | None = None
        self.converges = False  # whether the rule that stopped the run counts as convergence
        self.n_iter = 0
        self._bar = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=max_iter, desc=desc or "iterations", leave=False)

    def due(self, k: int) -> bool:
        """True when iteration ``k`` (1-based) is a checkpoint."""
        return k % self.check_every == 0 or k >= self.max_iter

    def start(self, x: Any) -> None:
        """Record the initial estimate as the fallback after a NaN (when finite)."""
        if x is not None and _finite(x):
            self.last_good, self.last_good_iter = x, 0

    def check(self, k: int, x: Any, **metrics: Any) -> bool:
        """Record checkpoint ``k``; return True when the loop must stop.

        ``metrics`` may be Python numbers, 0-d arrays (synchronised here) or
        zero-argument callables evaluated lazily here.
        """
        self.n_iter = k
        vals: dict[str, float] = {}
        for name, v in metrics.items():
            if callable(v):
                v = v()
            if v is None:
                continue
            vals[name] = float(v) if isinstance(v, (int, float)) else float(to_numpy(v))
        now = time.perf_counter() - self.t0
        self.history["iteration"].append(k)
        self.history["time"].append(now)
        for name, v in vals.items():
            self.history.setdefault(name, []).append(v)
        if self._bar is not None:
            self._bar.n = k
            self._bar.set_postfix({n: f"{v:.3g}" for n, v in vals.items()}, refresh=True)
        if any(not math.isfinite(v) for v in vals.values()) or not _finite(x):
            self.reason = "nan"
            return True
        self.last_good, self.last_good_iter = x, k
        state = IterState(k, x, vals, now)
        if self.callback is not None:
            try:
                self.callback(state)
            except StopIteration:
                self.reason = "callback"
                return True
        if self.rule is not None:
            reason = self.rule(state)
            if reason:
                self.reason = reason
                self.converges = bool(self.rule.fired is not None and self.rule.fired.converges)
                return True
        if k >= self.max_iter:
            self.reason = "max_iter"
            return True
        return False

    def result(self, x: Any) -> Result:
        """Close the progress bar and build the base :class:`Result`.

        After a NaN/Inf, the last finite checked estimate is returned (``None``
        when there was none) with ``converged=False``.
        """
        if self._bar is not None:
            self._bar.close()
        reason = self.reason or "max_iter"
        message = ""
        if reason == "nan":
            x = self.last_good
            if x is None:
                message = f"NaN/Inf at iteration {self.n_iter}; no finite estimate was reached"
            else:
                message = (
                    f"NaN/Inf at iteration {self.n_iter}; x is the estimate of iteration "
                    f"{self.last_good_iter}"
                )
        elif reason == "diverged":
            message = f"the objective grew by more than 1e8 by iteration {self.n_iter}"
        # a user rule that reuses a non-convergence reason never counts as convergence
        by_name = reason not in ("max_iter", "nan", "callback", "diverged", "budget")
        return Result(
            x=x,
            n_iter=self.n_iter,
            converged=by_name and self.converges,
            stop_reason=reason,
            history=self.history,
            message=message,
        )


class IterativeSolver:
    """Template of every iterative csbox solver: the one loop, with a family's step.

    Subclasses set ``name`` and ``tol_metric`` (the metric ``tol`` bounds, and
    ``tol_reason``), call ``super().__init__`` with the contract keywords and
    implement:

    - ``step()``: one iteration (device arrays only, no host syncs);
    - ``metrics() -> dict``: the checkpoint metrics (0-d arrays, floats or
      zero-argument callables), including ``tol_metric``;
    - ``estimate() -> array``: the full-length current estimate;
    - ``rules() -> list``: the family's own stopping rules (optional);
    - ``result(base: Result) -> Result``: the typed result (optional).

    ``solve()`` runs the loop and returns ``self.result(base)``.

    Parameters
    ----------
    max_iter : int, default 100
        Iteration budget, ``>= 0``; reaching it stops with ``"max_iter"`` (not convergence).
    tol : float or None, default None
        Threshold of the ``tol_metric`` rule (``Below(tol_metric, tol, tol_reason)``),
        ``>= 0``; ``None`` or 0 adds no such rule.
    check_every : int, default 10
        Checkpoint period, ``>= 1``: metrics are synchronised to the host, recorded in
        ``history``, shown to the callback and to the rules only every ``check_every``
        iterations and at the last one.
    callback : callable or None
        Called with an :class:`IterState` at each checkpoint; raising ``StopIteration``
        stops the run with reason ``"callback"``.
    progress : bool, default False
        Show a tqdm progress bar.
    stop : StoppingRule or None
        An extra rule (compose several with ``|``), checked after the family's own.
    """

    name = "solver"
    tol_metric = "rel_change"
    tol_reason = "tol"
    divergence = True

    def __init__(
        self,
        *,
        max_iter: int = 100,
        tol: float | None = None,
        check_every: int = 10,
        callback: Callable[[IterState], Any] | None = None,
        progress: bool = False,
        stop: StoppingRule | None = None,
    ):
        self.max_iter = _check_int("max_iter", max_iter, 0)
        self.check_every = _check_int("check_every", check_every, 1)
        if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0):
            raise ValueError(f"tol must be a number >= 0 or None, got {tol!r}")
        if stop is not None and not isinstance(stop, StoppingRule):
            raise TypeError(f"stop must be a StoppingRule, got {type(stop).__name__}")
        if not isinstance(progress, bool):
            raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
        self.tol = tol
        self.callback = callback
        self.progress = progress
        self.stop = stop
        self.iteration = 0

    # ---------------------------------------------------------------- the family's part
    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def metrics(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def estimate(self) -> Array:  # pragma: no cover - abstract
        raise NotImplementedError

    def rules(self) -> list[StoppingRule]:
        return []

    def result(self, base: Result) -> Result:
        return base

    # ---------------------------------------------------------------- the loop
    def solve(self) -> Result:
        """Run ``step`` until a rule, the callback, a NaN or ``max_iter`` stops it."""
        rules: list[StoppingRule] = []
        if self.tol is not None and self.tol > 0:
            rules.append(Below(self.tol_metric, self.tol, self.tol_reason))
        rules.extend(self.rules())
        if self.stop is not None:
            rules.append(self.stop)
        mon = Monitor(
            max_iter=self.max_iter,
            rules=rules,
            check_every=self.check_every,
            callback=self.callback,
            progress=self.progress,
            desc=self.name,
            divergence=self.divergence,
        )
        mon.start(self.estimate())
        k = 0
        while k < self.max_iter:
            k += 1
            self.iteration = k
            self.step()
            if mon.due(k) and mon.check(k, self.estimate(), **self.metrics()):
                break
        return self.result(mon.result(self.estimate()))


def _finite(x: Any) -> bool:
    """True when every entry of ``x`` is finite (one reduction, one sync)."""
    if x is None:
        return True
    xp = array_namespace(x)
    return bool(to_numpy(xp.all(xp.isfinite(x))))


def relative_change(x: Array, x_prev: Array) -> Array:
    """``||x - x_prev|| / ||x||`` as a 0-d array on the device (``||x - x_prev||`` where ``x = 0``):
    the ``rel_change`` metric that ``tol`` bounds by default."""
    xp = array_namespace(x)
    nrm = xp.linalg.vector_norm(x)
    return xp.linalg.vector_norm(x - x_prev) / xp.where(nrm > 0, nrm, xp.ones_like(nrm))
