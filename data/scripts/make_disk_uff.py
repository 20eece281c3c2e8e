"""Make ``data/disk_pw_l9-4.uff``: a plane-wave rotating-disk acquisition simulated by PyMUST.

An independent simulator (PyMUST ``simus``, D. Garcia's SIMUS; not csbox's Born model)
gives the RF of a 128-element L9-4/38 probe (5 MHz, 65 %), one 0-degree plane wave
per pulse, 32 pulses at 10 kHz, of a 6-mm-radius disk of 1500 scatterers centred at
20 mm depth and turning at 40 rad/s (edge speed 0.24 m/s, Nyquist 0.77 m/s);
simus keeps spectral components down to -60 dB. As a
Verasonics scanner in its 67 % band-pass sampling mode does, the RF (simulated at
4 fc) is band-pass filtered (flat to |f - fc| = 0.25 fc, raised-cosine to zero at
fc / 3), decimated by 3 to 4/3 fc, given 1 % white noise and stored as int16 counts.
Written with csbox's UFF writer (USTB layout). Run from the repository root:
``python data/scripts/make_disk_uff.py`` (about 10 minutes on a busy 2-core machine).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pymust

from csbox.io import write_uff
from csbox.ultrasound import Probe, RotatingDisk, plane_waves

OUT = Path(__file__).resolve().parents[1] / "disk_pw_l9-4.uff"
N_PULSES, PRF = 32, 10_000.0
DISK = RotatingDisk(center=(0.0, 20e-3), radius=6e-3, angular_velocity=40.0)


def main() -> None:
    param = pymust.getparam("L9-4/38")
    param.fs = 4 * param.fc
    probe = Probe.from_parameters(
        fc=param.fc,
        n_elements=int(param.Nelements),
        bandwidth=param.bandwidth,
        pitch=param.pitch,
        kerf=param.kerf,
    )
    xs, zs, amp = DISK.scatterers(1500, seed=2024)
    delays = pymust.txdelay(param, 0.0)
    options = pymust.utils.Options()
    options.dBThresh = -60.0
    frames = []
    for k in range(N_PULSES):
        px, pz = DISK.positions(xs, zs, k / PRF)
        rf, _ = pymust.simus(px, pz, amp, delays, param, options)
        frames.append(np.asarray(rf, float).T)  # (elements, samples)
        print(f"pulse {k + 1}/{N_PULSES}", flush=True)
    n = min(f.shape[1] for f in frames)
    n -= n % 3
    rf = np.stack([f[:, :n] for f in frames])[:, None]  # (frames, 1, elements, samples) at 4 fc
    f = np.fft.rfftfreq(n, 1 / param.fs)
    u = np.abs(f - param.fc) / param.fc
    taper = np.where(
        u <= 0.25, 1.0, np.where(u < 1 / 3, 0.5 + 0.5 * np.cos(math.pi * (u - 0.25) / (1 / 3 - 0.25)), 0.0)
    )
    rf = np.fft.irfft(np.fft.rfft(rf, axis=-1) * taper, n=n, axis=-1)[..., ::3]
    rng = np.random.default_rng(7)
    rf = rf + 0.01 * np.abs(rf).max() * rng.standard_normal(rf.shape)
    counts = np.round(rf * 20000 / np.abs(rf).max()).astype(np.int16)
    write_uff(OUT, counts, probe, plane_waves([0.0]) * 1, fs=param.fs / 3, t0=0.0, prf=PRF)
    print(
        f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB), data {counts.shape} int16 at {param.fs / 3:.4g} Hz"
    )


if __name__ == "__main__":
    main()
