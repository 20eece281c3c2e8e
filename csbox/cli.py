"""The ``csbox`` command: ``csbox demo --list``, ``csbox demo NAME``, ``csbox info``."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path


def _info() -> int:
    import csbox
    from csbox.backend import available_backends, gpu_devices

    print(f"csbox {csbox.__version__} (Python {platform.python_version()}, {platform.machine()})")
    for name, ver in available_backends().items():
        print(f"  backend {name:<18} {ver}")
    gpus = gpu_devices()
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
    metrics = mod.run(out, quick=args.quick)
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
