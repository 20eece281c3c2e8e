"""Ultrasound imaging: probes and transmits, the Born pulse-echo operator and simulator, IQ
demodulation, delay-and-sum beamforming, B-mode display, Doppler and slow-time recovery.

One concept per module: ``probe`` (``Probe``, ``Transmit``), ``pulse_echo``
(``PulseEcho``, ``simulate``, ``simulate_rf``), ``demodulation`` (``rf2iq``),
``beamforming`` (``das``, ``das_matrix``), ``display`` (``bmode``, ``image_grid``),
``doppler`` (``kasai``, ``clutter_filter_svd``), ``subsampling``,
``phantoms`` (``RotatingDisk``) and ``recovery`` (``slow_time_recovery``, which uses
:mod:`csbox.solvers`). Scanner files are read by
:func:`csbox.io.read_uff` and :func:`csbox.io.read_mat`.
"""

from .beamforming import das, das_matrix
from .demodulation import demodulation_cutoff, rf2iq
from .display import bmode, image_grid
from .doppler import DopplerMaps, clutter_filter_svd, kasai
from .phantoms import RotatingDisk
from .probe import C_SOUND, Probe, Transmit, diverging_waves, plane_waves
from .pulse_echo import PulseEcho, simulate, simulate_rf
from .recovery import slow_time_recovery
from .subsampling import ChannelSubsampling, SlowTimeSubsampling

__all__ = [
    "C_SOUND",
    "ChannelSubsampling",
    "DopplerMaps",
    "Probe",
    "PulseEcho",
    "RotatingDisk",
    "SlowTimeSubsampling",
    "Transmit",
    "bmode",
    "clutter_filter_svd",
    "das",
    "das_matrix",
    "demodulation_cutoff",
    "diverging_waves",
    "image_grid",
    "kasai",
    "plane_waves",
    "rf2iq",
    "simulate",
    "simulate_rf",
    "slow_time_recovery",
]
