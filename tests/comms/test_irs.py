"""IRS-MIMO channel model: the Kronecker form against the physical channel, steering, noise, errors."""

import numpy as np
import pytest

from csbox.comms import irs_channel, steering


def test_steering_is_the_ula_dictionary():
    A = steering(16, 18)
    theta = 2.0 * np.arange(18) / 18 - 1.0
    np.testing.assert_allclose(A[:, 5], np.exp(1j * np.pi * theta[5] * np.arange(16)) / 4.0, atol=1e-15)
    np.testing.assert_allclose(np.linalg.norm(A, axis=0), 1.0, rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 5])
def test_kronecker_form_reproduces_the_cascaded_channel(seed):
    """y = kron(Phi, X^T conj(A_ms), A_bs) x equals vec(H2 diag(psi_k) H1 X) over patterns, dense algebra."""
    ch = irs_channel(seed, n_ms=4, n_bs=8, n_irs=32, grid=10, n_pilots=2, n_patterns=5, spread=2)
    D = np.kron(np.kron(ch.factors[0], ch.factors[1]), ch.factors[2])
    y_direct = np.stack([ch.channels[k] @ ch.pilots for k in range(5)]).transpose(0, 2, 1).ravel()
    np.testing.assert_allclose(D @ ch.x, y_direct, atol=1e-10 * np.abs(y_direct).max())
    np.testing.assert_allclose(ch.y_clean, y_direct, atol=1e-10 * np.abs(y_direct).max())
    np.testing.assert_allclose(ch.channels_from(ch.x), ch.channels, atol=1e-10 * np.abs(ch.channels).max())
    assert ch.support.size == 4 and ch.nmse(ch.x) < 1e-20 and ch.nmse(np.zeros_like(ch.x)) == 1.0


def test_noise_has_the_requested_snr():
    ch = irs_channel(1)
    rng = np.random.default_rng(0)
    noise = np.concatenate([ch.noisy(10.0, rng)[0] - ch.y_clean for _ in range(200)])
    nv = ch.noisy(10.0, rng)[1]
    assert nv == pytest.approx(np.mean(np.abs(ch.y_clean) ** 2) / 10.0)
    # 200 x 288 complex samples: the sample variance is within ~3 / sqrt(57600) of nv
    assert np.mean(np.abs(noise) ** 2) == pytest.approx(nv, rel=0.02)


def test_bad_input():
    with pytest.raises(TypeError, match="n_bs must be an int"):
        irs_channel(0, n_bs=16.0)
    with pytest.raises(ValueError, match=r"spread .* cannot exceed the grid size"):
        irs_channel(0, grid=4, spread=5)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        irs_channel(-1)
    with pytest.raises(ValueError, match="grid must be >= 1"):
        steering(4, 0)
    ch = irs_channel(0)
    with pytest.raises(ValueError, match="snr_db must be finite"):
        ch.noisy(float("nan"), np.random.default_rng(0))
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        ch.noisy(10.0, 0)
    with pytest.raises(ValueError, match="x_hat must hold grid"):
        ch.nmse(np.zeros(10))


def test_estimates_checked_and_numpy_sizes_accepted():
    ch = irs_channel(np.int64(0), n_bs=np.int64(16), grid=np.int64(18))
    ref = irs_channel(0)
    assert ch.y_clean.tobytes() == ref.y_clean.tobytes()
    bad = np.zeros(18**3, complex)
    bad[4] = np.nan
    with pytest.raises(ValueError, match="x_hat must hold finite numbers"):
        ch.nmse(bad)


def test_same_seed_gives_bit_identical_channels():
    a, b = irs_channel(7), irs_channel(7)
    for f in ("x", "y_clean", "channels", "patterns", "pilots"):
        assert getattr(a, f).tobytes() == getattr(b, f).tobytes(), f
    ya, nva = a.noisy(15.0, np.random.default_rng(3))
    yb, nvb = b.noisy(15.0, np.random.default_rng(3))
    assert ya.tobytes() == yb.tobytes() and nva == nvb
    assert irs_channel(8).y_clean.tobytes() != a.y_clean.tobytes()
