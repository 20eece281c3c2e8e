"""Bad-input sweep over the public API, classified as a new user would see it.

Run: ``python -m tests.sweep_bad_input [--verbose]`` from the repository root.

Each case calls one public entry point with one bad argument and names the
argument a clear message must mention. Outcomes:

- ``clear``: ``ValueError``/``TypeError`` (or ``FileNotFoundError``) whose
  message names the argument;
- ``honest``: no exception, but the result says what went wrong
  (``converged=False`` with a non-convergence ``stop_reason``);
- ``obscure``: another exception, or a message that does not name the argument;
- ``silent``: no error and a result that claims success;
- ``hang``: no answer within 20 s;
- ``accepted``: input that is valid by design since 0.2 (integers cast to float, plain
  matrices wrapped in ``MatrixOperator``) gave a finite result. In the 0.1 runs these cases
  were counted as "clear" when refused.

Not collected by pytest (no ``test_`` prefix); the counts go into the
reliability notes. Some cases are meant to exercise the memory guard: they ask
for arrays of terabytes and must be refused before anything is allocated.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

NAN = float("nan")
INF = float("inf")
CASES: dict[str, list[tuple[str, str, Callable[[], Any]]]] = defaultdict(list)


def case(family: str, arg: str, label: str = "") -> Callable:
    def deco(fn: Callable[[], Any]) -> Callable:
        CASES[family].append((label or fn.__name__, arg, fn))
        return fn

    return deco


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def classify(arg: str, fn: Callable[[], Any], timeout: int = 20) -> tuple[str, str]:
    """Outcome of one case; ``arg == "accept"`` marks input that is valid by design (cast or wrapped)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(timeout)
    try:
        out = fn()
    except _Timeout:
        return "hang", f"no answer in {timeout} s"
    except (ValueError, TypeError, FileNotFoundError) as e:
        msg = str(e)
        if arg == "accept":
            return "obscure", f"valid input refused: {type(e).__name__}: {msg[:120]}"
        names = [a.strip() for a in arg.split("|")]
        ok = any(n.lower() in msg.lower() for n in names)
        return ("clear" if ok else "obscure"), f"{type(e).__name__}: {msg[:140]}"
    except Exception as e:
        return "obscure", f"{type(e).__name__}: {str(e)[:140]}"
    finally:
        signal.alarm(0)
    if arg == "accept":
        x = getattr(out, "x", None)
        ok = x is None or bool(np.all(np.isfinite(np.asarray(x))))
        return ("accepted" if ok else "silent"), "valid input accepted (cast or wrapped)"
    conv = getattr(out, "converged", None)
    if conv is False and getattr(out, "stop_reason", "") not in ("tol", "max_iter"):
        return "honest", f"converged=False, stop_reason={out.stop_reason!r}"
    if isinstance(out, dict) and out.get("stop_reason") == "nan":
        return "honest", "stop_reason='nan'"
    return "silent", f"returned {type(out).__name__}"


# ---------------------------------------------------------------------------- operators
def _ops() -> Any:
    import csbox.operators as op

    return op


for label, arg, f in [
    ("Identity('abc')", "shape", lambda: _ops().Identity("abc")),
    ("Identity((2.5, 3))", "shape", lambda: _ops().Identity((2.5, 3))),
    ("Identity((0, 3))", "shape", lambda: _ops().Identity((0, 3))),
    ("Identity(-1)", "shape", lambda: _ops().Identity(-1)),
    ("FFT(axes=1.5)", "axes", lambda: _ops().FFT((4, 4), axes=1.5)),
    ("FFT(axes=(0, 0))", "axes", lambda: _ops().FFT((4, 4), axes=(0, 0))),
    ("FFT(axes=(5,))", "axes", lambda: _ops().FFT((4, 4), axes=(5,))),
    ("FFT(norm='x')", "norm", lambda: _ops().FFT((4, 4), norm="x")),
    ("Wavelet(axes=(0, 0))", "axes", lambda: _ops().Wavelet((8, 8), "db2", axes=(0, 0))),
    ("Wavelet(axes=(5,))", "axes", lambda: _ops().Wavelet((8, 8), "db2", axes=(5,))),
    ("Wavelet('nope')", "wavelet", lambda: _ops().Wavelet((8, 8), "nope")),
    ("Wavelet(level=-1)", "level", lambda: _ops().Wavelet((8, 8), "db2", level=-1)),
    ("Wavelet(level=9) on 8x8", "level", lambda: _ops().Wavelet((8, 8), "db2", level=9)),
    ("Wavelet odd size", "shape", lambda: _ops().Wavelet((9, 8), "db2", level=1)),
    ("MatrixOperator(NaN)", "M", lambda: _ops().MatrixOperator(np.full((2, 2), NAN))),
    ("MatrixOperator(1-D)", "M", lambda: _ops().MatrixOperator(np.ones(3))),
    ("MatrixOperator(strings)", "M", lambda: _ops().MatrixOperator(np.full((2, 2), "a"))),
    ("Diagonal(NaN)", "d", lambda: _ops().Diagonal(np.array([1.0, NAN]))),
    ("Restriction(out of range)", "indices", lambda: _ops().Restriction(4, np.array([0, 9]))),
    ("Restriction(float idx)", "indices", lambda: _ops().Restriction(4, np.array([0.5]))),
    ("PartialFourier(mask shape)", "mask", lambda: _ops().PartialFourier((4, 4), np.ones((3, 4), bool))),
    ("PartialFourier(float mask)", "mask", lambda: _ops().PartialFourier((4, 4), np.full((4, 4), 0.5))),
    ("Kronecker([])", "factors", lambda: _ops().Kronecker([])),
    ("Hadamard(6)", "n|power of two", lambda: _ops().Hadamard(6)),
    ("fwht(0-d)", "x", lambda: _ops().fwht(np.array(1.0))),
    ("fwht(length 6)", "x|power of two", lambda: _ops().fwht(np.ones(6))),
    ("A @ wrong shape", "shape", lambda: _ops().FFT((4, 4)) @ np.ones((4, 5))),
    ("A @ list", "input|array", lambda: _ops().FFT((4, 4)) @ [[1.0]]),
    ("A @ strings", "dtype", lambda: _ops().FFT((2,)) @ np.array(["a", "b"])),
    ("A * nan", "scale|finite", lambda: _ops().Identity(3) * NAN),
    ("A + B shapes", "shape", lambda: _ops().Identity(3) + _ops().Identity(4)),
    ("A.lipschitz(max_iter=0)", "max_iter", lambda: _ops().Identity(3).lipschitz(max_iter=0)),
    ("Identity(1e5 x 1e5).lipschitz()", "memory|needs", lambda: _ops().Identity((10**5, 10**5)).lipschitz()),
    ("LinearOperator((2.5, 3), 3)", "ishape", lambda: __import__("csbox").LinearOperator((2.5, 3), 3)),
    ("LinearOperator('12', 3)", "ishape", lambda: __import__("csbox").LinearOperator("12", 3)),
    ("LinearOperator(dtype=int)", "dtype", lambda: __import__("csbox").LinearOperator(3, 3, "int64")),
]:
    CASES["operators"].append((label, arg, f))


# ---------------------------------------------------------------------------- masks
def _s() -> Any:
    import csbox.sampling as s

    return s


for label, arg, f in [
    ("uniform_random((8.7, 8))", "shape", lambda: _s().uniform_random((8.7, 8), 4)),
    ("uniform_random(acc=inf)", "acceleration", lambda: _s().uniform_random((8, 8), acceleration=INF)),
    ("uniform_random(acc=nan)", "acceleration", lambda: _s().uniform_random((8, 8), acceleration=NAN)),
    ("uniform_random(acc=0.5)", "acceleration", lambda: _s().uniform_random((8, 8), acceleration=0.5)),
    ("uniform_random(n=0)", "n_samples", lambda: _s().uniform_random((8, 8), 0)),
    ("uniform_random(n=4.0)", "n_samples", lambda: _s().uniform_random((8, 8), 4.0)),
    ("uniform_random(calib=-1)", "calib", lambda: _s().uniform_random((8, 8), 4, calib=-1)),
    ("uniform_random(shape=())", "shape", lambda: _s().uniform_random((), 1)),
    ("variable_density(power=-1)", "power", lambda: _s().variable_density((8, 8), 4, power=-1)),
    (
        "variable_density(sigma=0)",
        "sigma",
        lambda: _s().variable_density((8, 8), 4, density="gauss", sigma=0),
    ),
    ("variable_density(density='x')", "density", lambda: _s().variable_density((8, 8), 4, density="x")),
    ("equispaced(n=0)", "n_samples", lambda: _s().equispaced(8, 0)),
    ("poisson_disc(1-D)", "shape", lambda: _s().poisson_disc((8,), 4)),
    ("poisson_disc(50000^2)", "memory|needs", lambda: _s().poisson_disc((50000, 50000), 10)),
    ("cartesian(axis=2)", "axis", lambda: _s().cartesian(np.ones(4, bool), (4, 4), axis=2)),
    ("cartesian(float lines)", "lines", lambda: _s().cartesian(np.ones(4), (4, 4))),
    ("psf(empty mask)", "mask", lambda: _s().point_spread_function(np.zeros((4, 4), bool))),
]:
    CASES["masks"].append((label, arg, f))


# ---------------------------------------------------------------------------- testing helpers
def _t() -> Any:
    import csbox.testing as t

    return t


for label, arg, f in [
    ("dottest(batch=(0,))", "batch", lambda: _t().dottest(_ops().FFT((4,)), batch=(0,))),
    ("dottest(dtype=float16)", "dtype", lambda: _t().dottest(_ops().FFT((4,)), dtype="float16")),
    ("dottest(ndarray)", "A", lambda: _t().dottest(np.eye(2))),
    ("dottest(rtol=-1)", "rtol", lambda: _t().dottest(_ops().FFT((4,)), rtol=-1.0)),
]:
    CASES["testing"].append((label, arg, f))


# ---------------------------------------------------------------------------- cli
def _cli(*argv: str) -> Any:
    import contextlib
    import io

    from csbox.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as e:
            code = e.code
    text = err.getvalue()
    if code and "Traceback" not in text and text.count("\n") <= 3:
        raise ValueError(text)  # one clear line: the expected outcome
    if code:
        raise RuntimeError(text[-140:])
    return code


for label, arg, f in [
    ("demo nope", "unknown demo", lambda: _cli("demo", "nope")),
    ("demo --out /proc/x", "error", lambda: _cli("demo", "fourier-sampling", "--quick", "--out", "/proc/x")),
    ("demo --bogus", "unrecognized|usage", lambda: _cli("demo", "--bogus")),
]:
    CASES["cli"].append((label, arg, f))


# ---------------------------------------------------------------------------- DPS
def _unrolled() -> Any:
    import csbox.sampling.unrolled as u

    return u


def _d() -> Any:
    import csbox.sampling.dps as d

    return d


def _bad_npz(kind: str) -> Path:
    tmp = Path(tempfile.mkdtemp())
    s = _d().DPSSampler(16, 4, shape=(4, 4))
    s.save(tmp / "ok.npz")
    good = dict(np.load(tmp / "ok.npz"))
    if kind == "trunc":
        raw = (tmp / "ok.npz").read_bytes()
        (tmp / "bad.npz").write_bytes(raw[: len(raw) // 2])
    elif kind == "nan":
        np.savez(tmp / "bad.npz", **{**good, "logits": np.full((1, 16), NAN)})
    elif kind == "complex":
        np.savez(tmp / "bad.npz", **{**good, "logits": np.ones((1, 16), complex)})
    return tmp / "bad.npz"


def _train(**kw: Any) -> Any:
    d = _d()
    X = kw.pop("X", np.ones((4, 8)))
    from csbox.sampling.unrolled import UnrolledISTA

    return d.train_dps(UnrolledISTA((8,), 1), X, sampler=d.DPSSampler(8, 2), epochs=1, **kw)


for label, arg, f in [
    ("DPSSampler(10, 10)", "n_samples", lambda: _d().DPSSampler(10, 10)),
    ("DPSSampler(variant='x')", "variant", lambda: _d().DPSSampler(10, 3, variant="x")),
    (
        "DPSSampler(1e6, 1e5, rowwise)",
        "memory|needs",
        lambda: _d().DPSSampler(10**6, 10**5, variant="rowwise"),
    ),
    ("sample(0.0)", "tau", lambda: _d().DPSSampler(10, 3).sample(0.0)),
    ("load(truncated)", "bad.npz", lambda: _d().DPSSampler.load(_bad_npz("trunc"))),
    ("load(NaN logits)", "logits", lambda: _d().DPSSampler.load(_bad_npz("nan"))),
    ("load(complex logits)", "logits", lambda: _d().DPSSampler.load(_bad_npz("complex"))),
    ("UnrolledISTA(n_iter=-1)", "n_iter", lambda: _unrolled().UnrolledISTA((8,), -1)),
    ("train_dps(lr=-1)", "lr", lambda: _train(lr=-1.0)),
    ("train_dps(batch_size=0)", "batch_size", lambda: _train(batch_size=0)),
    ("train_dps(NaN images)", "train", lambda: _train(X=np.full((4, 8), NAN))),
    ("train_dps(empty)", "train", lambda: _train(X=np.ones((0, 8)))),
]:
    CASES["dps"].append((label, arg, f))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--family", default=None)
    args = p.parse_args()
    # run as __main__, this file's module object differs from the one the solver cases import
    from . import sweep_bad_input as me
    from . import sweep_bad_input_solvers  # noqa: F401 - registers the solver cases

    total: Counter = Counter()
    for family, cases in me.CASES.items():
        if args.family and family != args.family:
            continue
        counts: Counter = Counter()
        for label, arg, fn in cases:
            outcome, detail = classify(arg, fn)
            counts[outcome] += 1
            if args.verbose or outcome in ("silent", "hang", "obscure"):
                print(f"  [{outcome:7s}] {family}: {label}: {detail}")
        total += counts
        print(
            f"{family:12s} {len(cases):3d} cases: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        )
    print(
        f"{'all':12s} {sum(total.values()):3d} cases: "
        + ", ".join(f"{k} {v}" for k, v in sorted(total.items()))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
