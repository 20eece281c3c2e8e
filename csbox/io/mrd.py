"""ISMRMRD / MRD raw data (HDF5): :func:`read_ismrmrd` places acquisitions on the encoded matrix,
:func:`write_ismrmrd` writes a :class:`~csbox.io.RawMRI` back.

Format (ISMRMRD 1.x, the ``ismrmrd`` package's ``hdf5.py``): an HDF5 group (``dataset`` by default)
with ``xml``, the XML header (one variable-length string), and ``data``, a 1-D compound array of
acquisitions ``(head, traj, data)``: ``head`` is the fixed acquisition header (flags, sample and
channel counts, ``center_sample``, the encoding counters ``idx`` ...), ``data`` the samples as
interleaved float32 ``(channels, samples)`` and ``traj`` the non-Cartesian positions
``(samples, dims)``. A Cartesian line with counter ``kspace_encode_step_1 = c`` sits at
``ky = c - center + ny // 2`` where ``center`` is ``encodingLimits/kspace_encoding_step_1/center``
(partial Fourier: the lines before the first counter stay zero and unsampled), and readout
sample ``s`` at ``kx = s - center_sample + nx // 2`` (asymmetric echo).

Reading uses h5py only (one bulk read of the acquisition table rather than one HDF5 call per
acquisition); writing uses the ``ismrmrd`` package's acquisition dtype and XML schema, so files
open in the ``ismrmrd`` package, Gadgetron and BART's ``ismrmrd`` tool.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

import numpy as np

from .._validation import check_memory
from .mri import LEADING_AXES, MRIHeader, RawMRI, file_name, parse_ismrmrd_header, require

__all__ = ["read_ismrmrd", "write_ismrmrd"]

# ISMRMRD flag numbers (bit n - 1 of ``flags``)
_NOISE, _CAL, _CAL_IMG, _REVERSE, _LAST_IN_MEAS = 19, 20, 21, 22, 25
_FIRST_IN_SLICE, _LAST_IN_SLICE = 7, 8
_SKIP = {"navigation": 23, "phasecorr": 24, "hpfeedback": 26, "dummy": 27, "rtfeedback": 28,
         "surface_coil_correction": 29, "phase_stabilization_reference": 30, "phase_stabilization": 31}
_HEAD_FIELDS = ("flags", "number_of_samples", "active_channels", "center_sample", "trajectory_dimensions",
                "sample_time_us", "encoding_space_ref", "idx")
_COUNTERS = ("kspace_encode_step_1", "kspace_encode_step_2", *LEADING_AXES)
# the acquisition-header fields the assembly reads (ISMRMRD's names; the twix reader fills them too)
_HEAD_DTYPE = np.dtype([("flags", "<u8"), ("number_of_samples", "<u2"), ("active_channels", "<u2"),
                        ("center_sample", "<u2"), ("trajectory_dimensions", "<u2"), ("sample_time_us", "<f4"),
                        ("encoding_space_ref", "<u2"), ("idx", [(c, "<u2") for c in _COUNTERS])])
# a file may leave most of its grid unsampled (partial Fourier, high acceleration) but not more
# than this many grid cells per stored sample: beyond it the header is not to be trusted
_MAX_FILL = 1024


def _flag(flags: np.ndarray, n: int) -> np.ndarray:
    return ((flags >> np.uint64(n - 1)) & np.uint64(1)).astype(bool)


def _open(h5py: Any, path: str) -> Any:
    if not os.path.exists(path):
        raise FileNotFoundError(f"no ISMRMRD file {path}")
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path}: not a readable HDF5 file (truncated or corrupt?): {e}") from None


def _read_table(src: str, grp: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The acquisition table: headers (structured), data and trajectories (object arrays of float32)."""
    if "data" not in grp:
        raise ValueError(f"{src}: no acquisitions (field {grp.name}/data)")
    ds = grp["data"]
    names = ds.dtype.names or ()
    for f in ("head", "data"):
        if f not in names:
            raise ValueError(f"{src}: field {grp.name}/data has no {f!r} member (not ISMRMRD acquisitions)")
    if ds.ndim != 1 or ds.shape[0] == 0:
        raise ValueError(f"{src}: field {grp.name}/data must be a non-empty 1-D table, got shape {ds.shape}")
    hnames = ds.dtype["head"].names or ()
    for f in _HEAD_FIELDS:
        if f not in hnames:
            raise ValueError(f"{src}: the acquisition header has no field {f!r}")
    inames = ds.dtype["head"]["idx"].names or ()
    for f in _COUNTERS:
        if f not in inames:
            raise ValueError(f"{src}: the acquisition counters have no field {f!r}")
    try:
        heads = ds.fields("head")[:]
        data = ds.fields("data")[:]
        traj = ds.fields("traj")[:] if "traj" in names else None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{src}: the acquisitions cannot be read (truncated or corrupt file?): "
                         f"{e}") from None
    ns = heads["number_of_samples"].astype(np.int64)
    nc = heads["active_channels"].astype(np.int64)
    lens = np.fromiter((len(d) for d in data), dtype=np.int64, count=len(data))
    bad = np.flatnonzero(lens != 2 * nc * ns)
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{src}: acquisition {i} holds {lens[i]} floats but its header gives "
                         f"active_channels={nc[i]} x number_of_samples={ns[i]} complex samples")
    if traj is not None:
        td = heads["trajectory_dimensions"].astype(np.int64)
        tl = np.fromiter((len(t) for t in traj), dtype=np.int64, count=len(traj))
        bad = np.flatnonzero(tl != td * ns)
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"{src}: acquisition {i} holds {tl[i]} trajectory floats but its header gives "
                             f"trajectory_dimensions={td[i]} x number_of_samples={ns[i]}")
    return heads, data, traj


def _as_complex(d: np.ndarray, nc: int, ns: int) -> np.ndarray:
    return np.ascontiguousarray(d, dtype="<f4").view(np.complex64).reshape(nc, ns)


def _noise(src: str, heads: np.ndarray, data: np.ndarray, sel: np.ndarray, n_coils: int | None) -> Any:
    rows = np.flatnonzero(sel)
    if rows.size == 0:
        return None
    nc = heads["active_channels"][rows]
    if np.any(nc != nc[0]) or (n_coils is not None and int(nc[0]) != n_coils):
        raise ValueError(f"{src}: noise acquisitions have active_channels {sorted(set(nc.tolist()))}, "
                         f"the image data {n_coils}")
    ns = heads["number_of_samples"][rows]
    parts = [_as_complex(data[i], int(nc[0]), int(n)) for i, n in zip(rows, ns, strict=True)]
    return np.concatenate(parts, axis=1)


def _extents(src: str, idx: np.ndarray, rows: np.ndarray, limits: dict) -> dict[str, int]:
    ext = {}
    for name in LEADING_AXES:
        c = idx[name][rows].astype(np.int64)
        lim = limits.get(name)
        ext[name] = lim[1] + 1 if lim is not None else int(c.max()) + 1
        over = np.flatnonzero(c >= ext[name])
        if over.size:
            j = int(over[0])
            raise ValueError(f"{src}: acquisition {int(rows[j])} has counter {name} = {int(c[j])} "
                             f"outside encodingLimits/{name} (maximum {ext[name] - 1})")
    return ext


def _grid(src: str, hdr: MRIHeader, heads: np.ndarray, rows: np.ndarray, limits: dict, cart: bool) -> tuple:
    """Grid sizes ``(nz, ny, nx)`` and each row's ``(iz, iy, ix0)`` on it."""
    idx = heads["idx"][rows]
    s1 = idx["kspace_encode_step_1"].astype(np.int64)
    s2 = idx["kspace_encode_step_2"].astype(np.int64)
    ns = heads["number_of_samples"][rows].astype(np.int64)
    if cart:
        nx, ny, nz = hdr.matrix
        c1, c2 = hdr.encoding_center
        iy, iz = s1 - c1 + ny // 2, s2 - c2 + nz // 2
        ix0 = nx // 2 - heads["center_sample"][rows].astype(np.int64)
    else:
        lim1, lim2 = limits.get("kspace_encoding_step_1"), limits.get("kspace_encoding_step_2")
        ny = lim1[1] + 1 if lim1 else int(s1.max()) + 1
        nz = lim2[1] + 1 if lim2 else int(s2.max()) + 1
        nx = int(ns.max())
        iy, iz, ix0 = s1, s2, np.zeros_like(s1)
    for name, i, n, c in (("kspace_encode_step_1", iy, ny, s1), ("kspace_encode_step_2", iz, nz, s2)):
        lim = limits.get("kspace_encoding_step_" + name[-1])
        over = np.flatnonzero(c > lim[1]) if lim is not None else []
        if len(over):
            j = int(over[0])
            raise ValueError(f"{src}: acquisition {int(rows[j])} has counter {name} = {int(c[j])}, above "
                             f"encodingLimits/kspace_encoding_step_{name[-1]} maximum {lim[1]}")
        bad = np.flatnonzero((i < 0) | (i >= n))
        if bad.size:
            j = int(bad[0])
            raise ValueError(f"{src}: acquisition {int(rows[j])} has counter {name} = {int(c[j])}, outside "
                             f"the encoded matrix ({n} lines about the encodingLimits centre)")
    bad = np.flatnonzero((ix0 < 0) | (ix0 + ns > nx))
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"{src}: acquisition {int(rows[j])} has number_of_samples = {int(ns[j])} with "
                         f"center_sample = {int(heads['center_sample'][rows[j]])}, beyond the encoded "
                         f"readout matrix x = {nx}")
    return (nz, ny, nx), (iz, iy, ix0)


def _fill(target: np.ndarray, mask: np.ndarray, traj_out: np.ndarray | None, rows: np.ndarray,
          pos: tuple, heads: np.ndarray, data: np.ndarray, traj: Any) -> int:
    """Scatter ``rows`` onto ``target[l, :, iz, iy, ix0:ix0+ns]``; returns how many overwrote a line."""
    l, iz, iy, ix0 = pos
    nc = target.shape[1]
    ns = heads["number_of_samples"][rows].astype(np.int64)
    flat = np.ravel_multi_index((l, iz, iy), mask.shape[:3])
    dup = len(flat) - len(np.unique(flat))
    for n, x0 in {(int(a), int(b)) for a, b in zip(ns, ix0, strict=True)}:
        g = np.flatnonzero((ns == n) & (ix0 == x0))
        block = np.stack([_as_complex(data[rows[i]], nc, n) for i in g])
        target[l[g], :, iz[g], iy[g], x0:x0 + n] = block
        mask[l[g], iz[g], iy[g], x0:x0 + n] = True
        if traj_out is not None:
            d = traj_out.shape[-1]
            traj_out[l[g], iz[g], iy[g], x0:x0 + n] = np.stack(
                [np.asarray(traj[rows[i]], dtype=np.float32).reshape(n, d) for i in g])
    return dup


def _classify(heads: np.ndarray) -> dict[str, np.ndarray]:
    flags = heads["flags"].astype(np.uint64)
    noise = _flag(flags, _NOISE)
    other_enc = heads["encoding_space_ref"] != 0
    skipped = {k: _flag(flags, b) & ~noise for k, b in _SKIP.items()}
    drop = noise | other_enc
    for v in skipped.values():
        drop |= v
    cal_only = _flag(flags, _CAL) & ~_flag(flags, _CAL_IMG) & ~drop
    cal_img = _flag(flags, _CAL_IMG) & ~drop
    return {"noise": noise, "image": ~drop & ~cal_only, "calibration": cal_only | cal_img,
            "other_encoding": other_enc & ~noise, "reverse": _flag(flags, _REVERSE) & ~drop, **skipped}


def _place(src: str, hdr: MRIHeader, limits: dict, heads: np.ndarray, data: np.ndarray, traj: Any,
           kinds: dict) -> tuple:
    img, cal = kinds["image"], kinds["calibration"]
    used = np.flatnonzero(img | cal)
    if used.size == 0:
        raise ValueError(f"{src}: no imaging acquisitions (only noise, navigator or other scans)")
    nc = heads["active_channels"][used]
    if np.any(nc != nc[0]):
        raise ValueError(f"{src}: imaging acquisitions have different active_channels "
                         f"{sorted(set(nc.tolist()))}; csbox needs one coil count per scan")
    nc = int(nc[0])
    tdim = heads["trajectory_dimensions"][used]
    cart = hdr.trajectory == "cartesian" and not np.any(tdim > 0)
    if not cart and np.any(tdim != tdim[0]):
        raise ValueError(f"{src}: acquisitions have different trajectory_dimensions "
                         f"{sorted(set(tdim.tolist()))}")
    ext = _extents(src, heads["idx"], used, limits)
    (nz, ny, nx), (iz, iy, ix0) = _grid(src, hdr, heads, used, limits, cart)
    lead = tuple(ext[a] for a in LEADING_AXES)
    cells = math.prod(lead) * nc * nz * ny * nx
    stored = int(np.sum(heads["number_of_samples"][used].astype(np.int64))) * nc
    if cells > _MAX_FILL * stored + (1 << 22):
        raise ValueError(f"{src}: header gives a k-space grid of {cells} samples (encodedSpace/matrixSize "
                         f"and encodingLimits) for the {stored} stored; the header is impossible")
    check_memory(f"{src}: k-space", cells * (2 if np.any(cal) else 1), 8)
    L = math.prod(lead)
    l = np.ravel_multi_index(tuple(heads["idx"][a][used].astype(np.int64) for a in LEADING_AXES), lead)
    k = np.zeros((L, nc, nz, ny, nx), np.complex64)
    m = np.zeros((L, nz, ny, nx), bool)
    t = None if cart else np.zeros((L, nz, ny, nx, int(tdim[0])), np.float32)
    sel = img[used]
    dup = _fill(k, m, t, used[sel], (l[sel], iz[sel], iy[sel], ix0[sel]), heads, data, traj)
    kc = mc = None
    if np.any(cal):
        kc, mc = np.zeros_like(k), np.zeros_like(m)
        s = cal[used]
        _fill(kc, mc, None, used[s], (l[s], iz[s], iy[s], ix0[s]), heads, data, traj)
    return k, m, kc, mc, t, lead, cart, dup


def _crop_readout(k: np.ndarray, n: int) -> np.ndarray:
    """Centred ortho FFT along the readout, keep the central ``n`` image pixels, FFT back."""
    ax = -1
    img = np.fft.fftshift(np.fft.ifft(np.fft.ifftshift(k, axes=ax), axis=ax, norm="ortho"), axes=ax)
    s = k.shape[ax] // 2 - n // 2
    img = img[..., s:s + n]
    return np.fft.fftshift(np.fft.fft(np.fft.ifftshift(img, axes=ax), axis=ax, norm="ortho"),
                           axes=ax).astype(np.complex64)


def read_ismrmrd(path: str | os.PathLike, *, dataset: str = "dataset",
                 remove_oversampling: bool = False) -> RawMRI:
    """Read an ISMRMRD (MRD) HDF5 file into a :class:`~csbox.io.RawMRI`.

    Each acquisition is placed by its counters: ``kspace_encode_step_1/2`` on the encoded matrix
    (``ky = step_1 - center + ny // 2``, the centre from ``encodingLimits``), its samples at
    ``kx = s - center_sample + nx // 2``, and ``repetition, contrast, phase, set, average, slice``
    on leading axes (those with more than one value). Noise scans (``ACQ_IS_NOISE_MEASUREMENT``)
    go to ``noise``; parallel-imaging calibration lines to ``calibration`` (lines flagged
    ``..._AND_IMAGING`` also stay in the image k-space); navigator, phase-correction, dummy and
    feedback scans, and acquisitions of another encoding space, are left out and counted in
    ``header.skipped``. EPI lines flagged ``ACQ_IS_REVERSE`` are kept as stored (counted in
    ``header.extra["reversed"]``).

    Parameters
    ----------
    path : str or path
        The ``.h5`` / ``.mrd`` file.
    dataset : str
        The HDF5 group holding ``xml`` and ``data``.
    remove_oversampling : bool
        Crop the readout to ``reconSpace/matrixSize/x`` in image space (centred inverse FFT along
        ``kx``, keep the central pixels, FFT back): removes the usual 2x readout oversampling.
        A line is then marked sampled along its whole (cropped) readout.

    Returns
    -------
    RawMRI
        k-space ``(*leading, coils, [kz,] ky, kx)`` complex64 (``kz`` for 3-D encodings).

    Raises
    ------
    ValueError
        A truncated or corrupt file, a missing field, an impossible header (matrix 0, counters
        outside the limits or the matrix, a grid far larger than the data); the message names the
        file and the field.
    ImportError
        Without h5py (``pip install 'csbox[mri]'``).
    """
    src = file_name(path)
    h5py = require("h5py", "read_ismrmrd")
    if not isinstance(dataset, str):
        raise TypeError(f"dataset must be a str (an HDF5 group name), got {type(dataset).__name__}")
    with _open(h5py, src) as f:
        grp = f.get(dataset)
        if not isinstance(grp, h5py.Group):
            raise ValueError(f"{src}: no ISMRMRD group {dataset!r} (groups: {sorted(f.keys())})")
        if "xml" not in grp:
            raise ValueError(f"{src}: no XML header (field {dataset}/xml)")
        try:
            xml = grp["xml"][0]
        except (OSError, ValueError, IndexError) as e:
            raise ValueError(f"{src}: field {dataset}/xml cannot be read: {e}") from None
        hdr, limits = parse_ismrmrd_header(xml, src)
        heads, data, traj = _read_table(src, grp)
    return _assemble(src, hdr, limits, heads, data, traj, remove_oversampling)


def _assemble(src: str, hdr: MRIHeader, limits: dict, heads: np.ndarray, data: np.ndarray, traj: Any,
              remove_oversampling: bool) -> RawMRI:
    kinds = _classify(heads)
    k, m, kc, mc, t, lead, cart, dup = _place(src, hdr, limits, heads, data, traj, kinds)
    nc = k.shape[1]
    noise = _noise(src, heads, data, kinds["noise"], nc)
    hdr.skipped = {n: int(np.sum(kinds[n])) for n in (*_SKIP, "other_encoding") if np.any(kinds[n])}
    if dup:
        hdr.skipped["overwritten"] = dup
    if np.any(kinds["reverse"]):
        hdr.extra["reversed"] = int(np.sum(kinds["reverse"]))
    img_rows = np.flatnonzero(kinds["image"] | kinds["calibration"])
    hdr.dwell_us = float(heads["sample_time_us"][img_rows[0]])
    if noise is not None:
        hdr.noise_dwell_us = float(heads["sample_time_us"][np.flatnonzero(kinds["noise"])[0]])
    if not cart:
        hdr.extra["center_sample"] = int(heads["center_sample"][img_rows[0]])
    if remove_oversampling:
        if not cart:
            raise ValueError(f"{src}: remove_oversampling applies to Cartesian scans, this one is "
                             f"{hdr.trajectory}")
        n_out = hdr.recon_matrix[0]
        if n_out < k.shape[-1]:
            k = _crop_readout(k, n_out)
            kc = None if kc is None else _crop_readout(kc, n_out)
            m = np.broadcast_to(np.any(m, axis=-1, keepdims=True), (*m.shape[:-1], n_out)).copy()
            mc = None if mc is None else np.broadcast_to(np.any(mc, axis=-1, keepdims=True),
                                                         (*mc.shape[:-1], n_out)).copy()
            hdr.oversampling_removed = True
    keep = [i for i, n in enumerate(lead) if n > 1]
    lshape = tuple(lead[i] for i in keep)
    three_d = k.shape[2] > 1

    def shape(a: np.ndarray | None, coil: bool) -> np.ndarray | None:
        if a is None:
            return None
        a = np.reshape(a, lshape + a.shape[1:])
        return a if three_d else np.squeeze(a, axis=len(lshape) + (1 if coil else 0))

    grid = ("kz",) * three_d + (("ky", "kx") if cart else ("readout", "sample"))
    axes = (*(LEADING_AXES[i] for i in keep), "coil", *grid)
    return RawMRI(kspace=shape(k, True), mask=shape(m, False), header=hdr, axes=axes, noise=noise,
                  calibration=shape(kc, True), calibration_mask=shape(mc, False),
                  trajectory=shape(t, False), path=src)


# ---------------------------------------------------------------------------- writing
def _grid_view(raw: RawMRI) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    """k-space as ``(L, coils, nz, ny, nx)`` and the mask as ``(L, nz, ny, nx)``, with the leading shape."""
    c = raw.coil_axis
    lead = raw.kspace.shape[:c]
    k = np.reshape(raw.kspace, (math.prod(lead), *raw.kspace.shape[c:]))
    m = np.reshape(raw.mask, (math.prod(lead), *raw.mask.shape[c:]))
    if k.ndim == 4:  # 2-D: a singleton kz
        k, m = k[:, :, None], m[:, None]
    return k, m, lead


def _lines(m: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each sampled line's ``(l, iz, iy)`` and its sampled readout span ``[x0, x1)``."""
    any_ = np.any(m, axis=-1)
    l, iz, iy = np.nonzero(any_)
    rows = m[l, iz, iy]
    x0 = np.argmax(rows, axis=-1)
    x1 = m.shape[-1] - np.argmax(rows[:, ::-1], axis=-1)
    return l, iz, iy, x0, x1


def _counters(raw: RawMRI, l: np.ndarray, lead: tuple[int, ...]) -> dict[str, np.ndarray]:
    names = raw.leading
    out = {a: np.zeros(len(l), np.int64) for a in LEADING_AXES}
    if names:
        for a, v in zip(names, np.unravel_index(l, lead), strict=True):
            if a not in out:
                raise ValueError(f"raw.axes has a leading axis {a!r} that ISMRMRD cannot store "
                                 f"(expected some of {LEADING_AXES})")
            out[a] = v
    return out


def _steps(raw: RawMRI, iz: np.ndarray, iy: np.ndarray, nz: int, ny: int, cart: bool) -> tuple:
    if not cart:
        return iy, iz, (ny // 2, nz // 2)
    c1, c2 = raw.header.encoding_center
    s1, s2 = iy - ny // 2 + c1, iz - nz // 2 + c2
    if s1.size and (s1.min() < 0 or s2.min() < 0 or s1.max() > 65535 or s2.max() > 65535):
        c1, c2 = ny // 2, nz // 2  # the header's centre does not fit this grid: counters from 0
        s1, s2 = iy, iz
    return s1, s2, (c1, c2)


def _traj_row(raw: RawMRI, l: int, iz: int, iy: int, x0: int, x1: int) -> np.ndarray:
    t = raw.trajectory
    c = raw.coil_axis
    t = np.reshape(t, (math.prod(t.shape[:c]), *t.shape[c:]))
    if t.ndim == 4:
        t = t[:, None]
    return np.asarray(t[l, iz, iy, x0:x1], dtype=np.float32)


def _line_records(raw: RawMRI, k: np.ndarray, m: np.ndarray, lead: tuple[int, ...], cart: bool,
                  flag: int | None) -> tuple[list[dict], tuple[int, int]]:
    nz, ny, nx = m.shape[1:]
    l, iz, iy, x0, x1 = _lines(m)
    s1, s2, center = _steps(raw, iz, iy, nz, ny, cart)
    cnt = _counters(raw, l, lead)
    cs = int(raw.header.extra.get("center_sample", 0))
    recs = []
    for j in range(len(l)):
        key = (int(l[j]), int(iz[j]), int(iy[j]))
        recs.append({
            "key": key, "data": k[key[0], :, key[1], key[2], x0[j]:x1[j]], "x0": int(x0[j]),
            "flags": [] if flag is None else [flag], "center": nx // 2 - int(x0[j]) if cart else cs,
            "dwell": raw.header.dwell_us,
            "cnt": {"kspace_encode_step_1": int(s1[j]), "kspace_encode_step_2": int(s2[j]),
                    **{a: int(cnt[a][j]) for a in LEADING_AXES}},
            "traj": None if raw.trajectory is None else _traj_row(raw, *key, int(x0[j]), int(x1[j]))})
    return recs, center


def _records(raw: RawMRI, cart: bool) -> tuple[list[dict], tuple[int, int], tuple[int, ...]]:
    """One dict per acquisition (noise first, then the imaging and calibration lines), the centre."""
    k, m, lead = _grid_view(raw)
    recs, center = _line_records(raw, k, m, lead, cart, None)
    if raw.calibration is not None:
        kc = np.reshape(raw.calibration, k.shape)
        mc = np.reshape(raw.calibration_mask, m.shape)
        cal, _ = _line_records(raw, kc, mc, lead, cart, _CAL)
        where = {r["key"]: i for i, r in enumerate(recs)}
        for r in cal:  # a calibration line equal to the imaging line is one CAL_AND_IMAGING acquisition
            i = where.get(r["key"])
            if i is not None and recs[i]["x0"] == r["x0"] and np.array_equal(recs[i]["data"], r["data"]):
                recs[i]["flags"].append(_CAL_IMG)
            else:
                recs.append(r)
    noise = []
    if raw.noise is not None:
        n = raw.noise.shape[1]
        step = max(1, min(n, 65535, int(raw.header.extra.get("noise_samples", m.shape[-1]))))
        noise = [{"data": raw.noise[:, s:s + step], "flags": [_NOISE], "x0": 0, "center": 0, "cnt": None,
                  "dwell": raw.header.noise_dwell_us, "traj": None} for s in range(0, n, step)]
    return noise + recs, center, lead


def _table(ismrmrd: Any, recs: list[dict], n_coils: int, lead_of: list[int]) -> np.ndarray:
    """The ISMRMRD acquisition table (the ``ismrmrd`` package's HDF5 dtype)."""
    arr = np.zeros(len(recs), dtype=ismrmrd.hdf5.acquisition_dtype)
    h = arr["head"]
    h["version"] = 1
    h["available_channels"] = h["active_channels"] = n_coils
    for c in range(n_coils):
        h["channel_mask"][:, c // 64] |= np.uint64(1 << (c % 64))
    h["read_dir"][:] = (1.0, 0.0, 0.0)
    h["phase_dir"][:] = (0.0, 1.0, 0.0)
    h["slice_dir"][:] = (0.0, 0.0, 1.0)
    flags = np.zeros(len(recs), np.uint64)
    for i, r in enumerate(recs):
        for f in r["flags"]:
            flags[i] |= np.uint64(1 << (f - 1))
        ns = r["data"].shape[-1]
        h["number_of_samples"][i] = ns
        h["center_sample"][i] = r["center"]
        h["sample_time_us"][i] = r["dwell"] or 0.0
        h["scan_counter"][i] = i + 1
        if r["cnt"] is not None:
            for a, v in r["cnt"].items():
                h["idx"][a][i] = v
        arr["data"][i] = np.ascontiguousarray(r["data"], dtype=np.complex64).view(np.float32).ravel()
        t = r["traj"]
        if t is not None:
            h["trajectory_dimensions"][i] = t.shape[-1]
        arr["traj"][i] = np.zeros(0, np.float32) if t is None else np.ascontiguousarray(t).ravel()
    lead = np.asarray(lead_of)
    img = np.flatnonzero(lead >= 0)
    if img.size:  # Gadgetron's buckets close on these
        first = img[np.r_[True, lead[img][1:] != lead[img][:-1]]]
        last = img[np.r_[lead[img][1:] != lead[img][:-1], True]]
        flags[first] |= np.uint64(1 << (_FIRST_IN_SLICE - 1))
        flags[last] |= np.uint64(1 << (_LAST_IN_SLICE - 1))
    flags[-1] |= np.uint64(1 << (_LAST_IN_MEAS - 1))
    h["flags"] = flags
    arr["head"] = h
    return arr


_TRAJECTORIES = ("cartesian", "epi", "radial", "goldenangle", "spiral", "other")
_GAMMA_HZ_PER_T = 42.577478e6  # proton gyromagnetic ratio / 2 pi


def _new_header(xsd: Any, h: MRIHeader, n_coils: int) -> Any:
    def space(mat: tuple, fov: tuple) -> Any:
        return xsd.encodingSpaceType(matrixSize=xsd.matrixSizeType(x=mat[0], y=mat[1], z=mat[2]),
                                     fieldOfView_mm=xsd.fieldOfViewMm(x=fov[0], y=fov[1], z=fov[2]))

    traj = h.trajectory if h.trajectory in _TRAJECTORIES else "other"
    enc = xsd.encodingType(encodedSpace=space(h.matrix, h.fov_mm),
                           reconSpace=space(h.recon_matrix, h.recon_fov_mm),
                           encodingLimits=xsd.encodingLimitsType(), trajectory=xsd.trajectoryType(traj))
    f0 = round(_GAMMA_HZ_PER_T * (h.field_strength_t or 0.0))
    asi = xsd.acquisitionSystemInformationType(
        systemVendor=h.vendor, systemFieldStrength_T=h.field_strength_t, receiverChannels=n_coils,
        relativeReceiverNoiseBandwidth=h.noise_bandwidth)
    seq = xsd.sequenceParametersType(TR=list(h.tr_ms), TE=list(h.te_ms)) if h.tr_ms or h.te_ms else None
    cond = xsd.experimentalConditionsType(H1resonanceFrequency_Hz=f0)
    return xsd.ismrmrdHeader(experimentalConditions=cond, acquisitionSystemInformation=asi, encoding=[enc],
                             sequenceParameters=seq)


def _header_xml(ismrmrd: Any, raw: RawMRI, recs: list[dict], center: tuple[int, int],
                lead: tuple[int, ...], grid: tuple[int, int, int]) -> str:
    """The XML header: the file's own (when it parses) with the matrix and limits of the data written."""
    xsd = ismrmrd.xsd
    h = raw.header
    doc = None
    if h.xml:
        try:
            doc = xsd.CreateFromDocument(h.xml)
        except Exception as e:  # xsdata raises its own parser errors for vendor extensions
            warnings.warn(f"write_ismrmrd: the header's XML does not parse with the ismrmrd schema ({e}); "
                          "writing a new header from raw.header", stacklevel=3)
    if doc is None or not doc.encoding:
        doc = _new_header(xsd, h, raw.n_coils)
    enc = doc.encoding[0]
    nz, ny, nx = grid
    enc.encodedSpace.matrixSize = xsd.matrixSizeType(x=nx, y=ny, z=nz)
    if h.oversampling_removed:
        enc.encodedSpace.fieldOfView_mm.x = h.recon_fov_mm[0]
    if enc.encodingLimits is None:
        enc.encodingLimits = xsd.encodingLimitsType()
    lim = enc.encodingLimits
    lines = [r["cnt"] for r in recs if r["cnt"] is not None]
    lim.kspace_encoding_step_0 = xsd.limitType(minimum=0, maximum=nx - 1, center=nx // 2)
    for name, c in (("kspace_encoding_step_1", center[0]), ("kspace_encoding_step_2", center[1])):
        key = "kspace_encode_step_" + name[-1]
        v = [cnt[key] for cnt in lines] or [0]
        setattr(lim, name, xsd.limitType(minimum=min(v), maximum=max(v), center=c))
    names = raw.leading
    for a in LEADING_AXES:
        n = lead[names.index(a)] if a in names else 1
        old = getattr(lim, a)
        setattr(lim, a, xsd.limitType(minimum=0, maximum=n - 1,
                                     center=min(old.center, n - 1) if old is not None else 0))
    if doc.acquisitionSystemInformation is not None:
        doc.acquisitionSystemInformation.receiverChannels = raw.n_coils
    return xsd.ToXML(doc)


def write_ismrmrd(path: str | os.PathLike, raw: RawMRI, *, dataset: str = "dataset") -> None:
    """Write a :class:`~csbox.io.RawMRI` as an ISMRMRD HDF5 file that :func:`read_ismrmrd` reads back.

    One acquisition per sampled line (its sampled readout span, ``center_sample`` and counters
    set so that the line lands where it was), noise samples first (``ACQ_IS_NOISE_MEASUREMENT``),
    calibration lines flagged ``ACQ_IS_PARALLEL_CALIBRATION`` (``..._AND_IMAGING`` when they equal
    the imaging line), ``ACQ_FIRST/LAST_IN_SLICE`` per leading index and ``ACQ_LAST_IN_MEASUREMENT``.
    The XML header is the one read from the file (``raw.header.xml``) with the encoded matrix,
    encoding limits and coil count of the data written, or a new one built from ``raw.header``.
    ``read_ismrmrd(path)`` then returns the same k-space, mask, noise, calibration and header
    fields (samples not in ``mask`` are not stored).

    Parameters
    ----------
    path : str or path
        The file to write (overwritten).
    raw : RawMRI
        The data; Cartesian or non-Cartesian (with ``raw.trajectory``).
    dataset : str
        The HDF5 group to write.

    Raises
    ------
    ImportError
        Without the ``ismrmrd`` package or h5py (``pip install 'csbox[mri]'``).
    """
    src = file_name(path)
    if not isinstance(raw, RawMRI):
        raise TypeError(f"raw must be a RawMRI, got {type(raw).__name__}")
    if not isinstance(dataset, str):
        raise TypeError(f"dataset must be a str (an HDF5 group name), got {type(dataset).__name__}")
    h5py = require("h5py", "write_ismrmrd")
    ismrmrd = require("ismrmrd", "write_ismrmrd")
    cart = raw.trajectory is None
    if not np.any(raw.mask):
        raise ValueError("raw.mask samples nothing: there is no acquisition to write")
    recs, center, lead = _records(raw, cart)
    grid = np.reshape(raw.mask, (-1, *raw.mask.shape[raw.coil_axis:]))
    grid = grid.shape[1:] if grid.ndim == 4 else (1, *grid.shape[1:])
    xml = _header_xml(ismrmrd, raw, recs, center, lead, grid)
    table = _table(ismrmrd, recs, raw.n_coils, [r["key"][0] if "key" in r else -1 for r in recs])
    with h5py.File(src, "w") as f:
        g = f.create_group(dataset)
        x = g.create_dataset("xml", shape=(1,), dtype=h5py.special_dtype(vlen=bytes))
        x[0] = xml.encode("utf-8")
        g.create_dataset("data", data=table, maxshape=(None,), chunks=True)
