"""Thresholds: closed forms, exact prox optimality on 1-D grids, complex phase handling."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from csbox.penalties.thresholds import CEL0, MCP, Half, Hard, Soft, get_threshold

THRESHOLDS = {
    "soft": Soft(),
    "hard": Hard(),
    "half": Half(),
    "mcp": MCP(gamma=3.0),
    "cel0": CEL0(col_norms=0.8),
}

u_vals = st.floats(-20, 20, allow_nan=False)
lam_vals = st.floats(0.01, 5.0)
g_vals = st.floats(0.05, 1.0)


@given(u=u_vals, lam=lam_vals, g=g_vals)
def test_closed_forms(u, lam, g):
    m = abs(u)
    t = g * lam
    x = np.array([u])
    assert Soft().prox(x, lam, g)[0] == pytest.approx(np.sign(u) * max(m - t, 0.0), abs=1e-12)
    assert Hard().prox(x, lam, g)[0] == (u if m > math.sqrt(2 * t) else 0.0)
    gam = 3.0
    mcp = np.sign(u) * (max(m - t, 0) / (1 - g / gam) if m <= gam * lam else m)
    assert MCP(gam).prox(x, lam, g)[0] == pytest.approx(mcp, abs=1e-12)
    a = 0.8
    cel0 = np.sign(u) * min(m, max(m - math.sqrt(2 * lam) * g * a, 0) / (1 - g * a * a))
    assert CEL0(a).prox(x, lam, g)[0] == pytest.approx(cel0, abs=1e-12)
    mu = 2 * t
    if m > 54 ** (1 / 3) / 4 * mu ** (2 / 3):
        phi = math.acos(mu / 8 * (m / 3) ** -1.5)
        half = np.sign(u) * 2 / 3 * m * (1 + math.cos(2 * math.pi / 3 - 2 / 3 * phi))
    else:
        half = 0.0
    assert Half().prox(x, lam, g)[0] == pytest.approx(half, abs=1e-10)


@pytest.mark.parametrize("name", list(THRESHOLDS))
@given(u=u_vals, lam=lam_vals, g=st.floats(0.05, 0.99))
def test_prox_is_global_minimiser_on_grid(name, u, lam, g):
    """prox(u) minimises 0.5 (x - u)^2 + g lam phi(x): no grid point does better."""
    thr = THRESHOLDS[name]
    grid = np.linspace(-25, 25, 200001)
    obj = 0.5 * (grid - u) ** 2 + g * thr.penalty_mag(np.abs(grid), lam)
    p = thr.prox(np.array([u]), lam, g)
    val = 0.5 * (p - u) ** 2 + g * thr.penalty_mag(np.abs(p), lam)
    # the grid spacing 2.5e-4 bounds how much lower the grid minimum can be than the true one
    assert val[0] <= obj.min() + 1e-6
    # and the grid minimiser is close to ours unless the minimum is (nearly) tied
    best = grid[np.argmin(obj)]
    second = obj[np.abs(grid - best) > 1e-2].min() if name != "soft" else np.inf
    if second - obj.min() > 1e-6:
        assert abs(best - p[0]) < 1e-3


@pytest.mark.parametrize("name", list(THRESHOLDS))
def test_complex_keeps_phase_and_shrinks_magnitude(name):
    rng = np.random.default_rng(0)
    u = 3 * (rng.standard_normal(500) + 1j * rng.standard_normal(500))
    thr = THRESHOLDS[name]
    out = thr.prox(u, 1.0, 0.5)
    ref = thr.prox(np.abs(u), 1.0, 0.5)
    np.testing.assert_allclose(np.abs(out), ref, atol=1e-12)
    nz = ref > 0
    np.testing.assert_allclose(np.angle(out[nz]), np.angle(u[nz]), atol=1e-12)


def test_thresholds_on_backends(backend):
    u = backend.randn((64,), complex=True, seed=1)
    for thr in THRESHOLDS.values():
        out = thr.prox(u, 0.7, 0.5)
        assert out.dtype == backend.complex
        from csbox.backend import to_numpy

        np.testing.assert_allclose(to_numpy(out), thr.prox(to_numpy(u).astype(complex), 0.7, 0.5),
                                   atol=1e-5)


def test_registry_and_errors():
    assert isinstance(get_threshold("l1"), Soft)
    assert isinstance(get_threshold("cel0"), CEL0)
    with pytest.raises(ValueError, match="prox must be a Threshold or one of"):
        get_threshold("l3")
    with pytest.raises(ValueError, match="gamma must be > 0"):
        MCP(-1)
    with pytest.raises(ValueError, match="MCP needs gamma > step"):
        MCP(0.5).prox(np.ones(3), 1.0, 1.0)
    with pytest.raises(ValueError, match="col_norms must be > 0"):
        CEL0(0.0)
