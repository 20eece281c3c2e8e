"""Inputs that used to give a silent answer (issue 28): each now raises, naming the argument."""

import numpy as np
import pytest

from csbox.io import write_dca1000
from csbox.ultrasound import clutter_filter_svd, slow_time_recovery


def test_write_dca1000_refuses_an_empty_capture(tmp_path):
    with pytest.raises(ValueError, match="data is empty"):
        write_dca1000(tmp_path / "c.bin", np.zeros((0, 2, 4, 8), complex))
    assert not (tmp_path / "c.bin").exists()
    with pytest.raises(TypeError, match="data"):
        write_dca1000(tmp_path / "c.bin", np.full((1, 2, 4, 8), "a"))


@pytest.mark.parametrize("shape", [(0, 4, 8), (4, 0, 8), (4, 4, 1)])
def test_clutter_filter_svd_refuses_empty_ensembles(shape):
    with pytest.raises(ValueError, match="ensemble"):
        clutter_filter_svd(np.zeros(shape, complex), 0)


def test_clutter_filter_svd_refuses_nan():
    e = np.ones((3, 3, 8), complex)
    e[1, 1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clutter_filter_svd(e, 1)


@pytest.mark.parametrize("lam_rel", [1.0, 1.5, 0.0, -0.1, np.nan])
def test_slow_time_recovery_lam_rel_range(lam_rel):
    """``lam_rel >= 1`` makes ``z = 0`` the l1 solution (every coefficient zeroed): refused."""
    mask = np.arange(16) % 2 == 0
    with pytest.raises(ValueError, match="lam_rel"):
        slow_time_recovery(np.ones((2, 8), complex), mask, lam_rel=lam_rel)


def test_slow_time_recovery_refuses_empty_and_nan():
    mask = np.arange(16) % 2 == 0
    with pytest.raises(ValueError, match="kept is empty"):
        slow_time_recovery(np.ones((0, 8), complex), mask)
    bad = np.ones((2, 8), complex)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or Inf"):
        slow_time_recovery(bad, mask)
    with pytest.raises(ValueError, match="kept must have shape"):
        slow_time_recovery(np.ones((2, 7), complex), mask)
