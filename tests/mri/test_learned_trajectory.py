"""Learned trajectories: the NUFFT's coordinate gradient, the unrolled NUFFT-SENSE, training, files."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from csbox.mri import Sense, birdcage_maps, l1_wavelet_sense, radial  # noqa: E402
from csbox.mri.learned_trajectory import (  # noqa: E402
    RadialTrajectory,
    TrajectoryNUFFT,
    UnrolledNUFFTSENSE,
    nufft,
    train_trajectory,
)
from csbox.operators import NUFFT  # noqa: E402
from csbox.sampling import load_trajectory, save_trajectory  # noqa: E402

IMPLS = ["generic", "auto"]  # csbox's gridding on torch; finufft through NumPy (when installed)


def _ndft(k: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The exact non-uniform DFT matrix ``E_{jr}`` of NUFFT's convention and the centred indices ``r - c``."""
    axes = [np.arange(n) - n // 2 for n in shape]
    r = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, len(shape))
    phase = sum(k[:, None, a] * r[None, :, a] / n for a, n in enumerate(shape))
    return np.exp(-2j * np.pi * phase) / math.sqrt(math.prod(shape)), r


def _coords(m: int, shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    k = torch.rand(m, len(shape), generator=g, dtype=torch.float64) - 0.5
    k = k * torch.tensor(shape, dtype=torch.float64)
    return k.requires_grad_(True)


@pytest.mark.parametrize("impl", IMPLS)
def test_forward_and_adjoint_pass_gradcheck(impl):
    shape = (6, 8)
    k = _coords(7, shape)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, *shape, dtype=torch.complex128, generator=g).requires_grad_(True)
    y = torch.randn(2, 7, dtype=torch.complex128, generator=g).requires_grad_(True)
    # eps 1e-12: the transform is exact to rounding, so finite differences see the true derivative
    assert torch.autograd.gradcheck(lambda x, k: TrajectoryNUFFT(shape, k, 1e-12, impl).forward(x), (x, k))
    assert torch.autograd.gradcheck(lambda y, k: TrajectoryNUFFT(shape, k, 1e-12, impl).adjoint(y), (y, k))


@pytest.mark.parametrize("impl", IMPLS)
def test_coordinate_gradient_matches_the_ndft_derivative(impl):
    # L = sum |y|^2, y = E(k) x: dL/dk_ja = 2 Re(conj(y_j) sum_r x_r (-2 pi i r_a / n_a) E_jr)
    shape = (8, 6)
    k = _coords(11, shape, seed=3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, *shape)) + 1j * rng.standard_normal((3, *shape))
    E, r = _ndft(k.detach().numpy(), shape)
    xf = x.reshape(3, -1)
    y = xf @ E.T
    dy = [xf @ (E * (-2j * np.pi * r[None, :, a] / n)).T for a, n in enumerate(shape)]
    want = np.stack([np.sum(2 * np.real(np.conj(y) * d), axis=0) for d in dy], -1)
    out = TrajectoryNUFFT(shape, k, 1e-10, impl).forward(torch.as_tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), y, atol=1e-9)
    torch.sum(torch.abs(out) ** 2).backward()
    np.testing.assert_allclose(k.grad.numpy(), want, rtol=1e-7, atol=1e-8 * np.abs(want).max())


def test_real_image_gets_a_real_gradient_and_periodic_coordinates_wrap():
    shape = (8, 8)
    k = _coords(5, shape)
    x = torch.rand(*shape, dtype=torch.float64, requires_grad=True)
    y = nufft(x, k)
    torch.sum(torch.abs(y) ** 2).backward()
    assert x.grad.dtype == torch.float64
    shifted = nufft(x.detach(), k.detach() + torch.tensor([8.0, -16.0], dtype=torch.float64))
    np.testing.assert_allclose(shifted.numpy(), y.detach().numpy(), atol=1e-6)  # n-periodic in k


def test_toeplitz_normal_matches_the_nufft():
    shape = (16, 16)
    k = radial(9, 32)
    T = TrajectoryNUFFT(shape, torch.as_tensor(k), 1e-8)
    x = torch.randn(2, *shape, dtype=torch.complex128, generator=torch.Generator().manual_seed(0))
    A = NUFFT(shape, k, eps=1e-10)
    want = A.H @ (A @ x.numpy())
    got = T.normal(x, T.normal_kernel()).numpy()
    assert np.abs(got - want).max() <= 1e-6 * np.abs(want).max()


def test_radial_trajectory_starts_at_golden_angle_spokes_within_limits():
    traj = RadialTrajectory(32, 10, free=True)
    np.testing.assert_allclose(traj().detach().numpy(), radial(10, 64), atol=1e-12)
    assert float(traj.penalty().detach()) == pytest.approx(0.0, abs=1e-20)
    lim = traj.limits()
    assert lim["max_step"] == pytest.approx(0.5) and lim["max_step"] <= lim["gmax"]  # 2x oversampled spokes
    assert lim["max_slew"] < 1e-9
    with torch.no_grad():
        traj.coef[0, 3] += 5.0  # a sharp bump: faster than the gradient limit allows
    assert float(traj.penalty().detach()) > 0


def test_unrolled_nufft_sense_converges_to_l1_wavelet_sense():
    n, n_coils = 32, 4
    maps = birdcage_maps((n, n), n_coils)
    k = radial(24, 2 * n)
    rng = np.random.default_rng(0)
    img = np.zeros((n, n), complex)
    img[8:24, 10:22] = 1.0
    img[12:16, 14:18] = 0.3j
    y = Sense(maps, coords=k) @ img
    y = y + 0.005 * (rng.standard_normal(y.shape) + 1j * rng.standard_normal(y.shape))
    ref = l1_wavelet_sense(y, maps, coords=k, lam=0.002, cycle_spin=False, max_iter=400).x
    model = UnrolledNUFFTSENSE((n, n), 400, lam=0.002)
    T = TrajectoryNUFFT((n, n), torch.as_tensor(k), 1e-8)
    out = model(torch.as_tensor(y)[None], torch.as_tensor(maps)[None], T)[0].numpy()
    # the same minimiser; both runs stop at 400 iterations, steps 1/L with L estimated to ~1 %
    assert np.linalg.norm(out - ref) <= 0.02 * np.linalg.norm(ref)


def _fixed_loss(coords: np.ndarray, images: np.ndarray, maps: np.ndarray) -> float:
    """Mean relative error of 6 unrolled steps on noise-free samples at ``coords`` (deterministic)."""
    x, S = torch.as_tensor(images), torch.as_tensor(maps)
    T = TrajectoryNUFFT(images.shape[1:], torch.as_tensor(coords))
    rec = UnrolledNUFFTSENSE(images.shape[1:], 6, lam=0.001)(T.forward(S * x[:, None]), S, T)
    err = torch.sum(torch.abs(rec - x) ** 2, dim=(-2, -1)) / torch.sum(torch.abs(x) ** 2, dim=(-2, -1))
    return float(torch.mean(err))


def test_training_lowers_the_loss_and_keeps_the_limits():
    from csbox.sampling import image_set, multicoil_set

    shape = (32, 32)
    data = multicoil_set(image_set(8, shape, split="train", seed=0), birdcage_maps(shape, 4), seed=0)
    res = train_trajectory(data.images, data.maps, 8, epochs=4, batch_size=4, n_iter=6, noise=0.0, seed=0)
    assert len(res.history["loss"]) == 8 and np.all(np.isfinite(res.history["loss"]))
    before = _fixed_loss(res.initial, data.images, data.maps)
    after = _fixed_loss(res.coords, data.images, data.maps)
    assert after < 0.97 * before, (before, after)
    assert res.coords.shape == (8, 64, 2) and np.abs(res.coords).max() <= 16
    lim = res.limits
    assert lim["max_step"] <= 1.05 * lim["gmax"] and lim["max_slew"] <= 1.05 * lim["smax"]


def test_trajectory_file_round_trip(tmp_path):
    k = radial(5, 32)
    save_trajectory(tmp_path / "t.npz", k, (16, 16))
    c, shape = load_trajectory(tmp_path / "t.npz", (16, 16))
    np.testing.assert_array_equal(c, k)
    assert shape == (16, 16)
    with pytest.raises(ValueError, match="expected"):
        load_trajectory(tmp_path / "t.npz", (32, 32))
    np.savez(tmp_path / "bad.npz", coords=k)
    with pytest.raises(ValueError, match="image_shape"):
        load_trajectory(tmp_path / "bad.npz")
    np.savez(tmp_path / "obj.npz", coords=np.array([object()]), image_shape=np.array([16, 16]))
    with pytest.raises(ValueError, match=r"obj\.npz"):
        load_trajectory(tmp_path / "obj.npz")  # object arrays need pickle: refused
    with pytest.raises(ValueError, match="coords"):
        save_trajectory(tmp_path / "out.npz", 2 * k, (16, 16))  # outside [-n/2, n/2]


@pytest.mark.parametrize("bad,exc,match", [
    (lambda: TrajectoryNUFFT((8, 8), np.zeros((3, 2))), TypeError, "coords"),
    (lambda: TrajectoryNUFFT((8, 8), torch.zeros(3, 3)), ValueError, "coords"),
    (lambda: TrajectoryNUFFT((8, 8), torch.full((3, 2), float("nan"))), ValueError, "NaN or Inf"),
    (lambda: TrajectoryNUFFT((8, 8), torch.zeros(3, 2), impl="fast"), ValueError, "impl"),
    (lambda: RadialTrajectory(32, 0), ValueError, "n_spokes"),
    (lambda: RadialTrajectory(32, 4, free="yes"), TypeError, "free"),
    (lambda: RadialTrajectory(32, 4, gmax=-1.0), ValueError, "gmax"),
    (lambda: UnrolledNUFFTSENSE((8, 8), 0), ValueError, "n_iter"),
    (lambda: train_trajectory(np.ones((2, 8, 8)), np.ones((2, 1, 4, 4)), 4), ValueError, "maps"),
    (lambda: train_trajectory(np.ones((2, 8, 8)), np.ones((2, 1, 8, 8)), 4, lr=0.0), ValueError, "lr"),
])
def test_bad_input_raises_clearly(bad, exc, match):
    with pytest.raises(exc, match=match):
        bad()


def test_l1_wavelet_sense_with_coords_converges_and_checks_its_input():
    n = 32
    maps = birdcage_maps((n, n), 4)
    k = radial(32, 2 * n)
    img = np.zeros((n, n), complex)
    img[6:26, 8:24] = 1.0
    y = Sense(maps, coords=k) @ img
    res = l1_wavelet_sense(y, maps, coords=k, lam=1e-4, max_iter=150)
    # the non-Cartesian step uses the power iteration (the Cartesian bound would diverge here)
    assert np.linalg.norm(res.x - img) <= 0.1 * np.linalg.norm(img)
    with pytest.raises(ValueError, match="not both"):
        l1_wavelet_sense(y, maps, np.ones((n, n), bool), coords=k)
    with pytest.raises(ValueError, match="kspace has shape"):
        l1_wavelet_sense(y[:, :5], maps, coords=k)
