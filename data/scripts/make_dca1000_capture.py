"""Make ``data/sar_iwr1443_linear.bin``: a DCA1000 raw capture of a linear MIMO-SAR scan (csbox's model).

An IWR1443 (2 TX in TDM, 4 RX; 77 GHz, 4 GHz sweep, 64 complex ADC samples per chirp)
moves 128 steps of lambda/4 along y at 0.25 m from three point targets
(y, z) = (-20, 280), (0, 300), (25, 320) mm. The beat samples come from csbox's exact
MIMO-SAR forward model (MIMOSAR, Smith & Torlak 2022), plus 2 % complex white noise,
scaled to 12-bit ADC codes and written in the DCA1000's 4-lane IWR1443 layout
(``csbox.io.write_dca1000``). Read with
``read_dca1000(path, n_samples=64, n_tx=2, n_rx=4)`` -> ``(128, 2, 4, 64)``.
Run from the repository root: ``python data/scripts/make_dca1000_capture.py`` (seconds).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

try:  # the SAR code moves to csbox.sar in 0.2
    from csbox.sar import FMCW, MIMOSAR, ImageGrid, MIMOArray, linear_scan
except ImportError:
    from csbox.operators.sar import FMCW, MIMOSAR, ImageGrid, MIMOArray, linear_scan

from csbox.io import write_dca1000

OUT = Path(__file__).resolve().parents[1] / "sar_iwr1443_linear.bin"
TARGETS_YZ = np.array([[-20e-3, 280e-3], [0.0, 300e-3], [25e-3, 320e-3]])


def main() -> None:
    wave = FMCW(f0=77e9, bandwidth=4e9, n_samples=64, chirp_time=40e-6)
    array = MIMOArray.iwr1443()
    pos = linear_scan(128, wave.wavelength / 4)
    grid = ImageGrid(np.array([0.0]), TARGETS_YZ[:, 0], TARGETS_YZ[:, 1])
    A = MIMOSAR(array, wave, pos, grid)
    rho = np.zeros(grid.shape, complex)
    for i in range(len(TARGETS_YZ)):
        rho[i, i] = 1.0  # grid (y, z): the diagonal holds the three targets
    y = A @ rho
    rng = np.random.default_rng(3)
    y = y + 0.02 * np.abs(y).max() * (rng.standard_normal(y.shape) + 1j * rng.standard_normal(y.shape))
    codes = np.round(y * 2000 / np.abs(y).max())
    write_dca1000(OUT, codes)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB), beat samples {codes.shape}")


if __name__ == "__main__":
    main()
