"""What a key's rate usually is at a given minute: its own past, robustly.

Seasonal first: the same hour of the week in earlier weeks (`min_weeks` of them at least), as
lines per minute, so a Monday-morning peak is compared with Monday mornings. Until a key has
that much history, the minutes just before stand in. Centre and spread are the median and the
scaled MAD (`core/robust.py`, as index-rate alerts use); the spread is never taken below the
square root of the median, the noise of counting itself, so a very regular key with a MAD of
0 does not read every extra line as many deviations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from timberyard.core.robust import median_spread
from timberyard.insights.counts import Series

MIN_WEEKS = 2


@dataclass(frozen=True)
class Baseline:
    median: float  # lines per minute
    spread: float  # robust standard deviation, lines per minute
    source: str  # where it comes from, for evidence text

    def z(self, lines: float) -> float:
        """How many spreads `lines` in a minute is above (or below) the median."""
        return (lines - self.median) / self.spread


def baseline(series: Series, minute: int, window: int = 60, min_minutes: int = 15) -> Baseline | None:
    """`series`' usual lines per minute at `minute` (from history before it), or None while
    it has fewer than `min_minutes` minutes of history and fewer than MIN_WEEKS weeks."""
    weeks = series.same_hour(minute // 60)
    if len(weeks) >= MIN_WEEKS:
        values, source = weeks / 60, f"this hour of the week in {len(weeks)} earlier weeks"
    else:
        values = series.recent(minute, window)
        if len(values) < min_minutes:
            return None
        source = f"the {len(values)} minutes before"
    median, spread = median_spread(values)
    return Baseline(median, max(spread, math.sqrt(max(median, 1.0))), source)
