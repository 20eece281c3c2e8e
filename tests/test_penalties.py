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
