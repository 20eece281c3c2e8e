r"""Ultrasound channel data from files: USTB's UFF (HDF5) and MATLAB ``.mat`` (MUST, Verasonics).

Every reader returns a :class:`ChannelData`: the samples in csbox's layout
``(n_frames, n_transmits, n_elements, n_samples)`` (real RF or complex IQ, as
stored), a :class:`~csbox.ultrasound.Probe`, the transmit sequence
(:class:`~csbox.ultrasound.Transmit`) and the acquisition start ``t0`` of each
transmit in csbox's time origin (the first element fires at 0), so
``cd.iq()`` -> :func:`~csbox.ultrasound.das` needs no further bookkeeping.

Time references. UFF: the reference is the moment the wave passes the origin and
sample ``n`` of wave ``s`` lies at ``initial_time + delay_s + n / fs``
(``uff.channel_data.time``); csbox's arrival of the same wave at the origin is
``tau_s(0, 0)``, so ``t0_s = initial_time + delay_s + tau_s(0, 0)``. MUST: ``t0``
(param.t0) is already measured from the first firing. Verasonics: the receive
window starts at ``startDepth`` wavelengths (two-way), ``t0 = 2 startDepth / fc``
measured from the transmit's time zero (the first element fires at
``min(TX.Delay)``).

Validation: a missing or malformed field raises ``ValueError`` naming the file
and the field; nothing is unpickled (HDF5 through ``h5py``; ``.mat`` through
``scipy.io.loadmat``, which reads MATLAB arrays and structs only).

References
----------
A. Rodriguez-Molares et al., "The UltraSound ToolBox", IEEE IUS 2017 (UFF).
D. Garcia, "Make the most of MUST, an open-source Matlab UltraSound Toolbox", IEEE IUS 2021.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._validation import check_scalar
from ..ultrasound.demodulation import rf2iq
from ..ultrasound.probe import C_SOUND, Probe, Transmit, t0_per_transmit

__all__ = ["ChannelData", "read_mat", "read_uff", "write_uff"]


@dataclass
class ChannelData:
    """Channel data and the acquisition that made it.

    Attributes
    ----------
    data : ndarray (n_frames, n_transmits, n_elements, n_samples)
        Real RF (any dtype the file holds, e.g. int16) or complex IQ at ``probe.fc``.
    probe : Probe
    transmits : list of Transmit
    fs : float
        Sampling frequency (Hz).
    t0 : ndarray (n_transmits,)
        Time of the first sample of each transmit (s), after its first element fires.
    c : float
        Speed of sound (m/s).
    prf : float or None
        Frame (slow-time) rate (Hz), if the file gives it.
    path : str
        The file read.
    """

    data: np.ndarray
    probe: Probe
    transmits: list[Transmit]
    fs: float
    t0: np.ndarray
    c: float = C_SOUND
    prf: float | None = None
    path: str = ""

    @property
    def is_iq(self) -> bool:
        return bool(np.iscomplexobj(self.data))

    def iq(self, *, bandwidth: float | None = None, upsample: int = 1) -> np.ndarray:
        """Complex IQ ``(n_frames, n_transmits, n_elements, n_samples * upsample)`` (see ``rf2iq``).

        RF is demodulated with each transmit's ``t0`` and the probe's bandwidth unless
        ``bandwidth`` is given; IQ data are returned as stored (``upsample`` must then be 1).
        """
        if self.is_iq:
            if upsample != 1:
                raise ValueError("upsample applies to RF data; these data are IQ already")
            return self.data
        bw = self.probe.bandwidth if bandwidth is None else bandwidth
        return rf2iq(self.data, self.fs, self.probe.fc, bw, t0=self.t0[None, :, None], upsample=upsample)


def _fail(path: Any, field: str, why: str) -> ValueError:
    return ValueError(f"{path}: field {field!r} {why}")


# ----------------------------------------------------------------------------- UFF (HDF5, USTB)
def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover
        raise ImportError("reading UFF files needs h5py: pip install 'csbox[io]'") from e
    return h5py


# gzip's deflate cannot compress by more than ~1032:1; a dataset claiming more is not what it says
_MAX_COMPRESSION = 1100


def _read_dataset(ds: Any, path: Path) -> np.ndarray:
    """A numeric dataset's values, once the file is known to hold them (no allocation beyond the file).

    The dataset's bytes (``size * itemsize``) must be stored: equal to its storage on disk when
    unfiltered, at most ``_MAX_COMPRESSION`` times it when compressed, and the storage no larger
    than the file; a truncated or corrupt dataset is reported, never read as fill values.
    """
    if ds.dtype.kind not in "biuf":
        raise _fail(path, ds.name, f"must be numeric, got dtype {ds.dtype}")
    need = math.prod(ds.shape) * ds.dtype.itemsize if ds.shape is not None else 0
    try:
        stored = ds.id.get_storage_size()
        filtered = ds.compression is not None or bool(ds.shuffle) or bool(ds.scaleoffset)
    except (OSError, RuntimeError, ValueError) as e:
        raise _fail(path, ds.name, f"cannot be read ({e})") from None
    small = need <= 1 << 12  # compact and scalar datasets live in the object header
    if not small and (
        stored > path.stat().st_size
        or (filtered and need > _MAX_COMPRESSION * stored)
        or (not filtered and stored < need)
    ):
        raise _fail(
            path, ds.name, f"has shape {ds.shape} ({need} bytes) but the file stores {stored} bytes of it"
        )
    try:
        return np.asarray(ds[()])
    except (OSError, RuntimeError, ValueError, TypeError) as e:
        raise _fail(path, ds.name, f"cannot be read ({e})") from None


def _uff_value(
    g: Any, name: str, path: Any, *, scalar: bool = True, default: Any = None, allow_inf: bool = False
) -> Any:
    """A numeric UFF field: a dataset, or a group with ``real``/``imag`` datasets (``complex`` attribute)."""
    h5py = _h5py()
    if name not in g:
        if default is not None:
            return default
        raise _fail(path, f"{g.name}/{name}".lstrip("/"), "is missing")
    obj = g[name]
    if isinstance(obj, h5py.Group):
        if not all(isinstance(obj.get(k), h5py.Dataset) for k in ("real", "imag")):
            raise _fail(path, obj.name, "is a group without real/imag datasets")
        re, im = _read_dataset(obj["real"], path), _read_dataset(obj["imag"], path)
        if re.shape != im.shape:
            raise _fail(path, obj.name, f"has real part {re.shape} and imaginary part {im.shape}")
        arr = re + 1j * im
    elif isinstance(obj, h5py.Dataset):
        arr = _read_dataset(obj, path)
    else:
        raise _fail(path, f"{g.name}/{name}".lstrip("/"), f"must be a dataset, got {type(obj).__name__}")
    if scalar:
        if arr.size != 1:
            raise _fail(path, obj.name, f"must be a scalar, got shape {arr.shape}")
        v = arr.reshape(()).item()
        if isinstance(v, complex) or math.isnan(float(v)) or (math.isinf(float(v)) and not allow_inf):
            raise _fail(path, obj.name, f"must be a finite real number, got {v!r}")
        return float(v)
    return arr


def _uff_shape(g: Any, name: str, path: Any) -> tuple[int, ...]:
    """The shape of a UFF array field (dataset or real/imag group) without reading it."""
    h5py = _h5py()
    obj = g.get(name)
    if isinstance(obj, h5py.Group):
        obj = obj.get("real")
    if not isinstance(obj, h5py.Dataset) or obj.shape is None:
        raise _fail(path, f"{g.name}/{name}".lstrip("/"), "is missing (or not an array)")
    return tuple(obj.shape)


def _uff_count(v: float, path: Any, field: str, expected: int) -> int:
    """An element count read from the file: a whole number equal to the data's."""
    if v != round(v) or int(v) != expected:
        raise _fail(path, field, f"must be the data's {expected} channels, got {v!r}")
    return expected


def _uff_probe(g: Any, path: Any, fc: float, bandwidth: float, n_channels: int) -> Probe:
    cls = _attr_str(g, "class")
    if cls == "uff.linear_array" and "pitch" in g and "N" in g:
        n = _uff_count(_uff_value(g, "N", path), path, f"{g.name}/N", n_channels)
        pitch = _uff_value(g, "pitch", path)
        width = _uff_value(g, "element_width", path, default=pitch)
        height = _uff_value(g, "element_height", path, default=5e-3)
    elif "geometry" in g:
        geo = np.asarray(_uff_value(g, "geometry", path, scalar=False), float)
        if geo.ndim != 2 or 7 not in geo.shape:
            raise _fail(
                path, f"{g.name}/geometry", f"must be (7, N) [x y z theta phi width height], got {geo.shape}"
            )
        geo = geo if geo.shape[0] == 7 else geo.T
        x = geo[0]
        n = _uff_count(float(x.size), path, f"{g.name}/geometry", n_channels)
        pitch = float(np.mean(np.diff(x))) if n > 1 else float(geo[5, 0])
        if n > 1 and (np.ptp(np.diff(x)) > 1e-6 * abs(pitch) or np.any(geo[2] != 0) or pitch <= 0):
            raise _fail(path, f"{g.name}/geometry", "is not a flat linear array with increasing, uniform x")
        if abs(float(np.mean(x))) > 1e-6 * max(abs(pitch), 1e-3):
            raise _fail(path, f"{g.name}/geometry", "must be centred on x = 0 (csbox's linear array)")
        width, height = float(geo[5, 0]), float(geo[6, 0])
    else:
        raise _fail(path, g.name, f"must be a uff.linear_array or hold a geometry, got class {cls!r}")
    try:
        return Probe(
            fc=fc,
            pitch=pitch,
            width=min(width, pitch) if width > 0 else pitch,
            n_elements=int(n),
            bandwidth=bandwidth,
            height=height if height > 0 else 5e-3,
        )
    except (TypeError, ValueError) as e:
        raise _fail(path, g.name, f"does not describe a valid probe: {e}") from None


def _attr_str(g: Any, name: str) -> str:
    v = g.attrs.get(name, "")
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.ndarray):
        v = "".join(chr(int(c)) for c in v.ravel()) if v.dtype.kind in "iu" else str(v.ravel()[0])
    return str(v)


def _uff_waves(g: Any, path: Any) -> list[Any]:
    """The wave groups of a UFF sequence (one wave, or subgroups when ``size`` says n > 1)."""
    h5py = _h5py()
    if "source" in g:
        return [g]
    size = np.asarray(g.attrs.get("size", [1, 1])).ravel()
    if size.dtype.kind not in "iuf" or not np.all(np.isfinite(size)):
        raise _fail(path, f"{g.name}.size", f"must be numeric, got {size!r}")
    n = int(size[-1]) if size.size else 1
    subs = [g[k] for k in sorted(g.keys()) if isinstance(g[k], h5py.Group) and "source" in g[k]]
    if not subs or (n > 1 and len(subs) != n):
        raise _fail(path, g.name, f"says {n} waves but holds {len(subs)} wave groups (with a source)")
    return subs


def _uff_transmit(w: Any, path: Any, probe: Probe, c: float) -> tuple[Transmit, float]:
    """A csbox Transmit and the wave's ``delay`` (s)."""
    wavefront = int(_uff_value(w, "wavefront", path, default=1.0))
    src = w["source"] if "source" in w else None
    if src is None:
        raise _fail(path, f"{w.name}/source", "is missing")
    dist = _uff_value(src, "distance", path, allow_inf=True)
    az = _uff_value(src, "azimuth", path, default=0.0)
    el = _uff_value(src, "elevation", path, default=0.0)
    if el != 0:
        raise _fail(path, f"{src.name}/elevation", f"must be 0 for a 2-D linear-array sequence, got {el}")
    delay = _uff_value(w, "delay", path, default=0.0) if "delay" in w else 0.0
    if wavefront == 0 or math.isinf(dist):
        return Transmit("plane", az), delay
    if wavefront != 1:
        raise _fail(path, f"{w.name}/wavefront", f"must be 0 (plane) or 1 (spherical), got {wavefront}")
    xs, zs = dist * math.sin(az), dist * math.cos(az)
    if not zs < 0:
        raise _fail(
            path,
            f"{src.name}",
            f"is a focused (converging) source at z = {zs}; only plane and diverging waves are supported",
        )
    return Transmit("diverging", 0.0, (xs, zs)), delay


def _uff_pulse(g: Any, path: Path, f_mod: float) -> tuple[float, float]:
    """Centre frequency and fractional bandwidth (a fraction, 0 when unknown) of a channel-data group."""
    if "pulse" in g:
        fc = _uff_value(g["pulse"], "center_frequency", path)
        bw = (
            _uff_value(g["pulse"], "fractional_bandwidth", path, default=0.0)
            if "fractional_bandwidth" in g["pulse"]
            else 0.0
        )
    elif f_mod > 0:
        fc, bw = f_mod, 0.0
    else:
        raise _fail(path, f"{g.name}/pulse", "is missing (the centre frequency of RF data)")
    return fc, bw / 100 if bw > 2 else bw


def _check_uff_data(data: np.ndarray, path: Path, n_waves: int, n_elements: int) -> np.ndarray:
    """UFF data as ``(frames, waves, channels, samples)``, finite and matching the sequence and probe."""
    if not np.all(np.isfinite(data)):
        raise _fail(path, "data", "contains NaN or Inf")
    data = data.reshape((1,) * (4 - data.ndim) + data.shape) if data.ndim < 4 else data
    if data.ndim != 4:
        raise _fail(path, "data", f"must have at most 4 axes [time channel wave frame], got {data.ndim}")
    if data.shape[1] != n_waves or data.shape[2] != n_elements:
        raise _fail(
            path,
            "data",
            f"has (frames, waves, channels, samples) = {data.shape}, but the sequence "
            f"has {n_waves} waves and the probe {n_elements} elements",
        )
    return data


def read_uff(path: str | Path, name: str | None = None) -> ChannelData:
    """Read a ``uff.channel_data`` object from a UFF file (USTB's HDF5 format).

    Parameters
    ----------
    path : str or Path
    name : str, optional
        The channel-data group (default: the first group whose ``class`` is ``uff.channel_data``).

    Returns
    -------
    ChannelData
        ``data`` of shape ``(n_frames, n_waves, n_elements, n_samples)``. UFF stores MATLAB's
        ``[time x channel x wave x frame]`` column-major, which HDF5 presents in exactly this
        C order. IQ data (``modulation_frequency > 0``) are re-referenced to the probe's
        ``fc`` and to csbox's time origin. A file without ``pulse.fractional_bandwidth`` gets
        a 60 % probe bandwidth (give ``bandwidth=`` to :meth:`ChannelData.iq` to override).
    """
    h5py = _h5py()
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except (OSError, RuntimeError, ValueError) as e:
        raise ValueError(f"{path}: not an HDF5 (UFF) file ({e})") from None
    try:
        with f:
            return _read_uff_group(_uff_group(f, name, path), path)
    except (OSError, RuntimeError, KeyError, TypeError, AttributeError) as e:
        # a corrupt object header or link that h5py trips over outside the checked reads
        raise ValueError(f"{path}: corrupt HDF5 structure, field unknown ({type(e).__name__}: {e})") from None


def _read_uff_group(g: Any, path: Path) -> ChannelData:
    """The ``uff.channel_data`` group ``g`` as :class:`ChannelData` (the file still open)."""
    fs = _uff_value(g, "sampling_frequency", path)
    t_init = _uff_value(g, "initial_time", path)
    c = _uff_value(g, "sound_speed", path, default=C_SOUND)
    f_mod = (
        _uff_value(g, "modulation_frequency", path, default=0.0) if "modulation_frequency" in g else 0.0
    )
    prf = None
    for key in ("PRF", "prf"):
        if key in g:
            prf = _uff_value(g, key, path)
    for key, v in (("sampling_frequency", fs), ("sound_speed", c), ("PRF", prf)):
        if v is not None:
            _positive(v, path, f"{g.name}/{key}".lstrip("/"))
    fc, bw = _uff_pulse(g, path, f_mod)
    if "probe" not in g:
        raise _fail(path, f"{g.name}/probe", "is missing")
    shape = _uff_shape(g, "data", path)  # (frames, waves, channels, samples), trailing axes kept
    probe = _uff_probe(g["probe"], path, fc, bw if bw > 0 else 0.6, shape[-2] if len(shape) >= 2 else 1)
    if "sequence" not in g:
        raise _fail(path, f"{g.name}/sequence", "is missing")
    pairs = [_uff_transmit(w, path, probe, c) for w in _uff_waves(g["sequence"], path)]
    data = _uff_value(g, "data", path, scalar=False)
    transmits = [t for t, _ in pairs]
    data = _check_uff_data(data, path, len(transmits), probe.n_elements)
    t0 = np.array([t_init + d + float(tr.arrival(probe, np.zeros(1), np.zeros(1), c)[0]) for tr, d in pairs])
    if f_mod > 0:
        # UFF IQ: RF = Re(IQ e^{j w_m t_uff}); csbox: RF = Re(IQ' e^{j w_c t}), t = t_uff + offset_s
        n = np.arange(data.shape[-1]) / fs
        t_uff = (t_init + np.array([d for _, d in pairs]))[:, None] + n  # UFF time of each sample
        t_cs = t0[:, None] + n
        data = data * np.exp(2j * math.pi * (f_mod * t_uff - fc * t_cs))[None, :, None, :]
    return ChannelData(
        data=data, probe=probe, transmits=transmits, fs=fs, t0=t0, c=c, prf=prf, path=str(path)
    )


def _uff_group(f: Any, name: str | None, path: Any) -> Any:
    h5py = _h5py()
    if name is not None:
        if name not in f or not isinstance(f[name], h5py.Group):
            raise _fail(path, name, "is not a group of the file")
        return f[name]
    for k in f:
        if isinstance(f[k], h5py.Group) and _attr_str(f[k], "class") == "uff.channel_data":
            return f[k]
    raise _fail(path, "class", "no group of class 'uff.channel_data' found")


def _w_value(g: Any, name: str, value: Any, **kw: Any) -> None:
    arr = np.asarray(value)
    if np.iscomplexobj(arr):
        sub = g.create_group(name)
        sub.attrs["complex"] = np.int8(1)
        sub.create_dataset("real", data=arr.real, **kw)
        sub.create_dataset("imag", data=arr.imag, **kw)
        return
    d = g.create_dataset(name, data=arr.reshape(1, 1) if arr.ndim == 0 else arr, **kw)
    d.attrs["complex"] = np.int8(0)


def _w_group(parent: Any, name: str, cls: str, size: tuple[int, int] = (1, 1)) -> Any:
    g = parent.create_group(name)
    g.attrs["class"] = cls
    g.attrs["name"] = name
    g.attrs["size"] = np.asarray(size, dtype=np.int64)
    return g


def _w_sequence(g: Any, transmits: Sequence[Transmit], delays: np.ndarray, c: float) -> None:
    """The ``sequence`` of ``uff.wave`` groups (one group when there is one wave)."""
    seq = _w_group(g, "sequence", "uff.wave", (1, len(transmits)))
    for s, tr in enumerate(transmits):
        w = _w_group(seq, f"sequence_{s + 1:04d}", "uff.wave") if len(transmits) > 1 else seq
        src = _w_group(w, "source", "uff.point")
        if tr.kind == "plane":
            _w_value(w, "wavefront", 0.0)
            dist, az = math.inf, tr.angle
        elif tr.kind == "diverging":
            _w_value(w, "wavefront", 1.0)
            xs, zs = tr.source
            dist, az = math.hypot(xs, zs), math.atan2(xs, zs)
        else:
            raise ValueError(f"transmit {s} has explicit element delays: UFF waves are plane or spherical")
        _w_value(src, "distance", dist)
        _w_value(src, "azimuth", az)
        _w_value(src, "elevation", 0.0)
        _w_value(w, "delay", float(delays[s]))
        _w_value(w, "sound_speed", float(c))


def _check_rates(fs: Any, c: Any, prf: Any, t0: Any, n_transmits: int) -> tuple:
    """:func:`write_uff`'s ``fs, c, prf`` (all > 0) and ``t0`` per transmit, checked."""
    fs, c = check_scalar("fs", fs, low=0, low_open=True), check_scalar("c", c, low=0, low_open=True)
    prf = None if prf is None else check_scalar("prf", prf, low=0, low_open=True)
    return fs, c, prf, t0_per_transmit(t0, n_transmits)


def write_uff(
    path: str | Path, data: np.ndarray, probe: Probe, transmits: Sequence[Transmit], *, fs: float,
    t0: float | Sequence[float] = 0.0, c: float = C_SOUND, prf: float | None = None,
    name: str = "channel_data", compression: str | None = "gzip",
) -> None:
    """Write channel data ``(n_frames, n_transmits, n_elements, n_samples)`` as a UFF ``uff.channel_data``.

    Follows USTB's layout (groups with ``class``/``name``/``size`` attributes, MATLAB
    column-major arrays, complex as ``real``/``imag``): real data are RF
    (``modulation_frequency = 0``), complex data IQ at ``probe.fc``. ``t0`` is in csbox's
    time origin and is stored as ``initial_time = 0`` plus each wave's ``delay``.
    Plane and diverging transmits only (UFF has no per-element delay wave).

    Parameters
    ----------
    path : str or pathlib.Path
        Target HDF5 file (overwritten); needs h5py (the ``io`` extra).
    data : array, shape ``(n_frames, n_transmits, n_elements, n_samples)``
        Real RF or complex IQ (at ``probe.fc``, csbox's time origin).
    probe : Probe
        Must have ``n_elements == data.shape[2]``.
    transmits : sequence of Transmit
        ``data.shape[1]`` plane or diverging transmits (``kind="delays"`` raises ``ValueError``).
    fs, c : float
        Sampling frequency (Hz); speed of sound (m/s, default 1540).
    t0 : float or sequence of float, default 0.0
        Time of the first sample (s) after the first element fires, one for all or one per transmit.
    prf : float, optional
        Frame rate (Hz), stored as ``PRF`` when given.
    name : str, default "channel_data"
        Name of the ``uff.channel_data`` group.
    compression : str or None, default "gzip"
        h5py compression of the ``data`` dataset (None: uncompressed).
    """
    h5py = _h5py()
    data = np.asarray(data)
    if data.ndim != 4:
        raise ValueError(
            f"data must be (n_frames, n_transmits, n_elements, n_samples), got shape {data.shape}"
        )
    if data.shape[1] != len(transmits) or data.shape[2] != probe.n_elements:
        raise ValueError(
            f"data has {data.shape[1]} transmits and {data.shape[2]} elements; the sequence has "
            f"{len(transmits)}, the probe {probe.n_elements}"
        )
    if any(tr.kind == "delays" for tr in transmits):
        raise ValueError("transmits with explicit element delays cannot be written: UFF waves are plane or "
                         "spherical")
    fs, c, prf, t0s = _check_rates(fs, c, prf, t0, len(transmits))
    offsets = np.array([float(tr.arrival(probe, np.zeros(1), np.zeros(1), c)[0]) for tr in transmits])
    kw = {"compression": compression} if compression else {}
    with h5py.File(path, "w") as f:
        f.attrs["version"] = "v1.2.0"
        g = _w_group(f, name, "uff.channel_data")
        _w_value(g, "sampling_frequency", float(fs))
        _w_value(g, "initial_time", 0.0)
        _w_value(g, "sound_speed", float(c))
        is_iq = np.iscomplexobj(data)
        _w_value(g, "modulation_frequency", float(probe.fc) if is_iq else 0.0)
        if prf is not None:
            _w_value(g, "PRF", float(prf))
        pulse = _w_group(g, "pulse", "uff.pulse")
        _w_value(pulse, "center_frequency", float(probe.fc))
        _w_value(pulse, "fractional_bandwidth", float(probe.bandwidth))
        pr = _w_group(g, "probe", "uff.linear_array")
        x = probe.x
        geo = np.stack(
            [x, 0 * x, 0 * x, 0 * x, 0 * x, np.full_like(x, probe.width), np.full_like(x, probe.height)]
        )
        _w_value(pr, "geometry", geo)  # MATLAB N x 7, column-major = (7, N) here
        _w_value(pr, "N", float(probe.n_elements))
        _w_value(pr, "pitch", float(probe.pitch))
        _w_value(pr, "element_width", float(probe.width))
        _w_value(pr, "element_height", float(probe.height))
        _w_sequence(g, transmits, t0s - offsets, c)
        if is_iq:
            # csbox IQ -> UFF IQ (modulation at fc, UFF time = csbox time - offset_s)
            data = data * np.exp(2j * math.pi * probe.fc * offsets)[None, :, None, None]
        _w_value(g, "data", data, **kw)


# ----------------------------------------------------------------------------- MATLAB .mat
def _loadmat(path: Path) -> dict:
    import scipy.io

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False, mat_dtype=False)
    except NotImplementedError:
        raise ValueError(f"{path}: a MATLAB v7.3 file (HDF5); save with -v7 or read it with h5py") from None
    except MemoryError:
        raise ValueError(f"{path}: a variable's header claims more data than can be held") from None
    except Exception as e:  # scipy raises MatReadError, struct/zlib errors, IndexError, ... on corrupt files
        raise ValueError(f"{path}: not a readable MATLAB .mat file ({type(e).__name__}: {e})") from None


def _field(obj: Any, name: str, path: Any, where: str, *, default: Any = None, array: bool = False) -> Any:
    v = getattr(obj, name, None) if not isinstance(obj, dict) else obj.get(name)
    if v is None or (isinstance(v, np.ndarray) and v.size == 0):
        if default is not None:
            return default
        raise _fail(path, f"{where}.{name}", "is missing")
    arr = np.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise _fail(path, f"{where}.{name}", f"must be numeric, got {arr.dtype}")
    if array:
        return arr.astype(float)
    if arr.size != 1 or not np.isfinite(arr).all():
        raise _fail(path, f"{where}.{name}", f"must be a finite scalar, got {arr!r}")
    return float(arr.reshape(()))


def _positive(v: float, path: Any, where: str) -> float:
    """A rate or speed read from a file, checked ``> 0``."""
    if not v > 0:
        raise _fail(path, where, f"must be > 0, got {v!r}")
    return v


def read_mat(path: str | Path) -> ChannelData:
    """Read RF/IQ channel data saved from MATLAB: MUST (``RF`` or ``IQ`` + ``param``) or Verasonics
    (``RcvData`` + ``Trans``, ``Receive``, ``TX``, optional ``Resource``).

    MUST: ``RF``/``IQ`` of shape ``(samples, elements[, frames])`` and ``param`` with ``fc``,
    ``fs``, ``pitch``, two of ``width``/``kerf`` (or ``pitch`` and ``width``), ``Nelements``,
    ``bandwidth`` (%), optional ``c``, ``t0``, ``TXdelay`` (s, per element) and ``PRF``.
    One transmit per frame (the sequence's delays), as MUST's examples store plane waves.

    Verasonics: ``RcvData`` ``(samples, channels, frames)`` int16 holding the acquisitions
    ``Receive(k)`` at rows ``startSample:endSample``; ``Trans.frequency`` (MHz),
    ``Trans.spacingMm``, ``Trans.elementWidth`` (mm), ``Trans.numelements``, optional
    ``Trans.Bandwidth`` ([low high] MHz); ``Receive(k).decimSampleRate`` (MHz),
    ``startDepth`` (wavelengths), ``framenum``, ``acqNum``; ``TX(j).Delay`` (wavelengths).
    The acquisitions of frame ``f`` become its transmits, in ``acqNum`` order.

    Parameters
    ----------
    path : str or pathlib.Path
        A MATLAB v5/v7 ``.mat`` file (read with ``scipy.io.loadmat``). A missing file raises
        ``FileNotFoundError``; a v7.3 (HDF5) file, a missing or malformed variable ``ValueError``
        naming the file and the field.

    Returns
    -------
    ChannelData
        ``data`` ``(n_frames, n_transmits, n_elements, n_samples)``, with the probe, transmits,
        ``fs`` (Hz), ``t0`` (s, csbox's time origin), ``c`` (m/s) and ``prf`` (Hz, or None)
        the file describes.
    """
    path = Path(path)
    m = _loadmat(path)
    if "RcvData" in m:
        return _read_verasonics(m, path)
    if "param" not in m or not ("RF" in m or "IQ" in m):
        raise _fail(
            path,
            "RF",
            "is missing: expected MUST (RF or IQ, param) or Verasonics (RcvData, Trans, "
            "Receive, TX) variables",
        )
    p = m["param"]
    key = "RF" if "RF" in m else "IQ"
    data = _mat_samples(m[key], path, key)
    fc = _field(p, "fc", path, "param")
    fs = _positive(_field(p, "fs", path, "param"), path, "param.fs")
    probe = _must_probe(p, fc, path, data.shape[1])
    n_el = probe.n_elements
    c = _positive(_field(p, "c", path, "param", default=C_SOUND), path, "param.c")
    t0 = _field(p, "t0", path, "param", default=0.0) if getattr(p, "t0", None) is not None else 0.0
    prf = _field(p, "PRF", path, "param", default=-1.0)
    delays = _field(p, "TXdelay", path, "param", default=np.zeros(n_el), array=True)
    if delays.shape != (n_el,):
        raise _fail(
            path, "param.TXdelay", f"must hold one delay per element ({n_el}), got shape {delays.shape}"
        )
    data = data.reshape(*data.shape[:2], -1)  # (samples, elements, frames)
    data = np.ascontiguousarray(np.transpose(data, (2, 1, 0)))[:, None]  # (frames, 1, el, samples)
    return ChannelData(
        data=data,
        probe=probe,
        transmits=[Transmit.from_delays(delays)],
        fs=fs,
        t0=np.array([t0]),
        c=c,
        prf=prf if prf > 0 else None,
        path=str(path),
    )


def _mat_samples(v: Any, path: Path, key: str) -> np.ndarray:
    """``RF``/``IQ``/``RcvData``: a finite numeric ``(samples, channels[, frames])`` array."""
    data = np.asarray(v)
    if data.dtype.kind not in "biufc" or data.ndim not in (2, 3) or data.size == 0:
        raise _fail(
            path, key, f"must be a non-empty numeric (samples, channels[, frames]) array, got {data.dtype} "
            f"{data.shape}"
        )
    if data.dtype.kind in "fc" and not np.all(np.isfinite(data)):
        raise _fail(path, key, "contains NaN or Inf")
    return data


def _must_probe(p: Any, fc: float, path: Path, n_channels: int) -> Probe:
    """The probe of a MUST ``param`` struct (``Nelements``, ``pitch``, ``width``/``kerf``, ``bandwidth``)."""
    n_el = _field(p, "Nelements", path, "param")
    if n_el != n_channels:
        raise _fail(path, "param.Nelements", f"is {n_el!r}, the data have {n_channels} columns (elements)")
    n_el = n_channels
    pitch = _field(p, "pitch", path, "param")
    width = getattr(p, "width", None)
    kerf = getattr(p, "kerf", None)
    width = _field(p, "width", path, "param") if width is not None and np.size(width) else None
    kerf = _field(p, "kerf", path, "param") if kerf is not None and np.size(kerf) else None
    bw = _field(p, "bandwidth", path, "param", default=75.0)
    try:
        return Probe.from_parameters(
            fc=fc,
            n_elements=n_el,
            bandwidth=bw,
            pitch=pitch,
            width=width if width is not None else (None if kerf is not None else pitch),
            kerf=kerf if width is None else None,
        )
    except (TypeError, ValueError) as e:
        raise _fail(path, "param", f"does not describe a valid probe: {e}") from None


def _read_verasonics(m: dict, path: Path) -> ChannelData:
    rcv = m["RcvData"]
    if isinstance(rcv, np.ndarray) and rcv.dtype == object:
        rcv = rcv.ravel()[0]
    rcv = _mat_samples(rcv, path, "RcvData")
    if rcv.dtype.kind == "c":
        raise _fail(path, "RcvData", "must be real RF samples, got complex")
    rcv = rcv.reshape(*rcv.shape[:2], -1)
    for k in ("Trans", "Receive", "TX"):
        if k not in m:
            raise _fail(path, k, "is missing")
    tr = m["Trans"]
    fc = _field(tr, "frequency", path, "Trans") * 1e6
    n_el = _field(tr, "numelements", path, "Trans")
    if n_el != round(n_el) or not 1 <= n_el <= rcv.shape[1]:
        raise _fail(path, "Trans.numelements", f"must be a whole number in [1, {rcv.shape[1]}] (RcvData's "
                    f"channels), got {n_el!r}")
    n_el = int(n_el)
    pitch = _field(tr, "spacingMm", path, "Trans") * 1e-3
    width = _field(tr, "elementWidth", path, "Trans", default=pitch * 1e3) * 1e-3
    band = _field(tr, "Bandwidth", path, "Trans", default=np.array([0.0, 0.0]), array=True)
    bw = (band[1] - band[0]) * 1e6 / fc if band.size == 2 and band[1] > band[0] else 0.6
    c = C_SOUND
    if "Resource" in m and hasattr(m["Resource"], "Parameters"):
        c = _field(m["Resource"].Parameters, "speedOfSound", path, "Resource.Parameters", default=C_SOUND)
        c = _positive(c, path, "Resource.Parameters.speedOfSound")
    try:
        probe = Probe(fc=fc, pitch=pitch, width=min(width, pitch), n_elements=n_el, bandwidth=bw)
    except (TypeError, ValueError) as e:
        raise _fail(path, "Trans", f"does not describe a valid probe: {e}") from None
    lam = c / fc
    receives = np.atleast_1d(m["Receive"])
    txs = np.atleast_1d(m["TX"])
    if rcv.shape[1] < n_el:
        raise _fail(path, "RcvData", f"has {rcv.shape[1]} channels, Trans.numelements is {n_el}")
    acqs: dict[int, list] = {}
    for k, r in enumerate(receives):
        where = f"Receive({k + 1})"
        s0, s1 = int(_field(r, "startSample", path, where)), int(_field(r, "endSample", path, where))
        if not 1 <= s0 <= s1 <= rcv.shape[0]:
            raise _fail(
                path, f"{where}.startSample", f"rows {s0}:{s1} lie outside RcvData's {rcv.shape[0]} rows"
            )
        frame = int(_field(r, "framenum", path, where, default=1.0))
        acq = int(_field(r, "acqNum", path, where, default=float(k + 1)))
        fs = _positive(_field(r, "decimSampleRate", path, where) * 1e6, path, f"{where}.decimSampleRate")
        depth = _field(r, "startDepth", path, where, default=0.0)
        acqs.setdefault(frame, []).append((acq, s0, s1, fs, depth))
    frames = sorted(acqs)
    first = sorted(acqs[frames[0]])
    n_tx, length, fs = len(first), first[0][2] - first[0][1] + 1, first[0][3]
    if len(txs) < n_tx:
        raise _fail(path, "TX", f"holds {len(txs)} transmits, the frames need {n_tx}")
    transmits, t0 = [], []
    for j in range(n_tx):
        d = _field(txs[j], "Delay", path, f"TX({j + 1})", array=True).ravel()
        if d.size != n_el:
            raise _fail(path, f"TX({j + 1}).Delay", f"must hold {n_el} delays, got {d.size}")
        transmits.append(Transmit.from_delays(d / fc))
        # startDepth wavelengths, two-way, from the transmit's time zero; csbox's zero is the first firing
        t0.append(2 * first[j][4] * lam / c - float(np.min(d)) / fc)
    data = np.empty((len(frames), n_tx, n_el, length), dtype=rcv.dtype)
    for fi, fr in enumerate(frames):
        entries = sorted(acqs[fr])
        if len(entries) != n_tx or any(e[2] - e[1] + 1 != length or e[3] != fs for e in entries):
            raise _fail(path, "Receive", f"frame {fr} has acquisitions of different count, length or rate")
        page = fr - 1 if rcv.shape[2] > 1 else 0  # RcvData's third axis is Receive.framenum
        if not 0 <= page < rcv.shape[2]:
            raise _fail(path, "Receive", f"frame {fr} is not one of RcvData's {rcv.shape[2]} frames")
        for j, (_, s0, s1, _, _) in enumerate(entries):
            data[fi, j] = rcv[s0 - 1 : s1, :n_el, page].T
    return ChannelData(
        data=data, probe=probe, transmits=transmits, fs=fs, t0=np.array(t0), c=c, path=str(path)
    )
