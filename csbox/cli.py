"""The ``csbox`` command: ``csbox demo [--list | NAME]``, ``csbox recon INPUT OUTPUT``, ``csbox info``."""

from __future__ import annotations

import argparse
import inspect
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any


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


RECON_HELP = """\
Reconstruct a Cartesian multi-coil scan, as BART's `ecalib` + `pics` do:

  read INPUT -> prewhiten (noise scan) -> [--coils N] -> ESPIRiT maps -> --method -> write OUTPUT

  csbox recon scan.h5 img.png                         l1-wavelet SENSE, default lam
  csbox recon ksp.cfl img.cfl --method l1-wavelet --lam 0.004
      ~ bart ecalib -m1 -r 24 ksp sens && bart pics -l1 -r <lam> ksp sens img
  csbox recon meas.dat img.h5 --method cg             ~ bart pics -l2 (CG-SENSE, no regulariser)
  csbox recon scan.h5 img.npy --accel 6 --calib 24    retrospective Poisson disc (experiments)
  csbox recon scan.h5 img.npy --accel mask.npz        retrospective undersampling with a saved mask
  csbox recon scan.h5 img.npy --accel traj.npz        resampled along a saved (e.g. learned) trajectory

INPUT (by extension, then content): BART .cfl/.hdr ([x, y, z, coil]), ISMRMRD/MRD .h5, fastMRI .h5,
Siemens twix .dat. OUTPUT by extension: .cfl (BART [x, y, slices]), .npy (complex image), .h5 (image,
maps, mask, with the command and timings as attributes) or .png (magnitude); for all but .h5 the
command line, steps and timings go to OUTPUT.json.

--lam is relative: a fraction of the zero-filled SENSE image's peak max|A^H y| (csbox normalises
the data and undoes it on output), so the same value works on every scan; BART's -r is on BART's
own scale, so the best values differ (on the brain scan in data/: csbox 0.002-0.004, BART 0.004-0.008).
"""

_OUT_SUFFIXES = (".cfl", ".npy", ".h5", ".png")


def _accel(text: str) -> float | Path:
    """``--accel``: a rate R (a number) or the path of a mask or trajectory file (``.npz``)."""
    try:
        return float(text)
    except ValueError:
        return Path(text)


def _recon_parser(sub: Any) -> None:
    from csbox.mri import METHODS

    r = sub.add_parser("recon", help="reconstruct a scan (ecalib + pics, in one command)",
                       description=RECON_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    r.add_argument("input", help="k-space: .cfl/.hdr, ISMRMRD or fastMRI .h5, twix .dat")
    r.add_argument("output", help="image: .cfl, .npy, .h5 or .png")
    r.add_argument("--method", default="l1-wavelet", choices=list(METHODS),
                   help="cg (pics -l2), l1-wavelet (pics -l1), tv (pics -R T), llr (pics -R L); "
                        "default l1-wavelet")
    r.add_argument("--lam", type=float, help="relative weight (default: " + ", ".join(
        f"{k} {v:g}" for k, v in METHODS.items()) + ")")
    r.add_argument("--iter", type=int, dest="max_iter", help="iterations (pics -i; default per method)")
    r.add_argument("--coils", type=int, help="coil-compress to N virtual coils (bart cc -p N)")
    r.add_argument("--compression", default="svd", choices=("svd", "geometric"), help="bart cc -S / -G")
    r.add_argument("--slice", type=int, help="reconstruct only this slice (bart slice)")
    r.add_argument("--accel", type=_accel,
                   help="retrospective 2-D Poisson-disc undersampling R (bart poisson), a mask file "
                        "(.npz from csbox.sampling.save_mask, e.g. a learned mask) or a trajectory file "
                        "(.npz from csbox.sampling.save_trajectory: the coil images resampled by NUFFT)")
    r.add_argument("--calib", type=int, default=24, help="calibration width (ecalib -r; default 24)")
    r.add_argument("--seed", type=int, default=0, help="seed of the Poisson-disc mask")
    r.add_argument("--no-prewhiten", action="store_true", help="ignore the file's noise scan")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")


def _read_input(path: Path) -> Any:
    """A :class:`csbox.io.RawMRI` from any supported file, by extension then content."""
    from csbox import io

    suffix = path.suffix.lower()
    if suffix in (".cfl", ".hdr") or (not suffix and path.with_suffix(".hdr").is_file()):
        return _raw_from_cfl(path.with_suffix(""))
    if not path.is_file():
        raise FileNotFoundError(f"input {str(path)!r} does not exist")
    if suffix == ".dat":
        return io.read_twix(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic != b"\x89HDF\r\n\x1a\n":
        raise ValueError(f"cannot tell the format of {str(path)!r}: expected BART .cfl/.hdr, ISMRMRD or "
                         "fastMRI .h5 (HDF5), or Siemens twix .dat")
    import h5py

    with h5py.File(path, "r") as f:
        fastmri = "kspace" in f
    return io.read_fastmri(path) if fastmri else io.read_ismrmrd(path)


def _raw_from_cfl(stem: Path) -> Any:
    """BART k-space ``[x, y, z, coil]`` (``.cfl``/``.hdr``) as a RawMRI ``(coil, [kz,] ky, kx)``."""
    import numpy as np

    from csbox.io import MRIHeader, RawMRI, read_cfl

    k = np.asarray(read_cfl(stem, squeeze=False))
    if k.ndim > 4 and any(n != 1 for n in k.shape[4:]):
        raise ValueError(f"{stem}.cfl has dimensions {list(k.shape)}: csbox recon reads BART k-space "
                         "[x, y, z, coil] (extract one slice/map/frame with bart slice first)")
    k = k.reshape(k.shape[:4] + (1,) * (4 - k.ndim))
    nx, ny, nz, _ = k.shape
    k = np.ascontiguousarray(np.transpose(k, (3, 2, 1, 0))).astype(np.complex64)  # (coil, z, y, x)
    axes: tuple[str, ...] = ("coil", "kz", "ky", "kx")
    if nz == 1:
        k, axes = k[:, 0], ("coil", "ky", "kx")
    return RawMRI(k, np.any(k != 0, axis=0), MRIHeader(matrix=(nx, ny, nz)), axes, path=f"{stem}.cfl")


def _write_output(path: Path, rec: Any, meta: dict) -> list[Path]:
    """The image by the output's extension (and ``OUTPUT.json`` with ``meta`` unless ``.h5``)."""
    import numpy as np

    suffix = path.suffix.lower()
    img = np.asarray(rec.image)
    if suffix == ".h5":
        import h5py

        with h5py.File(path, "w") as f:
            f["image"], f["maps"], f["mask"] = img, np.asarray(rec.maps), np.asarray(rec.mask)
            for key, value in meta.items():
                f.attrs[key] = value if isinstance(value, (str, int, float)) else json.dumps(value)
        return [path]
    if suffix == ".npy":
        np.save(path, img, allow_pickle=False)
    elif suffix == ".cfl":
        from csbox.io import write_cfl

        write_cfl(path.with_suffix(""), np.transpose(img.reshape(-1, *img.shape[-2:]), (2, 1, 0)))
    else:
        import matplotlib.pyplot as plt

        tiles = np.abs(img.reshape(-1, *img.shape[-2:]))
        top = float(tiles.max()) or 1.0
        plt.imsave(path, np.concatenate(list(tiles), axis=1), cmap="gray", vmin=0, vmax=top)
    side = Path(str(path) + ".json")
    side.write_text(json.dumps(meta, indent=2, default=float))
    return [path, side]


def _recon(args: argparse.Namespace, argv: list[str]) -> int:
    from csbox.mri import reconstruct_raw

    out = Path(args.output)
    if out.suffix.lower() not in _OUT_SUFFIXES:
        raise ValueError(f"output {args.output!r}: the extension must be one of {', '.join(_OUT_SUFFIXES)}")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"output folder {str(out.parent)!r} does not exist")
    t0 = time.perf_counter()
    raw = _read_input(Path(args.input))
    t_read = time.perf_counter() - t0
    if args.slice is not None:
        if "slice" not in raw.leading:
            raise ValueError(f"--slice {args.slice}: {args.input} has no slice axis (axes {raw.axes})")
        raw = raw.select(slice=args.slice)
    rec = reconstruct_raw(raw, args.method, args.lam, n_coils=args.coils, compression=args.compression,
                          accel=args.accel, calib=args.calib, seed=args.seed, max_iter=args.max_iter,
                          prewhiten=not args.no_prewhiten, progress=not args.no_progress)
    meta = {"command": "csbox " + " ".join(argv), "input": str(args.input), "method": rec.method,
            "lam": rec.lam, "timings_s": {"read": t_read, **rec.timings}, "steps": rec.steps,
            "iterations": [r.n_iter for r in rec.results], "csbox_version": _version()}
    written = _write_output(out, rec, meta)
    print(f"csbox recon: {rec.method} SENSE (lam {rec.lam:g}) of {raw.kspace.shape} in "
          f"{time.perf_counter() - t0:.1f} s -> {', '.join(map(str, written))}")
    return 0


def _version() -> str:
    import csbox

    return csbox.__version__


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
    _recon_parser(sub)
    sub.add_parser("info", help="version, backends and devices found")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = p.parse_args(argv)
    try:
        if args.cmd == "demo":
            return _demo(args)
        if args.cmd == "recon":
            return _recon(args, argv)
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
