"""The ``csbox`` command: ``csbox demo --list``, ``csbox demo NAME``, ``csbox info``."""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import sys
import time
from pathlib import Path


def _backend_versions() -> dict[str, str]:
    """Names and versions of the array libraries that import cleanly."""
    import numpy as np

    found = {"numpy": np.__version__}
    for name in ("array_api_strict", "torch", "cupy"):
        try:
            mod = __import__(name)
            found[name] = getattr(mod, "__version__", "?")
        except Exception:  # broken installs must not break csbox
            continue
    return found


def _gpu_devices() -> list[str]:
    """Human-readable names of GPUs visible to CuPy or torch (empty when none)."""
    names: list[str] = []
    try:
        import cupy

        for i in range(cupy.cuda.runtime.getDeviceCount()):
            props = cupy.cuda.runtime.getDeviceProperties(i)
            names.append(f"cupy:{i} {props['name'].decode()}")
    except Exception:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                names.append(f"torch:cuda:{i} {torch.cuda.get_device_name(i)}")
    except Exception:
        pass
    return names


def _info() -> int:
    import csbox

    print(f"csbox {csbox.__version__} (Python {platform.python_version()}, {platform.machine()})")
    for name, ver in _backend_versions().items():
        print(f"  backend {name:<18} {ver}")
    gpus = _gpu_devices()
    print("  devices: cpu" + "".join(f", {g}" for g in gpus))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from csbox.demos import get, registry

    if args.list or not args.name:
        for name, mod in registry().items():
            print(f"{name:<20} {getattr(mod, 'DESCRIPTION', '')}")
        return 0
    try:
        mod = get(args.name)
    except ValueError as exc:
        print(f"csbox demo: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) / args.name
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    extra = {}
    if args.scheduler is not None:  # demos whose run() takes a scheduler run their grid on Dask
        if "scheduler" not in inspect.signature(mod.run).parameters:
            print(f"csbox demo: {args.name} does not take --scheduler", file=sys.stderr)
            return 2
        extra["scheduler"] = args.scheduler
    metrics = mod.run(out, quick=args.quick, **extra)
    dt = time.perf_counter() - t0
    print(f"\n{args.name}: done in {dt:.1f} s; figures in {out}")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=float))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``csbox`` console script."""
    p = argparse.ArgumentParser(prog="csbox", description="compressed sensing toolbox")
    p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = p.add_subparsers(dest="cmd")
    d = sub.add_parser("demo", help="run a demo (see --list)")
    d.add_argument("name", nargs="?", help="demo name")
    d.add_argument("--list", action="store_true", help="list the demos")
    d.add_argument("--out", default="csbox-out", help="output folder (default: csbox-out)")
    d.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    d.add_argument("--scheduler", help="run the demo's grid on Dask: a scheduler address or local:N")
    sub.add_parser("info", help="version, backends and devices found")
    args = p.parse_args(argv)
    try:
        if args.cmd == "demo":
            return _demo(args)
        if args.cmd == "info":
            return _info()
    except (ValueError, TypeError, OSError, ImportError) as exc:
        # a user error (bad --out, bad argument, missing optional package): one line, no traceback
        if args.debug:
            raise
        msg = f"csbox: error: {type(exc).__name__}: {exc} (run with --debug for the traceback)"
        print(msg, file=sys.stderr)
        return 1
    p.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
