"""DCA1000 raw captures: files written word by word from TI's layout description, round trips, errors."""

import numpy as np
import pytest

from csbox.io import read_dca1000, write_dca1000


def codes(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(-2000, 2000, shape) + 1j * rng.integers(-2000, 2000, shape)).astype(np.complex64)


def test_iwr1443_layout_from_the_spec(tmp_path):
    """4 LVDS lanes: per ADC sample the words I_rx0..I_rx3, Q_rx0..Q_rx3; chirps position-, then TX-major."""
    data = codes((3, 2, 4, 6))  # (L, n_tx, n_rx, K)
    words = []
    for l in range(3):
        for t in range(2):
            for k in range(6):
                words += [int(data[l, t, r, k].real) for r in range(4)]
                words += [int(data[l, t, r, k].imag) for r in range(4)]
    f = tmp_path / "adc_data.bin"
    np.asarray(words, "<i2").tofile(f)
    got = read_dca1000(f, n_samples=6)
    assert got.dtype == np.complex64 and got.shape == (3, 2, 4, 6)
    np.testing.assert_array_equal(got, data)
    write_dca1000(tmp_path / "w.bin", data)
    assert (tmp_path / "w.bin").read_bytes() == f.read_bytes()
    swapped = read_dca1000(f, n_samples=6, iq_swap=True)
    np.testing.assert_array_equal(swapped, data.imag + 1j * data.real)


def test_xwr18xx_layout_from_the_spec(tmp_path):
    """2 lanes: per chirp, RX after RX; sample pairs as I(n) I(n+1) Q(n) Q(n+1)."""
    data = codes((2, 1, 4, 8), seed=1)
    words = []
    for l in range(2):
        for r in range(4):
            for n in range(0, 8, 2):
                z0, z1 = data[l, 0, r, n], data[l, 0, r, n + 1]
                words += [int(z0.real), int(z1.real), int(z0.imag), int(z1.imag)]
    f = tmp_path / "cap.bin"
    np.asarray(words, "<i2").tofile(f)
    np.testing.assert_array_equal(read_dca1000(f, n_samples=8, n_tx=1, layout="xwr18xx"), data)
    write_dca1000(tmp_path / "w.bin", data, layout="xwr18xx")
    assert (tmp_path / "w.bin").read_bytes() == f.read_bytes()


def test_chirp_averaging_and_adc_bits(tmp_path):
    data = codes((2, 2, 4, 4), seed=2)
    rep = np.repeat(data, 3, axis=1).reshape(2, 2, 3, 4, 4)  # 3 identical chirps per TX
    f = tmp_path / "rep.bin"
    write_dca1000(f, rep.reshape(2, 6, 4, 4))
    np.testing.assert_allclose(read_dca1000(f, n_samples=4, chirps_per_tx=3), data)
    # a 12-bit ADC stores two's complement in 12 bits: code 4095 is -1
    twelve = np.full((1, 1, 4, 2), 4095 + 1j * 2047, dtype=np.complex64)
    f12 = tmp_path / "b12.bin"
    write_dca1000(f12, twelve)
    got = read_dca1000(f12, n_samples=2, n_tx=1, adc_bits=12)
    np.testing.assert_array_equal(got, np.full((1, 1, 4, 2), -1 + 2047j))


def test_malformed_files(tmp_path):
    f = tmp_path / "short.bin"
    np.zeros(100, "<i2").tofile(f)
    with pytest.raises(
        ValueError, match=r"short\.bin: file size 200 bytes is not a whole number of positions"
    ):
        read_dca1000(f, n_samples=64)
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_dca1000(tmp_path / "none.bin", n_samples=4)
    with pytest.raises(ValueError, match="int16 range"):
        write_dca1000(tmp_path / "x.bin", np.full((1, 1, 1, 2), 40000.0 + 0j))
    with pytest.raises(ValueError, match="integer ADC codes"):
        write_dca1000(tmp_path / "x.bin", np.full((1, 1, 1, 2), 0.5 + 0j))
    with pytest.raises(ValueError, match="layout must be one of"):
        read_dca1000(f, n_samples=4, layout="awr2243")
