"""Penalty objects: prox against closed forms, negative steps refused, thresholds live in csbox.penalties."""

import numpy as np
import pytest

from csbox.penalties import L0, L1, MCP, Half
from csbox.penalties.thresholds import Soft


@pytest.mark.parametrize("pen", [L1(0.5), L0(0.5), Half(0.5), MCP(0.5, gamma=3.0)])
def test_negative_or_zero_step_rejected(pen):
    v = np.array([1.0, -2.0])
    for bad in (-1.0, 0.0, np.nan):
        with pytest.raises(ValueError, match="step must be a finite number > 0"):
            pen.prox(v, bad)


def test_soft_threshold_negative_step_rejected_and_closed_form():
    v = np.array([3.0, -0.2, 1.0 + 0j])
    with pytest.raises(ValueError, match="step"):
        Soft().prox(v, 1.0, -1)
    # prox of 0.5 * |x| at step 2: shrink magnitudes by 1, keep the phase
    np.testing.assert_allclose(L1(0.5).prox(v, 2.0), [2.0, 0.0, 0.0])


def test_penalties_do_not_import_solvers():
    # penalties are a lower layer: no module-level import of csbox.solvers (``import csbox`` itself loads
    # csbox.reconstruct, which does, so the check reads the penalty modules' own import statements)
    import ast
    from pathlib import Path

    import csbox.penalties

    for path in Path(csbox.penalties.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom):
                assert "solvers" not in (node.module or ""), f"{path.name} imports {node.module}"


def _cel0_brute(P, v, step):
    # global minimiser of 0.5 (r - v)^2 + step * value(r) on a fine grid of r (CEL0 is non-convex)
    r = np.linspace(-2 * abs(v) - 1, 2 * abs(v) + 1, 8001)
    from csbox.penalties.thresholds import CEL0 as _T
    f = 0.5 * (r - v) ** 2 + step * _T(P.col_norms).penalty_mag(np.abs(r), P.lam)
    return f.min()


def test_cel0_prox_when_step_times_norm_squared_exceeds_one():
    # for step a^2 > 1 the CEL0 objective is concave on [0, sqrt(2 lam)/a]: the prox is hard
    # thresholding at sqrt(2 step lam) (it used sqrt(2 lam)/a, which is right only at step a^2 = 1)
    from csbox.penalties import CEL0

    P = CEL0(0.7, 1.3)
    v = np.linspace(-3.0, 3.0, 41)
    x = P.prox(v, 1.0)
    obj = 0.5 * (x - v) ** 2 + 1.0 * np.array([float(P.value(np.array([xi]))) for xi in x])
    best = np.array([_cel0_brute(P, vi, 1.0) for vi in v])
    assert np.all(obj <= best + 1e-9)  # grid search can only be worse than the exact prox


def test_cel0_zero_column_norm_and_bad_norms():
    # a zero column (a Restriction's unsampled pixel) has phi = 0 (the limit a -> 0), not NaN
    from csbox.penalties import CEL0

    P = CEL0(0.5, np.array([0.0, 1.0, 2.0]))
    x = np.ones(3)
    assert float(P.value(x)) == pytest.approx(1.0)  # 0 + (0.5 - 0) + 0.5
    np.testing.assert_allclose(P.prox(x, 0.2), x)
    for bad in (np.array([-1.0, 1.0]), np.array([np.nan, 1.0])):
        with pytest.raises(ValueError, match="col_norms"):
            CEL0(0.5, bad)
