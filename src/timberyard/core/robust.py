"""Robust centre and spread of a handful of counts, for rates compared with their own past.

The median and the median absolute deviation (x 1.4826, so it reads as a standard deviation
for normal data): one odd week, a holiday, an outage or a burst cannot move them the way it
moves a mean and a standard deviation. Index-rate alerts and the anomaly detectors share it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MAD_SCALE = 1.4826


def median_spread(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """(median, scaled median absolute deviation) of a non-empty run of values."""
    data = np.asarray(values, dtype=float)
    median = float(np.median(data))
    return median, MAD_SCALE * float(np.median(np.abs(data - median)))
