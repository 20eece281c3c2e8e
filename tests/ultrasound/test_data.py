"""The example files in data/: found without network, read, and the disk's Doppler profile (PyMUST oracle).

``disk-uff`` was simulated by PyMUST's ``simus`` (an independent simulator) and stored as a
scanner would (int16 RF band-pass sampled at 4/3 fc): csbox's UFF reader, rf2iq, DAS and
Kasai must recover the disk's linear velocity profile, R^2 >= 0.98.
"""

import math

import numpy as np
import pytest

from csbox import data
from csbox.ultrasound import RotatingDisk, das, image_grid, kasai

pytest.importorskip("h5py")


def test_files_are_found_and_small():
    for name, entry in data.FILES.items():
        p = data.path(name)
        assert p.name == entry.filename and p.stat().st_size < 5e6
    with pytest.raises(ValueError, match="name must be one of"):
        data.path("nope")


def test_env_var_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CSBOX_DATA", str(tmp_path))
    (tmp_path / data.FILES["sar-dca1000"].filename).write_bytes(b"\0" * 4096)
    assert data.path("sar-dca1000").parent == tmp_path


def test_sar_capture_layout():
    y = data.load("sar-dca1000")
    meta = data.FILES["sar-dca1000"].meta
    assert y.shape == (meta["n_positions"], 2, 4, 64) and y.dtype == np.complex64
    # csbox's beat model e^{-j k (R_t + R_r)}: over a chirp of K samples spanning the bandwidth B the phase
    # turns by -2 pi B (2R) / (c K) per sample, so the spectrum peaks at |f| = 2 R B / (c K) cycles/sample
    spec = np.abs(np.fft.fft(y[64, 0, 0], 1024))
    f_peak = abs(np.fft.fftfreq(1024)[np.argmax(spec)])
    r_peak = f_peak * 299_792_458.0 * 64 / (2 * meta["bandwidth"])
    ranges = [math.hypot(t[0], t[1]) for t in meta["targets_yz"]]
    assert min(abs(r_peak - r) for r in ranges) < 0.01  # range resolution c / 2B = 3.7 cm, FFT bin 2.3 mm


def test_disk_doppler_profile_from_pymust_file():
    cd = data.load("disk-uff")
    meta = data.FILES["disk-uff"].meta
    assert cd.data.dtype == np.int16 and cd.data.shape[:3] == (32, 1, 128) and cd.prf == meta["prf"]
    disk = RotatingDisk(meta["center"], meta["radius"], meta["angular_velocity"])
    x, z = image_grid(cd.probe, (-5e-3, 5e-3), (15.5e-3, 24.5e-3), lateral_step=cd.probe.wavelength() / 2)
    iq = cd.iq(upsample=3)[:16]
    ens = np.moveaxis(das(iq, cd.probe, cd.transmits, x, z, fs=3 * cd.fs, t0=cd.t0), 0, -1)
    d = kasai(ens, prf=cd.prf, fc=cd.probe.fc, window=(5, 3))
    X, Z = np.meshgrid(x, z)
    truth = disk.axial_velocity(X, Z)
    inside = np.hypot(X - disk.center[0], Z - disk.center[1]) < 0.8 * disk.radius
    r2 = 1 - np.sum((d.velocity - truth)[inside] ** 2) / np.sum((truth[inside] - truth[inside].mean()) ** 2)
    assert r2 >= 0.98
