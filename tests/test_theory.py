"""The l1 phase-transition curve against Donoho-Tanner's tabulated weak threshold."""

import numpy as np
import pytest

from csbox.theory import l1_phase_transition, l1_statistical_dimension_fraction


def test_donoho_tanner_values():
    d, r = l1_phase_transition(400)
    # Donoho & Tanner's weak threshold for the cross-polytope: rho_W(0.5) = 0.3848
    assert np.interp(0.5, d, r) == pytest.approx(0.3848, abs=2e-3)
    assert np.all(np.diff(d) > 0) and np.all(np.diff(r) > 0)


def test_statistical_dimension_monte_carlo():
    """psi(s) = E dist^2(g, cone) / n: check against a Monte-Carlo estimate of the same expectation."""
    rng = np.random.default_rng(0)
    n, s = 400, 0.1
    k = int(s * n)
    g = rng.standard_normal((2000, n))
    taus = np.linspace(0, 3, 301)
    # dist^2 to tau * subdifferential of ||.||_1 at a k-sparse x with positive signs
    d2 = [((g[:, :k] - t) ** 2).sum(1) + (np.maximum(np.abs(g[:, k:]) - t, 0) ** 2).sum(1) for t in taus]
    mc = min(np.mean(v) for v in d2) / n
    assert l1_statistical_dimension_fraction(s) == pytest.approx(mc, rel=0.02)
    with pytest.raises(ValueError, match="s must be <= 1"):
        l1_statistical_dimension_fraction(1.5)


def test_phase_transition_needs_a_point():
    with pytest.raises(ValueError, match="num must be >= 1"):  # num=0 returned two empty arrays
        l1_phase_transition(0)
