"""Root pytest configuration: the doctests in ``csbox/`` run with the tests (``python -m pytest -q``).

Collecting ``csbox`` with ``--doctest-modules`` imports every module; the ones that need an optional
extra at import time are skipped when that extra is not installed, so the base install still
collects cleanly.
"""

import importlib.util

# module -> the optional package it imports at module level (the `learn` extra's torch)
_NEEDS = {
    "csbox/mri/spokes.py": "torch",
    "csbox/sampling/dps.py": "torch",
}

collect_ignore = [path for path, package in _NEEDS.items() if importlib.util.find_spec(package) is None]
# the 0.1 compatibility shim warns on import by design and holds no examples
collect_ignore.append("csbox/solvers/thresholds.py")
