"""DPS: sampling without replacement, relaxation, gradients through csbox operators on torch, I/O."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from csbox.backend import to_numpy  # noqa: E402
from csbox.operators import FFT, PartialFourier  # noqa: E402
from csbox.sampling.dps import (  # noqa: E402
    DPSSampler,
    evaluate,
    load_mask,
    save_mask,
    train_dps,
)
from csbox.sampling.unrolled import UnrolledISTA  # noqa: E402


@pytest.mark.parametrize("variant", ["topk", "rowwise"])
def test_exactly_m_distinct_samples(variant):
    s = DPSSampler(50, 7, variant=variant, seed=1)
    for tau in (5.0, 0.5):
        hard, soft = s.sample(tau, batch=300)
        assert torch.all(hard.sum(1) == 7) and torch.all((hard > 0).sum(1) == 7)
        assert set(torch.unique(hard).tolist()) <= {0.0, 1.0}
        assert torch.allclose(soft.sum(1), torch.full((300,), 7.0), atol=1e-4)  # M softmaxes
    m = s.mask_
    assert m.dtype == np.bool_ and m.sum() == 7


@pytest.mark.parametrize("variant", ["topk", "rowwise"])
def test_low_temperature_relaxation_approaches_hard(variant):
    s = DPSSampler(40, 5, variant=variant, seed=2)
    gaps = []
    for tau in (2.0, 0.5, 0.05, 0.0005):  # the gap is O(tau): near-ties of the perturbed logits stay soft
        hard, soft = s.sample(tau, batch=200)
        gaps.append(float((hard - soft).abs().mean().detach()))
    assert gaps[-1] < 1e-3 and gaps == sorted(gaps, reverse=True)


def test_gradients_flow_through_csbox_fft_on_torch():
    s = DPSSampler(64, 8, shape=(8, 8), seed=0)
    model = UnrolledISTA((8, 8), 2, cnn_width=4)
    x = torch.randn(4, 8, 8, dtype=torch.complex64)
    m = s(0.5, batch=4)
    y = m.to(torch.complex64) * (FFT((8, 8), centered=True) @ x)
    loss = torch.mean(torch.abs(model(y, m) - x) ** 2) + 1e-3 * s.entropy()
    loss.backward()
    for name, p in [("logits", s.logits), *model.named_parameters()]:
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert s.logits.grad.abs().sum() > 0 and model.log_eta.grad.abs().sum() > 0


def test_partial_fourier_on_torch_matches_numpy():
    rng = np.random.default_rng(0)
    mask = rng.random((16, 16)) < 0.3
    A = PartialFourier((16, 16), mask, centered=True)
    x = rng.standard_normal((3, 16, 16)) + 1j * rng.standard_normal((3, 16, 16))
    xt = torch.as_tensor(x)
    np.testing.assert_allclose(to_numpy(A @ xt), A @ x, atol=1e-12)
    np.testing.assert_allclose(to_numpy(A.H @ (A @ xt)), A.H @ (A @ x), atol=1e-12)


def test_learns_the_energy_support_and_beats_random():
    rng = np.random.default_rng(0)
    N, K = 64, 8
    S = np.sort(rng.choice(N, K, replace=False))
    F = FFT((N,), centered=True)

    def signals(n):
        Z = np.zeros((n, N), complex)
        Z[:, S] = rng.standard_normal((n, K)) + 1j * rng.standard_normal((n, K))
        return F.H @ Z

    train, val = signals(512), signals(128)
    sampler = DPSSampler(N, K, seed=0)
    model = UnrolledISTA((N,), 2)
    train_dps(model, train, sampler=sampler, epochs=10, lr=1e-2, progress=False)
    overlap = np.isin(np.flatnonzero(sampler.mask_), S).mean()
    assert overlap >= 0.9
    rand = np.zeros(N, bool)
    rand[rng.choice(N, K, replace=False)] = True
    other = UnrolledISTA((N,), 2)
    train_dps(other, train, mask=rand, epochs=10, lr=1e-2, progress=False)
    learned = evaluate(model, val, sampler.mask_)["nmse_db"]
    random = evaluate(other, val, rand)["nmse_db"]
    assert learned < random - 3.0


def test_save_load_roundtrip_and_errors(tmp_path):
    s = DPSSampler(36, 5, variant="rowwise", shape=(6, 6), seed=4)
    with torch.no_grad():
        s.logits.add_(torch.randn_like(s.logits))
    s.save(tmp_path / "s.npz")
    t = DPSSampler.load(tmp_path / "s.npz")
    assert torch.equal(s.logits, t.logits) and t.variant == "rowwise" and t.shape == (6, 6)
    np.testing.assert_array_equal(load_mask(tmp_path / "s.npz", (6, 6)), s.mask_)
    save_mask(tmp_path / "m.npz", s.mask_)
    np.testing.assert_array_equal(load_mask(tmp_path / "m.npz"), s.mask_)
    np.savez(tmp_path / "bad.npz", foo=np.ones(3))
    with pytest.raises(ValueError, match="no 'mask' array"):
        load_mask(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="not a DPSSampler file"):
        DPSSampler.load(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match=r"expected \(5, 5\)"):
        load_mask(tmp_path / "m.npz", (5, 5))
    np.savez(tmp_path / "float.npz", mask=np.ones((6, 6)))
    with pytest.raises(ValueError, match="expected bool"):
        load_mask(tmp_path / "float.npz")
    obj = np.empty(2, dtype=object)
    np.save(tmp_path / "obj.npy", obj, allow_pickle=True)
    with pytest.raises(ValueError):
        np.load(tmp_path / "obj.npy", allow_pickle=False)


def test_bad_construction():
    with pytest.raises(ValueError, match="n_samples must be <= 9"):
        DPSSampler(10, 10)
    with pytest.raises(ValueError, match="variant must be"):
        DPSSampler(10, 3, variant="gumbel")
    with pytest.raises(ValueError, match="does not hold"):
        DPSSampler(10, 3, shape=(3, 3))
    with pytest.raises(ValueError, match="exactly one of sampler and mask"):
        train_dps(UnrolledISTA((8,), 1), np.zeros((4, 8)))


def test_malformed_files_raise_value_error_naming_the_file(tmp_path):
    s = DPSSampler(16, 4, shape=(4, 4))
    s.save(tmp_path / "ok.npz")
    raw = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"trunc\.npz: not a readable \.npz"):
        DPSSampler.load(tmp_path / "trunc.npz")
    with pytest.raises(ValueError, match=r"trunc\.npz"):
        load_mask(tmp_path / "trunc.npz")
    good = dict(np.load(tmp_path / "ok.npz"))
    for key, bad, msg in [
        ("logits", np.full((1, 16), np.nan), "finite real"),
        ("logits", np.ones((1, 16), complex), "finite real"),
        ("shape", np.array([4.0, 4.0]), "positive ints"),
        ("n_samples", np.int64(16), "n_samples"),
    ]:
        np.savez(tmp_path / "bad.npz", **{**good, key: bad})
        with pytest.raises(ValueError, match=msg):
            DPSSampler.load(tmp_path / "bad.npz")


def test_bad_hyper_parameters_and_data():
    model = UnrolledISTA((8,), 1)
    X = np.ones((4, 8))
    s = DPSSampler(8, 2)
    for kw, msg in [({"lr": -1.0}, "lr must be >"), ({"batch_size": 0}, "batch_size must be >= 1"),
                    ({"epochs": 0}, "epochs must be >= 1"), ({"tau": (1.0, 0.0)}, "tau must be >")]:
        with pytest.raises(ValueError, match=msg):
            train_dps(model, X, sampler=s, **kw)
    with pytest.raises(ValueError, match="train contains NaN"):
        train_dps(model, np.full((4, 8), np.nan), sampler=s)
    with pytest.raises(ValueError, match="images contains NaN"):
        evaluate(model, np.full((4, 8), np.nan), np.ones(8, bool))
    with pytest.raises(ValueError, match="tau must be >"):
        s.sample(0.0)
    with pytest.raises(ValueError, match="n_iter must be >= 1"):
        UnrolledISTA((8,), -1)
    with pytest.raises(ValueError, match="DPSSampler logits needs"):
        DPSSampler(10**6, 10**5, variant="rowwise")


def test_nan_loss_stops_training_with_a_warning():
    model = UnrolledISTA((8,), 1)
    X = np.ones((4, 8))

    def bad_measure(x, m):
        return x * float("nan")

    with pytest.warns(RuntimeWarning, match="loss became nan"):
        hist = train_dps(model, X, mask=np.ones(8, bool), measure=bad_measure, epochs=2)
    assert hist["stop_reason"] == "nan" and hist["loss"] == []
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_unrolled_ista_is_seeded_and_leaves_the_global_generator():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = UnrolledISTA((8, 8), 2, cnn_width=4)
    after = torch.rand(3)
    b = UnrolledISTA((8, 8), 2, cnn_width=4)
    c = UnrolledISTA((8, 8), 2, cnn_width=4, seed=1)
    assert torch.equal(before, after)  # building the model drew nothing from the global generator
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True))
    with pytest.raises(ValueError, match="seed"):
        UnrolledISTA((8, 8), 2, seed=-1)


def test_fixed_candidates_always_on_never_drawn(tmp_path):
    fixed = np.zeros((6, 6), bool)
    fixed[2:4, 2:4] = True
    for variant in ("topk", "rowwise"):
        s = DPSSampler(36, 5, shape=(6, 6), variant=variant, seed=1, fixed=fixed)
        hard, soft = s.sample(0.5, batch=3)
        assert np.all(hard.numpy().reshape(3, 6, 6)[:, fixed] == 1)
        assert np.all(hard.numpy().sum(-1) == 9)
        assert np.allclose(soft.detach().numpy().sum(-1), 9, atol=1e-4)
        assert s.mask_[fixed].all() and s.mask_.sum() == 9
        s.save(tmp_path / "s.npz")
        np.testing.assert_array_equal(DPSSampler.load(tmp_path / "s.npz").mask_, s.mask_)
    with pytest.raises(ValueError, match="fixed"):
        DPSSampler(36, 33, shape=(6, 6), fixed=fixed)


def test_unrolled_sense_matches_l1_wavelet_sense_and_passes_gradients():
    from csbox.mri import birdcage_maps, l1_wavelet_sense
    from csbox.sampling import image_set, multicoil_set, poisson_disc
    from csbox.sampling.unrolled import UnrolledSENSE, sense_measure

    d = multicoil_set(image_set(2, (32, 32), seed=0), birdcage_maps((32, 32), 4), seed=0)
    m = poisson_disc((32, 32), acceleration=3, calib=6, seed=0)
    net = UnrolledSENSE((32, 32), 30, lam=0.002)
    data = torch.as_tensor(np.stack([d.kspace, d.maps], 1))
    mt = torch.as_tensor(np.stack([m, m]).astype(np.float32), dtype=torch.float32).requires_grad_()
    out = net(sense_measure()(data, mt), mt)
    ref = l1_wavelet_sense(d.kspace[0] * m, d.maps[0], m, lam=0.002, max_iter=30, cycle_spin=False).x
    # same problem, same start; the step differs (a bound on ||A||^2 vs power iteration): a few %
    assert np.linalg.norm(out[0].detach().numpy() - ref) / np.linalg.norm(ref) < 0.05
    torch.mean(torch.abs(out - torch.as_tensor(d.images)) ** 2).backward()
    assert torch.isfinite(mt.grad).all() and mt.grad.abs().sum() > 0
    lines = torch.ones(2, 32)
    assert net(sense_measure()(data, lines), lines).shape == (2, 32, 32)
