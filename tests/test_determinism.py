"""Determinism: the same call with the same seed is bit-identical run to run (NumPy; torch on CPU).

Every randomised function outside sbl/dictionary/sparse_wht (tested beside them) is called twice
with the same arguments; between the calls the global NumPy and torch generators are reseeded
differently, so a function that draws from global state instead of its ``seed`` shows up as a
difference. A subprocess run of the masks checks that nothing depends on the process (hash
randomisation, import order).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from csbox.mri import birdcage_maps, espirit_maps
from csbox.phantoms import lines_and_circles
from csbox.sampling import poisson_disc, uniform_random, variable_density
from csbox.sar import linear_scan, planar_scan
from csbox.ultrasound import RotatingDisk


def _twice(fn):
    np.random.seed(1)  # noqa: NPY002 (the legacy global state is what a leak would use)
    a = fn()
    np.random.seed(2)  # noqa: NPY002
    try:
        import torch

        torch.manual_seed(12345)
    except ImportError:
        pass
    b = fn()
    return a, b


def _assert_identical(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            _assert_identical(u, v)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_identical(a[k], b[k])
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()  # bit for bit (NaN-safe)


CASES = {
    "uniform_random": lambda: uniform_random((64, 48), acceleration=4, calib=8, seed=3),
    "variable_density": lambda: variable_density((64, 48), acceleration=4, calib=8, seed=3),
    "poisson_disc": lambda: poisson_disc((64, 48), acceleration=4, calib=8, seed=3),
    "lines_and_circles": lambda: lines_and_circles(4, 32, seed=5),
    "RotatingDisk.scatterers": lambda: RotatingDisk().scatterers(500, seed=7),
    "linear_scan": lambda: linear_scan(40, 1e-3, height_dev=0.03, jitter=2e-4, seed=9),
    "planar_scan": lambda: planar_scan(10, 12, 1e-3, 1e-3, height_dev=0.03, jitter=2e-4, seed=9),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_same_bits(name):
    _assert_identical(*_twice(CASES[name]))


def test_different_seeds_differ():
    """The seed is used (a function ignoring it would pass the tests above trivially)."""
    assert not np.array_equal(poisson_disc((64, 48), acceleration=4, seed=1),
                              poisson_disc((64, 48), acceleration=4, seed=2))
    assert not np.array_equal(uniform_random(64, acceleration=4, seed=1),
                              uniform_random(64, acceleration=4, seed=2))


def test_espirit_start_vectors_are_deterministic():
    n = 32
    maps = birdcage_maps((n, n), 4)
    yy, xx = np.mgrid[:n, :n]
    img = ((xx - n / 2) ** 2 + (yy - n / 2) ** 2 < (n / 3) ** 2).astype(float)
    ax = (-2, -1)
    ks = np.fft.fftshift(np.fft.fft2(np.fft.ifftshift(maps * img, axes=ax), norm="ortho"), axes=ax)
    _assert_identical(*_twice(lambda: espirit_maps(ks, calib_width=12, kernel_width=5)))


_MASKS_SCRIPT = (
    "import hashlib, numpy as np\n"
    "from csbox.sampling import poisson_disc, uniform_random, variable_density\n"
    "h = hashlib.sha256()\n"
    "for f in (uniform_random, variable_density, poisson_disc):\n"
    "    h.update(np.ascontiguousarray(f((64, 48), acceleration=4, calib=8, seed=3)).tobytes())\n"
    "print(h.hexdigest())\n"
)


def test_masks_identical_in_a_fresh_process():
    h = hashlib.sha256()
    for f in (uniform_random, variable_density, poisson_disc):
        h.update(np.ascontiguousarray(f((64, 48), acceleration=4, calib=8, seed=3)).tobytes())
    out = subprocess.run([sys.executable, "-c", _MASKS_SCRIPT], capture_output=True, text=True, check=True,
                         env={"PYTHONHASHSEED": "123", **__import__("os").environ})
    assert out.stdout.strip() == h.hexdigest()


def test_dps_sampler_and_training_are_deterministic():
    torch = pytest.importorskip("torch")
    from csbox.sampling.dps import DPSSampler, train_dps
    from csbox.sampling.unrolled import UnrolledISTA

    rng = np.random.default_rng(0)
    train = rng.standard_normal((32, 32)) + 1j * rng.standard_normal((32, 32))

    def run():
        torch.manual_seed(0)  # the model's initial weights come from torch's global generator
        sampler = DPSSampler(32, 8, seed=4)
        draws = [sampler.sample(1.0, batch=2)[0].detach().numpy().copy() for _ in range(3)]
        model = UnrolledISTA((32,), 2)
        hist = train_dps(model, train, sampler=sampler, epochs=2, batch_size=8, lr=1e-2, seed=6)
        weights = [p.detach().numpy().copy() for p in model.parameters()]
        return draws, sampler.mask_, weights, hist.get("loss", hist.get("train_loss", []))

    _assert_identical(*_twice(run))
