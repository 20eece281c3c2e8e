"""Raw MRI data as the readers return it: :class:`RawMRI` and its header :class:`MRIHeader`.

Every MRI reader of :mod:`csbox.io` (:func:`~csbox.io.read_ismrmrd`, :func:`~csbox.io.read_fastmri`,
:func:`~csbox.io.read_twix`) returns one :class:`RawMRI`, so a reconstruction is written once for
all formats. The layout follows :mod:`csbox.mri`'s conventions:

- k-space is ``(*leading, coils, [kz,] ky, kx)`` complex64, **readout last**, each Cartesian axis
  centred (DC at index ``n // 2``), as :class:`csbox.mri.Sense` expects;
- ``leading`` holds the loop counters that vary in the file, outermost first, in the order
  :data:`LEADING_AXES` (``repetition, contrast, phase, set, average, slice``); counters that take
  one value are dropped, and ``RawMRI.axes`` names every axis;
- the sampling mask is boolean, shaped like k-space without the coil axis;
- noise-only samples (a noise pre-scan) are ``(coils, n)`` complex64, apart from the image data.

The ISMRMRD XML header (which fastMRI files carry too) is parsed here with the standard library
(only the fields csbox uses; unknown elements are ignored, so vendor extensions read fine).
"""

from __future__ import annotations

import dataclasses
import math
import os
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["LEADING_AXES", "MRIHeader", "RawMRI"]

#: Loop counters that become leading k-space axes (outermost first) when they take several values.
LEADING_AXES = ("repetition", "contrast", "phase", "set", "average", "slice")

_MAX_XML = 64 << 20  # an ISMRMRD header is kilobytes; refuse to parse a 64 MiB "header"
_U16 = 65535


@dataclass
class MRIHeader:
    """What a reconstruction needs to know about a scan, read from the file's header.

    Attributes
    ----------
    matrix : tuple of 3 int
        The encoded matrix ``(x, y, z)`` (readout, phase encoding, partition), readout
        oversampling included, as the file gives it.
    recon_matrix : tuple of 3 int
        The reconstructed matrix ``(x, y, z)`` (readout oversampling removed).
    fov_mm : tuple of 3 float
        The encoded field of view in mm.
    recon_fov_mm : tuple of 3 float
        The reconstructed field of view in mm.
    trajectory : str
        ``"cartesian"``, ``"radial"``, ``"spiral"``, ... (ISMRMRD's names).
    field_strength_t : float or None
        Main field in tesla.
    tr_ms, te_ms : tuple of float
        Repetition and echo times in ms (one per contrast where the file lists several).
    encoding_center : tuple of 2 int
        The counters ``(kspace_encode_step_1, kspace_encode_step_2)`` of the k-space centre; the
        line with counter ``c`` sits at index ``c - center + n // 2`` of its axis.
    dwell_us, noise_dwell_us : float or None
        Sample times of the imaging and of the noise readouts in µs (the noise covariance of a
        noise scan with another bandwidth is rescaled by their ratio, see :func:`csbox.mri.prewhiten`).
    noise_bandwidth : float or None
        ISMRMRD's ``relativeReceiverNoiseBandwidth`` (the receiver filter's effective noise
        bandwidth relative to the sampling rate, ~0.79 on Siemens systems).
    vendor : str or None
        System vendor and model.
    oversampling_removed : bool
        True when the reader cropped the readout to ``recon_matrix[0]``.
    skipped : dict of str to int
        How many acquisitions of each kind the reader left out of the image k-space
        (``"navigation"``, ``"phasecorr"``, ``"dummy"``, ...).
    xml : str or None
        The ISMRMRD XML header text, when the file has one (kept so that
        :func:`~csbox.io.write_ismrmrd` writes it back).
    extra : dict
        Format-specific fields (e.g. twix protocol values).
    """

    matrix: tuple[int, int, int]
    recon_matrix: tuple[int, int, int] | None = None
    fov_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    recon_fov_mm: tuple[float, float, float] | None = None
    trajectory: str = "cartesian"
    field_strength_t: float | None = None
    tr_ms: tuple[float, ...] = ()
    te_ms: tuple[float, ...] = ()
    encoding_center: tuple[int, int] | None = None
    dwell_us: float | None = None
    noise_dwell_us: float | None = None
    noise_bandwidth: float | None = None
    vendor: str | None = None
    oversampling_removed: bool = False
    skipped: dict[str, int] = field(default_factory=dict)
    xml: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.matrix = _dims3("matrix", self.matrix)
        self.recon_matrix = self.matrix if self.recon_matrix is None else _dims3("recon_matrix",
                                                                                  self.recon_matrix)
        self.fov_mm = _fov3("fov_mm", self.fov_mm)
        self.recon_fov_mm = self.fov_mm if self.recon_fov_mm is None else _fov3("recon_fov_mm",
                                                                                self.recon_fov_mm)
        if self.encoding_center is None:
            self.encoding_center = (self.matrix[1] // 2, self.matrix[2] // 2)

    @property
    def readout_oversampling(self) -> float:
        """Encoded over reconstructed readout field of view (2.0 on most Siemens scans, 1.0 if none)."""
        if self.recon_fov_mm[0] > 0 and self.fov_mm[0] > 0:
            return self.fov_mm[0] / self.recon_fov_mm[0]
        return self.matrix[0] / self.recon_matrix[0]


def _dims3(name: str, v: Any) -> tuple[int, int, int]:
    try:
        t = tuple(int(a) for a in v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be three ints (x, y, z), got {v!r}") from None
    if len(t) != 3 or any(a < 1 or a > _U16 for a in t):
        raise ValueError(f"{name} must be three ints in [1, {_U16}] (x, y, z), got {v!r}")
    return t  # type: ignore[return-value]


def _fov3(name: str, v: Any) -> tuple[float, float, float]:
    try:
        t = tuple(float(a) for a in v)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be three floats (mm), got {v!r}") from None
    if len(t) != 3 or not all(math.isfinite(a) and a >= 0 for a in t):
        raise ValueError(f"{name} must be three finite non-negative floats (mm), got {v!r}")
    return t  # type: ignore[return-value]


@dataclass
class RawMRI:
    """A scan's raw data: k-space, sampling mask, noise samples, reference image and header.

    Attributes
    ----------
    kspace : ndarray, complex64, ``(*leading, coils, [kz,] ky, kx)``
        Measured k-space on the encoded grid (zero where not sampled); Cartesian axes centred.
        Non-Cartesian scans: ``(*leading, coils, [kz,] readout, sample)``, with the sample
        positions in ``trajectory``.
    mask : ndarray, bool
        Which samples were acquired: ``kspace.shape`` without the coil axis.
    header : MRIHeader
        Matrix, field of view, field strength, TR/TE, trajectory type, and the file's XML.
    axes : tuple of str
        The name of every k-space axis, e.g. ``("slice", "coil", "ky", "kx")``.
    noise : ndarray, complex64, ``(coils, n)``, or None
        Noise-only samples (ISMRMRD ``ACQ_IS_NOISE_MEASUREMENT``, twix ``NOISEADJSCAN``).
    reference : ndarray or None
        A reconstruction stored in the file (fastMRI ``reconstruction_rss``), ``(*leading, y, x)``.
    calibration : ndarray, complex64, or None
        Parallel-imaging calibration lines (ISMRMRD ``ACQ_IS_PARALLEL_CALIBRATION[_AND_IMAGING]``,
        twix ``PATREFSCAN``), on the same grid as ``kspace``; None when the file has none.
    calibration_mask : ndarray, bool, or None
        Where ``calibration`` was acquired (shaped like ``mask``).
    trajectory : ndarray, float32, or None
        Non-Cartesian sample positions ``(*leading, [kz,] readout, sample, dims)`` as stored.
    path : str or None
        The file the data were read from.
    """

    kspace: np.ndarray
    mask: np.ndarray
    header: MRIHeader
    axes: tuple[str, ...]
    noise: np.ndarray | None = None
    reference: np.ndarray | None = None
    calibration: np.ndarray | None = None
    calibration_mask: np.ndarray | None = None
    trajectory: np.ndarray | None = None
    path: str | None = None

    def __post_init__(self) -> None:
        k = self.kspace
        if not isinstance(k, np.ndarray) or k.dtype != np.complex64 or k.ndim < 3:
            raise TypeError("kspace must be a complex64 NumPy array (..., coils, [kz,] ky, kx)")
        self.axes = tuple(self.axes)
        if len(self.axes) != k.ndim or self.axes.count("coil") != 1:
            raise ValueError(f"axes must name each of the {k.ndim} k-space axes once, with one 'coil', "
                             f"got {self.axes}")
        if not isinstance(self.header, MRIHeader):
            raise TypeError(f"header must be an MRIHeader, got {type(self.header).__name__}")
        cax = self.coil_axis
        shape = k.shape[:cax] + k.shape[cax + 1:]
        self.mask = _bool_array("mask", self.mask, shape)
        if self.noise is not None:
            n = np.asarray(self.noise)
            if n.ndim != 2 or n.shape[0] != self.n_coils:
                raise ValueError(f"noise must be (coils={self.n_coils}, n), got shape {n.shape}")
            self.noise = n.astype(np.complex64, copy=False)
        if self.calibration is not None:
            if np.shape(self.calibration) != k.shape:
                raise ValueError(f"calibration must be shaped like kspace {k.shape}, "
                                 f"got {np.shape(self.calibration)}")
            self.calibration = np.asarray(self.calibration).astype(np.complex64, copy=False)
            self.calibration_mask = _bool_array("calibration_mask", self.calibration_mask, shape)
        elif self.calibration_mask is not None:
            raise ValueError("calibration_mask given without calibration")

    @property
    def coil_axis(self) -> int:
        """Index of the coil axis in ``kspace`` (non-negative)."""
        return self.axes.index("coil")

    @property
    def n_coils(self) -> int:
        """Number of receive channels."""
        return int(self.kspace.shape[self.coil_axis])

    @property
    def leading(self) -> tuple[str, ...]:
        """Names of the loop axes in front of the coil axis."""
        return self.axes[: self.coil_axis]

    def select(self, **index: int) -> RawMRI:
        """One index along named leading axes, e.g. ``raw.select(slice=3)``; those axes are dropped.

        Parameters
        ----------
        **index : int
            Axis name (one of :attr:`leading`) to the index taken (negative counts from the end).

        Returns
        -------
        RawMRI
            A view of the selected data, with the same header, noise and path.
        """
        sel: list[Any] = [slice(None)] * self.coil_axis
        for name, i in index.items():
            if name not in self.leading:
                raise ValueError(f"select: {name!r} is not a leading axis of this scan {self.leading}")
            ax = self.axes.index(name)
            n = self.kspace.shape[ax]
            if not isinstance(i, (int, np.integer)) or isinstance(i, bool) or not -n <= i < n:
                raise ValueError(f"select: {name} must be an int in [-{n}, {n}), got {i!r}")
            sel[ax] = int(i)
        t = tuple(sel)
        axes = tuple(a for a in self.axes if a not in index)

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            # every per-scan array starts with the leading axes; a single 2-D reference is shared
            return None if a is None else a[t] if a.ndim >= len(t) + 2 else a

        return dataclasses.replace(
            self, kspace=self.kspace[t], mask=self.mask[t], axes=axes, calibration=cut(self.calibration),
            calibration_mask=cut(self.calibration_mask), trajectory=cut(self.trajectory),
            reference=cut(self.reference))

    def __repr__(self) -> str:
        shape = ", ".join(f"{a}={n}" for a, n in zip(self.axes, self.kspace.shape, strict=True))
        noise = "none" if self.noise is None else f"{self.noise.shape[1]} samples"
        return (f"RawMRI({shape}; sampled {float(np.mean(self.mask)):.1%}; noise {noise}; "
                f"{self.header.trajectory}; path={self.path!r})")


def _bool_array(name: str, m: Any, shape: tuple[int, ...]) -> np.ndarray:
    a = np.asarray(m)
    if a.dtype != bool:
        raise TypeError(f"{name} must be a boolean array, got dtype {a.dtype}")
    if a.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} (kspace without the coil axis), "
                         f"got {a.shape}")
    return a


# ---------------------------------------------------------------------------- ISMRMRD XML header
def _text(node: ET.Element | None, path: str) -> str | None:
    if node is None:
        return None
    el = node.find(path)
    return None if el is None or el.text is None else el.text.strip()


def _num(src: str, node: ET.Element | None, path: str, kind: type, *, default: Any = None) -> Any:
    t = _text(node, path)
    if t is None:
        return default
    try:
        v = kind(t)
    except ValueError:
        raise ValueError(f"{src}: header field {path.replace('{*}', '')} must be a number, "
                         f"got {t!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{src}: header field {path.replace('{*}', '')} must be finite, got {t!r}")
    return v


def _space(src: str, enc: ET.Element, which: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    sp = enc.find(f"{{*}}{which}")
    if sp is None:
        raise ValueError(f"{src}: the ISMRMRD header has no encoding/{which}")
    mat, fov = [], []
    for ax in "xyz":
        m = _num(src, sp, f"{{*}}matrixSize/{{*}}{ax}", int)
        if m is None:
            raise ValueError(f"{src}: the ISMRMRD header has no encoding/{which}/matrixSize/{ax}")
        if not 1 <= m <= _U16:
            raise ValueError(f"{src}: header field encoding/{which}/matrixSize/{ax} = {m} "
                             f"is impossible (expected 1 to {_U16})")
        mat.append(m)
        f = _num(src, sp, f"{{*}}fieldOfView_mm/{{*}}{ax}", float, default=0.0)
        if f < 0:
            raise ValueError(f"{src}: header field encoding/{which}/fieldOfView_mm/{ax} = {f} is negative")
        fov.append(f)
    return tuple(mat), tuple(fov)


def _limits(src: str, enc: ET.Element) -> dict[str, tuple[int, int, int]]:
    out = {}
    lim = enc.find("{*}encodingLimits")
    if lim is None:
        return out
    for el in lim:
        name = el.tag.rsplit("}", 1)[-1]
        vals = [_num(src, el, f"{{*}}{k}", int, default=0) for k in ("minimum", "maximum", "center")]
        if not (0 <= vals[0] <= vals[1] <= _U16 and 0 <= vals[2] <= _U16):
            raise ValueError(f"{src}: header field encodingLimits/{name} = {vals} (min, max, center) "
                             f"is impossible")
        out[name] = tuple(vals)
    return out


def parse_ismrmrd_header(xml: str | bytes, src: str) -> tuple[MRIHeader, dict[str, tuple[int, int, int]]]:
    """The first encoding of an ISMRMRD XML header as an :class:`MRIHeader`, and its encoding limits.

    Parameters
    ----------
    xml : str or bytes
        The header text.
    src : str
        The file it came from (named in error messages).

    Returns
    -------
    header : MRIHeader
    limits : dict
        ``name -> (minimum, maximum, center)`` for each ``encodingLimits`` entry.
    """
    if len(xml) > _MAX_XML:
        raise ValueError(f"{src}: the XML header is {len(xml)} bytes, not an ISMRMRD header")
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise ValueError(f"{src}: the ISMRMRD XML header does not parse ({e})") from None
    enc = root.find("{*}encoding")
    if enc is None:
        raise ValueError(f"{src}: the ISMRMRD header has no encoding")
    mat, fov = _space(src, enc, "encodedSpace")
    rmat, rfov = _space(src, enc, "reconSpace")
    limits = _limits(src, enc)
    c1 = limits.get("kspace_encoding_step_1", (0, 0, mat[1] // 2))[2]
    c2 = limits.get("kspace_encoding_step_2", (0, 0, mat[2] // 2))[2]
    asi = root.find("{*}acquisitionSystemInformation")
    seq = root.find("{*}sequenceParameters")
    vendor = " ".join(t for t in (_text(asi, "{*}systemVendor"), _text(asi, "{*}systemModel")) if t)
    times = {}
    for key in ("TR", "TE"):
        vals = [] if seq is None else [e.text for e in seq.findall(f"{{*}}{key}")]
        try:
            times[key] = tuple(float(v) for v in vals)
        except (TypeError, ValueError):
            raise ValueError(f"{src}: header field sequenceParameters/{key} must be numbers, "
                             f"got {vals}") from None
    hdr = MRIHeader(
        matrix=mat, recon_matrix=rmat, fov_mm=fov, recon_fov_mm=rfov,
        trajectory=(_text(enc, "{*}trajectory") or "cartesian").lower(),
        field_strength_t=_num(src, asi, "{*}systemFieldStrength_T", float),
        tr_ms=times["TR"], te_ms=times["TE"], encoding_center=(c1, c2),
        noise_bandwidth=_num(src, asi, "{*}relativeReceiverNoiseBandwidth", float),
        vendor=vendor or None, xml=xml.decode("utf-8", "replace") if isinstance(xml, bytes) else xml)
    return hdr, limits


def file_name(path: str | os.PathLike) -> str:
    """``path`` as a string for messages; TypeError when it is not a path."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file name (str or os.PathLike), got {type(path).__name__}")
    return os.fspath(path)


def require(module: str, what: str) -> Any:
    """Import an optional dependency of the ``mri`` extra, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"{what} needs the {module} package: pip install 'csbox[mri]'") from e
