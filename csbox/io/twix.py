"""Siemens raw data (twix ``.dat``, VB and VD/VE multi-raid) -> :class:`~csbox.io.RawMRI`, through twixtools.

Format (as twixtools reads it): a VD/VE file opens with a ``MrParcRaidFileHeader`` (``hdSize_``,
``count_`` measurements) and 64 entries (``measId_, fileId_, off_, len_, patName_, protName_``);
each measurement starts with its protocol header (``hdr_len``, then named text buffers:
``Config``, ``Dicom``, ``Meas``, ``MeasYaps`` (ASCCONV), ``Phoenix``, ...) followed by measurement
data blocks: a 192-byte scan header (mdh: ``EvalInfoMask`` flags, ``SamplesInScan``,
``UsedChannels``, the counters ``Lin, Ave, Sli, Par, Eco, Phs, Rep, Set, ...``, ``CenterCol``,
``CenterLin``, ``CenterPar``) and per channel a 32-byte channel header and the samples
(complex64). VB files hold one measurement and repeat a 128-byte mdh before every channel.

The file's block structure is checked here first (every block inside the file, each block
advancing), so that a truncated or corrupt file raises ``ValueError`` instead of sending the
parser past the end; then twixtools parses the protocol and the blocks, and the lines are placed
as :func:`~csbox.io.read_ismrmrd` places ISMRMRD acquisitions: ``ky = Lin - CenterLin + ny // 2``,
``kz = Par - CenterPar + nz // 2``, ``kx = s - CenterCol + nx // 2``.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
from collections import Counter
from typing import Any

import numpy as np

from .mrd import _HEAD_DTYPE, _assemble
from .mri import MRIHeader, RawMRI, file_name, require

__all__ = ["read_twix"]

# twix flags -> ISMRMRD flag numbers, so that one assembly serves both formats
_TO_ISMRMRD = {"NOISEADJSCAN": 19, "PATREFSCAN": 20, "PATREFANDIMASCAN": 21, "REFLECT": 22, "PHASCOR": 24,
               "HPFEEDBACK": 26, "RETRO_DUMMYSCAN": 27, "RTFEEDBACK": 28, "REFPHASESTABSCAN": 30,
               "PHASESTABSCAN": 31}
_ACQEND, _SYNCDATA = 0, 5  # EvalInfoMask bits
_RAID_HEADER = 9736  # MrParcRaidFileHeader + 64 entries


def _is_ve(first: int, second: int) -> bool:
    return first < 10000 and second <= 64  # twixtools' test: VD/VE open with (hdSize_, count_)


def _raid_entries(src: str, f: Any, size: int) -> list[tuple[int, int]]:
    """``(offset, length)`` of each measurement of a VD/VE file, checked against the file size."""
    if size < _RAID_HEADER:
        raise ValueError(f"{src}: {size} bytes, shorter than the VD/VE MrParcRaidFileHeader ({_RAID_HEADER})")
    f.seek(0)
    _, count = np.frombuffer(f.read(8), "<u4")
    if not 1 <= count <= 64:
        raise ValueError(f"{src}: MrParcRaidFileHeader count_ = {count} measurements (expected 1 to 64)")
    entries = np.frombuffer(f.read(152 * 64), dtype=[("measId_", "<u4"), ("fileId_", "<u4"), ("off_", "<u8"),
                                                     ("len_", "<u8"), ("pat", "S64"), ("prot", "S64")])
    out = []
    for k in range(int(count)):
        off, n = int(entries["off_"][k]), int(entries["len_"][k])
        if n == 0 and count == 1:
            n = size - off  # twixtools' rule for a single measurement with no length
        if off < _RAID_HEADER or off + n > size or n <= 0:
            raise ValueError(f"{src}: measurement {k} spans bytes {off}..{off + n} of a {size}-byte file "
                             "(MrParcRaidFileEntry off_/len_; truncated or corrupt)")
        out.append((off, n))
    return out


def _walk(src: str, f: Any, start: int, end: int, ve: bool, twixtools: Any) -> None:
    """Step through the measurement's blocks as twixtools will, checking each lies in the file."""
    f.seek(start)
    hdr_len = int(np.frombuffer(f.read(4), "<u4")[0])
    if hdr_len < 8 or start + hdr_len > end:
        raise ValueError(f"{src}: measurement header hdr_len = {hdr_len} runs past the measurement "
                         f"(bytes {start}..{end})")
    md = twixtools.mdh_def
    mdh_t = md.Scan_header if ve else md.VB17_header
    mdh_size = ctypes.sizeof(mdh_t)
    chan = ctypes.sizeof(md.Channel_header) if ve else mdh_size
    pos = start + hdr_len
    while pos + 128 < end:
        f.seek(pos)
        buf = f.read(mdh_size)
        if len(buf) < mdh_size:
            raise ValueError(f"{src}: the data block at byte {pos} is cut off (truncated file)")
        mdh = mdh_t.from_buffer_copy(buf)
        flags = int(mdh.EvalInfoMask)
        if flags >> _ACQEND & 1:
            return
        if flags >> _SYNCDATA & 1:
            dma = int(mdh.FlagsAndDMALength) % (1 << 25)
        else:
            dma = int(mdh.UsedChannels) * (8 * int(mdh.SamplesInScan) + chan) + (mdh_size if ve else 0)
        if dma <= 0 or pos + dma > end:
            raise ValueError(f"{src}: the data block at byte {pos} (mdh UsedChannels = {mdh.UsedChannels}, "
                             f"SamplesInScan = {mdh.SamplesInScan}) runs past byte {end} "
                             "(truncated or corrupt)")
        pos += dma


def _check_structure(src: str, twixtools: Any) -> None:
    size = os.path.getsize(src)
    if size < 16:
        raise ValueError(f"{src}: {size} bytes is not a twix file")
    with open(src, "rb") as f:
        first, second = np.frombuffer(f.read(8), "<u4")
        ve = _is_ve(int(first), int(second))
        spans = _raid_entries(src, f, size) if ve else [(0, size)]
        for off, n in spans:
            _walk(src, f, off, off + n, ve, twixtools)


def _get(d: Any, *keys: Any, default: Any = None) -> Any:
    for k in keys:
        try:
            d = d[k]
        except (KeyError, IndexError, TypeError):
            return default
    return d


def _table(mdbs: list, dwell_us: list[float]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The mdbs as an ISMRMRD-like acquisition table (counters, flags) and their samples."""
    heads = np.zeros(len(mdbs), _HEAD_DTYPE)
    data = []
    for i, m in enumerate(mdbs):
        h = m.mdh
        flags = 0
        for name, bit in _TO_ISMRMRD.items():
            if m.is_flag_set(name):
                flags |= 1 << (bit - 1)
        d = np.asarray(m.data, dtype=np.complex64)
        if d.shape != (h.UsedChannels, h.SamplesInScan):
            d = np.reshape(d, (h.UsedChannels, h.SamplesInScan))
        c = h.Counter
        heads[i] = (flags, h.SamplesInScan, h.UsedChannels, h.CenterCol, 0, dwell_us[i], 0,
                    (c.Lin, c.Par, c.Rep, c.Eco, c.Phs, c.Set, c.Ave, c.Sli))
        data.append(d.view(np.float32).ravel())
    return heads, data


def _header(meas: dict, heads: np.ndarray, img: np.ndarray, centres: np.ndarray) -> MRIHeader:
    """Matrix, centre, FOV, field, TR/TE from the protocol (``MeasYaps``, ``Meas``, ``Dicom``) and mdhs."""
    hdr = meas.get("hdr", {})
    yaps = hdr.get("MeasYaps", {})
    os_factor = float(_get(hdr, "Meas", "flReadoutOSFactor", default=2.0) or 2.0)
    base = int(_get(yaps, "sKSpace", "lBaseResolution", default=0) or 0)
    ny_p = int(_get(yaps, "sKSpace", "lPhaseEncodingLines", default=0) or 0)
    nz_p = int(_get(yaps, "sKSpace", "lPartitions", default=1) or 1)
    three_d = _get(yaps, "sKSpace", "ucDimension") == 4
    idx = heads["idx"][img]
    lin, par = idx["kspace_encode_step_1"].astype(int), idx["kspace_encode_step_2"].astype(int)
    c_lin = Counter(centres[img, 0].tolist()).most_common(1)[0][0]
    c_par = Counter(centres[img, 1].tolist()).most_common(1)[0][0]
    ny = max(ny_p, 2 * max(c_lin, int(lin.max()) - c_lin + 1))
    nz = max(nz_p if three_d else 1, 2 * max(c_par, int(par.max()) - c_par + 1) if par.max() > 0 else 1)
    ns, cc = heads["number_of_samples"][img].astype(int), heads["center_sample"][img].astype(int)
    nx = max(round(base * os_factor), int(np.max(2 * np.maximum(cc, ns - cc))))
    sl = _get(yaps, "sSliceArray", "asSlice", 0, default={}) or {}
    fov_r, fov_p = float(sl.get("dReadoutFOV", 0.0)), float(sl.get("dPhaseFOV", 0.0))
    fov_z = float(sl.get("dThickness", 0.0))
    n_con = int(yaps.get("lContrasts", 1) or 1)
    tr = tuple(v / 1000.0 for v in (yaps.get("alTR") or [])[:1] if v)
    te = tuple(v / 1000.0 for v in (yaps.get("alTE") or [])[:n_con] if v)
    model = _get(hdr, "Dicom", "ManufacturersModelName")
    return MRIHeader(
        matrix=(nx, ny, nz), recon_matrix=(max(1, round(nx / os_factor)), ny, nz),
        fov_mm=(fov_r * os_factor, fov_p, fov_z), recon_fov_mm=(fov_r, fov_p, fov_z),
        field_strength_t=_get(hdr, "Dicom", "flMagneticFieldStrength"), tr_ms=tr, te_ms=te,
        encoding_center=(c_lin, c_par), vendor=" ".join(t for t in ("SIEMENS", model) if t),
        extra={"sequence": _get(hdr, "Config", "SequenceFileName"), "readout_os_factor": os_factor})


def _dwell_us(meas: dict, os_factor: float) -> float:
    """ADC sample time in µs: ``sRXSPEC.alDwellTime[0]`` (ns per reconstructed pixel) over the readout OS."""
    d = _get(meas, "hdr", "MeasYaps", "sRXSPEC", "alDwellTime", 0, default=0) or 0
    return float(d) / 1000.0 / os_factor


def read_twix(path: str | os.PathLike, *, scan: int = -1, remove_oversampling: bool = False) -> RawMRI:
    """Read a Siemens twix ``.dat`` file (VB, or VD/VE multi-raid) into a :class:`~csbox.io.RawMRI`.

    The imaging lines of measurement ``scan`` (the last one by default: earlier measurements
    of a VD/VE file are adjustment scans) are placed by their counters, ``ky = Lin - CenterLin +
    ny // 2``, ``kz = Par - CenterPar + nz // 2`` and ``kx = s - CenterCol + nx // 2`` (partial
    Fourier and asymmetric echo leave zeros), with ``Rep, Eco, Phs, Set, Ave, Sli`` as leading
    axes; ``ny`` and ``nz`` come from the protocol (``sKSpace.lPhaseEncodingLines``,
    ``lPartitions``) and ``nx`` is ``lBaseResolution`` times the readout oversampling
    (``flReadoutOSFactor``), each widened if a counter needs more. Noise scans (``NOISEADJSCAN``,
    from every measurement with the image's channel count) go to ``noise``; ``PATREFSCAN`` lines
    to ``calibration`` (``PATREFANDIMASCAN`` also to the image); ``PHASCOR``, feedback and
    phase-stabilisation scans are left out and counted in ``header.skipped``.

    Parameters
    ----------
    path : str or path
        The ``.dat`` file.
    scan : int
        Which measurement of a multi-raid (VD/VE) file holds the image (negative counts from the end).
    remove_oversampling : bool
        Crop the readout to ``lBaseResolution`` samples in image space (see :func:`read_ismrmrd`).

    Returns
    -------
    RawMRI
        ``header.xml`` is None; ``header.extra`` holds the sequence file and the readout
        oversampling factor.

    Raises
    ------
    ValueError
        A truncated or corrupt file (a block past the end, a measurement header past its
        measurement), no imaging lines, an impossible grid; naming the file and the field.
    ImportError
        Without twixtools (``pip install 'csbox[mri]'``).
    """
    src = file_name(path)
    twixtools = require("twixtools", "read_twix")
    if not os.path.exists(src):
        raise FileNotFoundError(f"no twix file {src}")
    if not isinstance(scan, (int, np.integer)) or isinstance(scan, bool):
        raise TypeError(f"scan must be an int, got {type(scan).__name__}")
    _check_structure(src, twixtools)
    with contextlib.redirect_stdout(io.StringIO()):  # twixtools prints its progress and warnings
        twix = twixtools.read_twix(src, verbose=False, parse_pmu=False, parse_geometry=False,
                                   keep_syncdata=False)
    if not -len(twix) <= scan < len(twix):
        raise ValueError(f"scan must index the {len(twix)} measurements of {src}, got {scan}")
    k = scan % len(twix)
    meas = twix[k]
    os_factor = float(_get(meas, "hdr", "Meas", "flReadoutOSFactor", default=2.0) or 2.0)
    mdbs = [m for m in meas["mdb"] if not m.is_flag_set("SYNCDATA") and not m.is_flag_set("ACQEND")]
    n_ch = Counter(m.mdh.UsedChannels for m in mdbs if m.is_image_scan()).most_common(1)
    if not n_ch:
        raise ValueError(f"{src}: measurement {k} has no imaging lines (only noise, feedback or other scans)")
    dwell = [_dwell_us(meas, os_factor)] * len(mdbs)
    for j, t in enumerate(twix):  # noise adjust scans of the other measurements (VD/VE)
        if j != k:
            extra = [m for m in t["mdb"]
                     if m.is_flag_set("NOISEADJSCAN") and m.mdh.UsedChannels == n_ch[0][0]]
            mdbs += extra
            dwell += [_dwell_us(t, os_factor)] * len(extra)
    heads, data = _table(mdbs, dwell)
    img = np.array([m.is_image_scan() or m.is_flag_set("PATREFSCAN") for m in mdbs])
    centres = np.array([(m.mdh.CenterLin, m.mdh.CenterPar) for m in mdbs], dtype=np.int64)
    hdr = _header(meas, heads, img, centres)
    hdr.extra["twix_version"] = "VD/VE" if "raidfile_hdr" in meas else "VB"
    hdr.extra["measurements"] = len(twix)
    return _assemble(src, hdr, {}, heads, data, None, remove_oversampling)
