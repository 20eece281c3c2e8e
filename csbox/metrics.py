"""Image-quality metrics shared by the operators' helpers and the demos."""

from __future__ import annotations

import numpy as np

__all__ = ["lobe_width"]


def lobe_width(profile: np.ndarray, coords: np.ndarray, peak: int, level: float) -> float:
    """Width of the lobe of ``profile`` around index ``peak`` at ``level`` (same units as ``profile``).

    Walks out from the peak to the first samples at or below ``level`` on each side and
    interpolates the crossings linearly between samples (``coords`` gives their positions).
    """
    profile = np.asarray(profile, dtype=float)
    lo = peak
    while lo > 0 and profile[lo] > level:
        lo -= 1
    hi = peak
    while hi < profile.size - 1 and profile[hi] > level:
        hi += 1

    def cross(a: int, b: int) -> float:
        if profile[a] == profile[b]:
            return float(coords[a])
        t = (level - profile[a]) / (profile[b] - profile[a])
        return float(coords[a] + t * (coords[b] - coords[a]))

    return cross(hi, hi - 1) - cross(lo, lo + 1)
