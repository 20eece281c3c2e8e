"""Shared solver machinery: Result, stopping rules, NaN guard, callbacks, progress.

Every csbox solver runs its own update and hands checkpoints to a
:class:`Monitor` every ``check_every`` iterations. Only there are device
scalars synchronised to Python floats, so GPU iterations are not stalled by
host syncs at every step. A checkpoint records the history, runs the NaN/Inf
guard and the divergence guard, calls the user's ``callback(state)`` (which may
raise ``StopIteration`` to stop cleanly) and asks the stopping rules whether
to stop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..backend import to_numpy

__all__ = [
    "DivergenceGuard",
    "IterState",
    "MaxIter",
    "Monitor",
    "ObjectiveTol",
    "RelativeChange",
    "ResidualTol",
    "Result",
    "StoppingRule",
]

Array = Any


@dataclass
class Result:
    """Outcome of a solver.

    Attributes
    ----------
    x : array
        The estimate, in the namespace and on the device of the input data.
    n_iter : int
        Iterations run.
    converged : bool
        True only when a convergence rule (not ``max_iter``, a callback, a NaN
        or divergence) stopped the run.
    stop_reason : str
        ``"tol"``, ``"residual"``, ``"objective"``, ``"max_iter"``, ``"callback"``,
        ``"nan"``, ``"diverged"`` or a method-specific reason.
    history : dict of list
        Per checked iteration: ``iteration``, ``time`` (s since start) and the
        metrics the method reports (``objective``, ``residual``, ``rel_change``...).
    extra : dict
        Method-specific fields, also readable as attributes (``res.plan``).
    """

    x: Any
    n_iter: int
    converged: bool
    stop_reason: str
    history: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        extra = self.__dict__.get("extra", {})
        if name in extra:
            return extra[name]
        raise AttributeError(f"Result has no field {name!r}")

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v and k not in ("iteration", "time")}
        metrics = ", ".join(f"{k}={v:.3g}" for k, v in last.items())
        return (
            f"Result(n_iter={self.n_iter}, converged={self.converged}, "
            f"stop_reason={self.stop_reason!r}{', ' + metrics if metrics else ''})"
        )


@dataclass
class IterState:
    """What a callback or a stopping rule sees at a checkpoint."""

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

    Rules compose with ``|`` (stop when any says so).
    """

    converges: bool = True

    def __call__(self, state: IterState) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __or__(self, other: StoppingRule) -> StoppingRule:
        return _AnyRule([self, other])


class _AnyRule(StoppingRule):
    def __init__(self, rules: list[StoppingRule]):
        self.rules = []
        for r in rules:
            self.rules.extend(r.rules if isinstance(r, _AnyRule) else [r])

    def __call__(self, state: IterState) -> str | None:
        for r in self.rules:
            reason = r(state)
            if reason:
                return reason
        return None


class MaxIter(StoppingRule):
    """Stop after ``n`` iterations (not convergence)."""

    converges = False

    def __init__(self, n: int):
        self.n = n

    def __call__(self, state: IterState) -> str | None:
        return "max_iter" if state.iteration >= self.n else None


class RelativeChange(StoppingRule):
    """Converged when ``||x_k - x_{k-1}|| / ||x_k|| < tol``."""

    def __init__(self, tol: float):
        self.tol = tol

    def __call__(self, state: IterState) -> str | None:
        v = state.metrics.get("rel_change")
        return "tol" if v is not None and v < self.tol else None


class ResidualTol(StoppingRule):
    """Converged when the method's ``residual`` metric drops below ``tol``."""

    def __init__(self, tol: float):
        self.tol = tol

    def __call__(self, state: IterState) -> str | None:
        v = state.metrics.get("residual")
        return "residual" if v is not None and v < self.tol else None


class ObjectiveTol(StoppingRule):
    """Converged when the objective changes by less than ``tol`` (relative) between checkpoints."""

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
    """Stop with ``"diverged"`` when the objective grows past ``factor`` times its first value."""

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


_NON_CONVERGED = {"max_iter", "callback", "nan", "diverged"}


class Monitor:
    """Runs the checkpoints of a solver loop.

    Parameters
    ----------
    max_iter : int
    tol : float or None
        Relative-change tolerance (``None`` disables it).
    check_every : int
        Checkpoint period; the last iteration is always checked.
    callback : callable, optional
        ``callback(state: IterState)``; raising ``StopIteration`` stops cleanly.
    progress : bool
        Show a tqdm progress bar.
    stop : StoppingRule, optional
        Extra rules (e.g. ``ResidualTol(1e-8)``), combined with the defaults.
    desc : str
        Progress bar label.
    """

    def __init__(
        self,
        *,
        max_iter: int,
        tol: float | None = None,
        check_every: int = 10,
        callback: Callable[[IterState], Any] | None = None,
        progress: bool = False,
        stop: StoppingRule | None = None,
        desc: str = "",
        divergence: bool = True,
    ):
        if not isinstance(max_iter, int) or max_iter < 0:
            raise ValueError(f"max_iter must be a non-negative int, got {max_iter!r}")
        if tol is not None and not tol >= 0:
            raise ValueError(f"tol must be >= 0, got {tol!r}")
        if not isinstance(check_every, int) or check_every < 1:
            raise ValueError(f"check_every must be a positive int, got {check_every!r}")
        self.max_iter = max_iter
        self.check_every = check_every
        self.callback = callback
        rules: list[StoppingRule] = []
        if tol is not None and tol > 0:
            rules.append(RelativeChange(tol))
        if stop is not None:
            rules.append(stop)
        if divergence:
            rules.append(DivergenceGuard())
        self.rule = _AnyRule(rules) if rules else None
        self.history: dict[str, list[float]] = {"iteration": [], "time": []}
        self.t0 = time.perf_counter()
        self.last_good: Any = None
        self.reason: str | None = None
        self.n_iter = 0
        self._bar = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=max_iter, desc=desc or "iterations", leave=False)

    def due(self, k: int) -> bool:
        """True when iteration ``k`` (1-based) is a checkpoint."""
        return k % self.check_every == 0 or k >= self.max_iter

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
            vals[name] = float(to_numpy(v)) if not isinstance(v, (int, float)) else float(v)
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
        self.last_good = x
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
                return True
        if k >= self.max_iter:
            self.reason = "max_iter"
            return True
        return False

    def result(self, x: Any, **extra: Any) -> Result:
        """Close the progress bar and build the :class:`Result`.

        After a NaN/Inf, the last finite checked iterate is returned (or ``x``
        when there was none) with ``converged=False``.
        """
        if self._bar is not None:
            self._bar.close()
        reason = self.reason or "max_iter"
        if reason == "nan" and self.last_good is not None:
            x = self.last_good
        return Result(
            x=x,
            n_iter=self.n_iter,
            converged=reason not in _NON_CONVERGED,
            stop_reason=reason,
            history=self.history,
            extra=extra,
        )


def _finite(x: Any) -> bool:
    """True when every entry of ``x`` is finite (one reduction, one sync)."""
    if x is None:
        return True
    from ..backend import array_namespace

    xp = array_namespace(x)
    return bool(to_numpy(xp.all(xp.isfinite(x))))
