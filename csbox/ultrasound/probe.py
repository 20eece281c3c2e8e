r"""Linear-array probes and transmit sequences (plane, diverging, explicit per-element delays).

Time origin: for every :class:`Transmit`, ``t = 0`` is the moment the first
element fires (the smallest entry of :meth:`Transmit.delays` is 0). The
acquisition start ``t0`` of :func:`~csbox.ultrasound.das` and
:class:`~csbox.ultrasound.PulseEcho` is measured from it; readers of scanner
files convert the file's time reference to this one.

References
----------
D. Garcia, "SIMUS: an open-source simulator for medical ultrasound imaging", CMPB 2022
(MUST/PyMUST ``getparam``, ``txdelay``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import check_choice, check_int, check_scalar

__all__ = ["C_SOUND", "Probe", "Transmit", "diverging_waves", "plane_waves"]

#: Speed of sound in soft tissue (m/s), the default of every ultrasound model (as PyMUST).
C_SOUND = 1540.0

# fc (Hz), pitch (m), width (m), n_elements, -6 dB fractional bandwidth, height (m): as PyMUST getparam
_PRESETS = {
    "L11-5v": (7.6e6, 3e-4, 2.7e-4, 128, 0.77, 5e-3),
    "L12-3v": (7.54e6, 2e-4, 1.7e-4, 192, 0.93, 5e-3),
    "P4-2v": (2.72e6, 3e-4, 2.5e-4, 64, 0.74, 1.4e-2),
    "L9-4/38": (5.0e6, 3.048e-4, 3.048e-4 - 3.5e-5, 128, 0.65, 6e-3),
}


@dataclass(frozen=True)
class Probe:
    """Linear array of ``n_elements`` at ``pitch`` (m), elements ``width`` wide, centre frequency ``fc``
    (Hz) and ``-6 dB`` fractional ``bandwidth`` (e.g. 0.77 for 77 %).

    Build one from its data sheet with :meth:`from_parameters` (any two of pitch, width and kerf)
    or take a preset (:meth:`preset`, :meth:`l11_5v`, :meth:`p4_2v`; same values as PyMUST's
    ``getparam``).

    Parameters
    ----------
    fc : float
        Centre frequency (Hz), ``> 0``.
    pitch : float
        Element spacing (m), ``> 0``.
    width : float
        Element width (m), ``0 < width <= pitch``.
    n_elements : int
        Number of elements, ``>= 1`` (a Python int).
    bandwidth : float
        ``-6 dB`` fractional bandwidth of the transducer's response, ``0 < bandwidth < 2`` (0.77
        for 77 %), as PyMUST's ``getparam`` gives it; the simulated pulse-echo spectrum is that
        response squared (transmit and receive), ``B / sqrt 2`` wide at -6 dB.
    height : float, default 5e-3
        Element height (elevation, m), ``> 0``.

    Examples
    --------
    >>> from csbox.ultrasound import Probe
    >>> p = Probe.preset("L11-5v")
    >>> p.n_elements, p.fc
    (128, 7600000.0)
    >>> round(p.wavelength() * 1e3, 4)
    0.2026
    >>> p.x.shape
    (128,)
    """

    fc: float
    pitch: float
    width: float
    n_elements: int
    bandwidth: float
    height: float = 5e-3

    def __post_init__(self) -> None:
        check_scalar("fc", self.fc, low=0, low_open=True)
        if isinstance(self.pitch, bool) or not isinstance(self.pitch, (int, float)):
            raise ValueError(f"pitch must be > 0, got {self.pitch}")
        check_scalar("pitch", self.pitch, low=0, low_open=True)
        check_scalar("width", self.width, low=0, low_open=True, high=self.pitch)
        check_scalar("bandwidth", self.bandwidth, low=0, low_open=True, high=2, high_open=True)
        check_scalar("height", self.height, low=0, low_open=True)
        if not isinstance(self.n_elements, int) or self.n_elements < 1:
            raise ValueError(f"n_elements must be a positive int, got {self.n_elements!r}")

    @classmethod
    def from_parameters(
        cls,
        *,
        fc: float,
        n_elements: int,
        bandwidth: float,
        pitch: float | None = None,
        width: float | None = None,
        kerf: float | None = None,
        height: float = 5e-3,
    ) -> Probe:
        """A probe from its data sheet: ``pitch = width + kerf``, give any two of the three (m).

        ``bandwidth`` is the -6 dB fractional bandwidth: give 0.65 for 65 % (values above 2 are
        taken as percentages, as PyMUST stores them, and divided by 100).
        """
        given = {k: v for k, v in (("pitch", pitch), ("width", width), ("kerf", kerf)) if v is not None}
        if len(given) < 2:
            raise ValueError(f"give two of pitch, width and kerf, got only {sorted(given) or 'none'}")
        for k, v in given.items():
            check_scalar(k, v, low=0, low_open=k != "kerf")
        if pitch is None:
            pitch = width + kerf
        elif width is None:
            width = pitch - kerf
        elif kerf is not None and not math.isclose(pitch, width + kerf, rel_tol=1e-6):
            raise ValueError(f"pitch ({pitch}) must equal width + kerf ({width} + {kerf})")
        bandwidth = check_scalar("bandwidth", bandwidth, low=0, low_open=True)
        if bandwidth > 2:
            bandwidth /= 100.0
        return cls(
            fc=float(fc),
            pitch=float(pitch),
            width=float(width),
            n_elements=check_int("n_elements", n_elements, low=1),
            bandwidth=bandwidth,
            height=float(height),
        )

    @classmethod
    def preset(cls, name: str) -> Probe:
        """A named Verasonics/ATL probe: ``'L11-5v'``, ``'L12-3v'``, ``'P4-2v'``, ``'L9-4/38'``."""
        check_choice("name", name, list(_PRESETS))
        fc, pitch, width, n, bw, h = _PRESETS[name]
        return cls(fc=fc, pitch=pitch, width=width, n_elements=n, bandwidth=bw, height=h)

    @classmethod
    def l11_5v(cls) -> Probe:
        """Verasonics L11-5v (PyMUST ``getparam('L11-5v')``): 7.6 MHz, 128 elements, pitch 0.3 mm, 77 %."""
        return cls.preset("L11-5v")

    @classmethod
    def p4_2v(cls) -> Probe:
        """Verasonics P4-2v (PyMUST ``getparam('P4-2v')``): 2.72 MHz, 64 elements, pitch 0.3 mm, 74 %."""
        return cls.preset("P4-2v")

    @property
    def kerf(self) -> float:
        """Gap between neighbouring elements (m)."""
        return self.pitch - self.width

    @property
    def x(self) -> np.ndarray:
        """Element centres along x (m), centred on 0."""
        return (np.arange(self.n_elements) - (self.n_elements - 1) / 2) * self.pitch

    def wavelength(self, c: float = C_SOUND) -> float:
        """``c / fc`` (m); ``c`` (m/s) finite and ``> 0``."""
        return check_scalar("c", c, low=0, low_open=True) / self.fc


@dataclass(frozen=True)
class Transmit:
    """One transmit: a plane wave steered by ``angle`` (rad), a diverging wave from a virtual source
    ``(xs, zs < 0)``, or explicit per-element firing ``delays`` (s) as a scanner's sequence stores them.

    For ``kind="delays"`` the wavefront reaching ``(x, z)`` is the earliest element contribution,
    ``tau(x, z) = min_e (delay_e + |(x, z) - (x_e, 0)| / c)`` (the convention of MUST's
    ``dasmtx``); use :meth:`from_delays`.

    Parameters
    ----------
    kind : {"plane", "diverging", "delays"}, default "plane"
        The wave.
    angle : float, default 0.0
        Steering angle of a plane wave (rad), in ``(-pi/2, pi/2)``; positive steers towards
        ``+x``.
    source : tuple of float, default (0.0, -1.0)
        Virtual source ``(xs, zs)`` of a diverging wave (m); needs ``zs < 0`` (behind the probe).
    element_delays : tuple of float, default ()
        Per-element firing delays (s) for ``kind="delays"``: non-empty, 1-D, finite, one per
        probe element (checked against the probe when used).
    """

    kind: str = "plane"
    angle: float = 0.0
    source: tuple[float, float] = (0.0, -1.0)
    element_delays: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in ("plane", "diverging", "delays"):
            raise ValueError(f"kind must be 'plane', 'diverging' or 'delays', got {self.kind!r}")
        check_scalar("angle", self.angle, low=-math.pi / 2, high=math.pi / 2, low_open=True, high_open=True)
        try:
            src = np.asarray(self.source, dtype=float)
        except (TypeError, ValueError):
            src = np.zeros(0)
        if src.shape != (2,) or not np.all(np.isfinite(src)):
            raise ValueError(f"source must be a pair (xs, zs) of finite numbers (m), got {self.source!r}")
        if self.kind == "diverging" and not self.source[1] < 0:
            raise ValueError(
                f"a diverging wave needs a virtual source behind the probe (zs < 0), got {self.source}"
            )
        if self.kind == "delays":
            d = np.asarray(self.element_delays, float)
            if d.ndim != 1 or d.size == 0 or not np.all(np.isfinite(d)):
                raise ValueError(
                    f"element_delays must be a non-empty 1-D sequence of finite delays (s), "
                    f"got {self.element_delays!r}"
                )

    @classmethod
    def from_delays(cls, delays: Sequence[float]) -> Transmit:
        """A transmit fired with per-element ``delays`` (s); shifted so the first element fires at 0."""
        d = np.asarray(delays, float).ravel()
        if d.size == 0 or not np.all(np.isfinite(d)):
            raise ValueError(f"delays must be a non-empty sequence of finite numbers, got {delays!r}")
        return cls("delays", element_delays=tuple(float(v) for v in d - d.min()))

    def _check_probe(self, probe: Probe) -> None:
        if self.kind == "delays" and len(self.element_delays) != probe.n_elements:
            raise ValueError(
                f"the transmit has {len(self.element_delays)} element delays, "
                f"the probe {probe.n_elements} elements"
            )

    def delays(self, probe: Probe, c: float = C_SOUND) -> np.ndarray:
        """Transmit delays per element (s), the first element firing at 0."""
        self._check_probe(probe)
        x = probe.x
        if self.kind == "plane":
            d = x * math.sin(self.angle) / c
        elif self.kind == "diverging":
            d = np.hypot(x - self.source[0], self.source[1]) / c
        else:
            d = np.asarray(self.element_delays, float)
        return d - d.min()

    def arrival(self, probe: Probe, x: np.ndarray, z: np.ndarray, c: float = C_SOUND) -> np.ndarray:
        """Time at which the transmitted wavefront reaches ``(x, z)`` (same time origin as :meth:`delays`)."""
        xe = probe.x
        if self.kind == "plane":
            s, co = math.sin(self.angle), math.cos(self.angle)
            return (x * s + z * co) / c - np.min(xe * s) / c
        if self.kind == "diverging":
            xs, zs = self.source
            return (np.hypot(x - xs, z - zs) - np.min(np.hypot(xe - xs, zs))) / c
        d = self.delays(probe, c)
        x, z = np.broadcast_arrays(np.asarray(x, float), np.asarray(z, float))
        out = np.full(x.shape, np.inf)
        for e in range(xe.size):
            np.minimum(out, d[e] + np.hypot(x - xe[e], z) / c, out=out)
        return out

    def spreading(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Transmit amplitude: 1 for plane waves and explicit delays, ``sqrt(|zs| / r)`` when diverging."""
        if self.kind != "diverging":
            return np.ones(np.broadcast(x, z).shape)
        r = np.hypot(x - self.source[0], z - self.source[1])
        return np.sqrt(abs(self.source[1]) / r)


def plane_waves(angles_deg: Sequence[float]) -> list[Transmit]:
    """Steered plane waves (angles in degrees).

    Parameters
    ----------
    angles_deg : sequence of float
        Steering angles (degrees), each in ``(-90, 90)``.

    Returns
    -------
    list of Transmit
        One ``Transmit("plane", radians(a))`` per angle, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from csbox.ultrasound import plane_waves
    >>> tx = plane_waves([-5.0, 0.0, 5.0])
    >>> len(tx), tx[0].kind, round(float(np.degrees(tx[0].angle)), 6)
    (3, 'plane', -5.0)
    """
    return [
        Transmit(
            "plane", math.radians(check_scalar("angle", a, low=-90, high=90, low_open=True, high_open=True))
        )
        for a in angles_deg
    ]


def diverging_waves(n: int, probe: Probe, *, depth: float = 10e-3) -> list[Transmit]:
    """``n`` diverging waves from virtual sources ``depth`` behind the probe, spread across its aperture.

    Parameters
    ----------
    n : int
        Number of transmits, ``>= 1``; the sources are evenly spaced from the first to the
        last element centre (one source at ``x = 0`` when ``n = 1``).
    probe : Probe
        The probe whose aperture the sources span.
    depth : float, default 10e-3
        Distance of the virtual sources behind the probe (m), ``> 0``: ``zs = -depth``.

    Returns
    -------
    list of Transmit
        ``n`` transmits of kind ``"diverging"``.
    """
    n = check_int("n", n, low=1)
    depth = check_scalar("depth", depth, low=0, low_open=True)
    if not isinstance(probe, Probe):
        raise TypeError(f"probe must be a csbox.ultrasound.Probe, got {type(probe).__name__}")
    xs = np.linspace(probe.x[0], probe.x[-1], n) if n > 1 else np.zeros(1)
    return [Transmit("diverging", 0.0, (float(v), -float(depth))) for v in xs]


def _directivity(probe: Probe, dx: np.ndarray, z: np.ndarray, c: float) -> np.ndarray:
    """Soft-baffle element directivity ``cos(theta) sinc(w sin(theta) / lambda)``."""
    r = np.hypot(dx, z)
    sin_t = dx / np.maximum(r, 1e-12)
    cos_t = z / np.maximum(r, 1e-12)
    return cos_t * np.sinc(probe.width * sin_t / probe.wavelength(c))


def _sigma_t(probe: Probe) -> float:
    r"""Std (s) of the Gaussian envelope of the two-way (pulse-echo) pulse.

    The transducer's amplitude response ``H(f) = exp(-(f - fc)^2 / (2 sigma_f^2))`` has its
    ``-6 dB`` full width at ``B fc`` (``sigma_f = B fc / (2 sqrt(2 ln 2))``); the pulse-echo
    spectrum is ``H^2`` (the transducer filters on transmit and on receive, as in PyMUST's
    ``pfield``/``simus``), a Gaussian of std ``sigma_f / sqrt 2``, whose envelope has
    ``sigma_t = sqrt 2 / (2 pi sigma_f)``. For the L11-5v (77 %) this is an envelope of
    213 ns at -6 dB, PyMUST's two-way pulse 208 ns.
    """
    sigma_f = probe.bandwidth * probe.fc / (2 * math.sqrt(2 * math.log(2)))
    return math.sqrt(2.0) / (2 * math.pi * sigma_f)


def _check_sequence(probe: Any, transmits: Any) -> list[Transmit]:
    """``probe`` a :class:`Probe` and ``transmits`` a non-empty sequence of :class:`Transmit` fitting it."""
    if not isinstance(probe, Probe):
        raise TypeError(f"probe must be a csbox.ultrasound.Probe, got {type(probe).__name__}")
    seq = list(transmits) if isinstance(transmits, Iterable) else None
    if not seq or not all(isinstance(t, Transmit) for t in seq):
        got = f"{type(transmits).__name__} {seq if seq is None else [type(t).__name__ for t in seq][:4]}"
        raise ValueError(f"transmits must be a non-empty sequence of Transmit, got {got}")
    transmits = seq
    for t in transmits:
        t._check_probe(probe)
    return transmits


def t0_per_transmit(t0: float | Sequence[float], n_transmits: int) -> np.ndarray:
    """The acquisition start of each transmit (s): one number for all, or one per transmit."""
    arr = np.atleast_1d(np.asarray(t0, dtype=float))
    if arr.ndim != 1 or arr.size not in (1, n_transmits) or not np.all(np.isfinite(arr)):
        raise ValueError(f"t0 must be a finite number or one per transmit ({n_transmits}), got {t0!r}")
    return np.broadcast_to(arr, (n_transmits,)).copy()
