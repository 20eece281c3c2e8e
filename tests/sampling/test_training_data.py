"""Training / held-out image sets: deterministic, disjoint sources, multi-coil k-space as SENSE has it."""

import numpy as np
import pytest

pytest.importorskip("skimage")

from csbox.mri import Sense, birdcage_maps
from csbox.sampling.training_data import TEST_SOURCES, TRAIN_SOURCES, image_set, multicoil_set


def test_sources_are_disjoint():
    assert not set(TRAIN_SOURCES) & set(TEST_SOURCES)


def test_image_set_deterministic_and_scaled():
    a = image_set(5, (32, 32), seed=3)
    b = image_set(5, (32, 32), seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5, 32, 32) and a.dtype == np.complex64
    np.testing.assert_allclose(np.abs(a).max(axis=(1, 2)), 1.0, rtol=1e-5)
    assert not np.array_equal(a, image_set(5, (32, 32), seed=4))
    real = image_set(2, (16, 16), phase=False, split="test")
    assert np.all(real.imag == 0) and np.all(real.real >= 0)


def test_multicoil_matches_sense_without_noise():
    x = image_set(3, (32, 32), seed=0)
    d = multicoil_set(x, birdcage_maps((32, 32), 4), noise=0.0, seed=1)
    assert d.kspace.shape == d.maps.shape == (3, 4, 32, 32) and len(d) == 3
    for j in range(3):
        A = Sense(d.maps[j], np.ones((32, 32), bool))
        np.testing.assert_allclose(A @ d.images[j], d.kspace[j], atol=1e-5)
    noisy = multicoil_set(x, birdcage_maps((32, 32), 4), noise=0.05, seed=1)
    np.testing.assert_array_equal(noisy.maps, d.maps)
    resid = noisy.kspace - d.kspace
    assert abs(resid.std() / noisy.noise_std - 1) < 0.1


@pytest.mark.parametrize("kw, err", [
    ({"n_images": 0}, ValueError), ({"shape": (4, 4)}, ValueError), ({"split": "val"}, ValueError),
    ({"phase": 1}, TypeError), ({"seed": -1}, ValueError),
])
def test_image_set_bad_input(kw, err):
    args = {"n_images": 1, "shape": (16, 16)} | kw
    with pytest.raises(err):
        image_set(**args)


def test_multicoil_bad_input():
    x = image_set(1, (16, 16))
    with pytest.raises(ValueError, match="maps"):
        multicoil_set(x, np.ones((2, 8, 8)))
    with pytest.raises(ValueError, match="noise"):
        multicoil_set(x, np.ones((2, 16, 16)), noise=-1)
    with pytest.raises(ValueError, match="images"):
        multicoil_set(x * np.nan, np.ones((2, 16, 16)))
    with pytest.raises(TypeError, match="images"):
        multicoil_set(np.array([["a"]]), np.ones((2, 16, 16)))
