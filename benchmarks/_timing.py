"""Timing helpers for the benchmarks (best-of-N wall time, peak traced memory)."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from typing import Any


def best_time(fn: Callable[[], Any], repeat: int = 7, number: int = 1) -> float:
    """Best wall time in seconds of ``number`` calls of ``fn`` over ``repeat`` runs (after one warm-up)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def peak_memory(fn: Callable[[], Any]) -> float:
    """Peak Python-allocated memory (MiB) during one call of ``fn`` (NumPy buffers included)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def versions(*mods: str) -> str:
    """'name version' of each importable module."""
    out = []
    for m in mods:
        try:
            mod = __import__(m)
            out.append(f"{m} {getattr(mod, '__version__', '?')}")
        except ImportError:
            out.append(f"{m} (missing)")
    return ", ".join(out)
