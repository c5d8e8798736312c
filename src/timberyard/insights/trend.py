"""An app's error ratio climbing towards a threshold: forecast the crossing before it happens.

Each closing minute, per (account, app), the share of lines at ERROR or worse in each of the
last `window` minutes (minutes with fewer than `min_lines` lines are left out) gets a robust
line through it: the Theil-Sen slope (the median of the slopes between every two minutes) and
the median intercept, so a single bad minute cannot tilt it. If the line rose by at least
`min_rise` over the window, its slope is at least `significance` standard errors (from the
scaled MAD of the residuals: a steady ratio that merely wobbles near the threshold is not a
trend), and it reaches `threshold` within `horizon` minutes from now (or has already), it is
reported, once, until the forecast falls back below the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.robust import median_spread
from timberyard.insights.anomaly import Anomaly
from timberyard.insights.clock import Closing
from timberyard.insights.columns import ERROR_RANK, MINUTE_MS
from timberyard.insights.counts import Counts

KIND = "error_trend"


@dataclass(frozen=True)
class TrendLimits:
    threshold: float = 0.25
    horizon: int = 30
    window: int = 30
    min_rise: float = 0.05
    significance: float = 5.0
    min_lines: int = 10
    max_keys: int = 10_000


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the Theil-Sen line through at least two points of distinct x."""
    i, j = np.triu_indices(len(x), 1)
    slope = float(np.median((y[j] - y[i]) / (x[j] - x[i])))
    return slope, float(np.median(y - slope * x))


class ErrorTrend:
    def __init__(self, limits: TrendLimits = TrendLimits()) -> None:
        self.limits = limits
        self.lines = Counts(("account", "app"), limits.window, 1, limits.max_keys)
        self.errors = Counts(("account", "app"), limits.window, 1, limits.max_keys)
        self.closing = Closing(keep=limits.window)
        self._firing: set[tuple] = set()

    def observe(self, table: pa.Table, now_ms: int) -> list[Anomaly]:
        self.lines.add(table)
        self.errors.add(table.filter(pc.less_equal(table.column("severity"), ERROR_RANK)))
        found = []
        for minute in self.closing.advance(now_ms):
            for key, series in self.lines:
                anomaly = self._judge(key, series, minute)
                if anomaly:
                    found.append(anomaly)
        if len(self._firing) > len(self.lines):
            self._firing = {key for key in self._firing if self.lines.get(key) is not None}
        return found

    def _judge(self, key: tuple, series, minute: int) -> Anomaly | None:
        limits = self.limits
        start = max(minute + 1 - limits.window, series.first_minute)
        totals = series.between(start, minute + 1)
        errors = self.errors.get(key)
        bad = errors.between(start, minute + 1) if errors is not None else np.zeros_like(totals)
        enough = totals >= limits.min_lines
        if enough.sum() < limits.window // 2:
            self._firing.discard(key)
            return None
        x = np.arange(start, minute + 1)[enough] - minute
        ratios = bad[enough] / totals[enough]
        slope, now_ratio = theil_sen(x.astype(float), ratios)
        _, noise = median_spread(ratios - (now_ratio + slope * x))
        error = noise * np.sqrt(12 / (len(x) * (len(x) ** 2 - 1)))  # a fitted slope's standard error
        rising = slope > 0 and slope * (limits.window - 1) >= limits.min_rise and slope >= limits.significance * error
        if not rising or now_ratio + slope * limits.horizon < limits.threshold:
            self._firing.discard(key)
            return None
        if key in self._firing:
            return None
        self._firing.add(key)
        to_cross = max(0.0, (limits.threshold - now_ratio) / slope)
        account, app = key
        return Anomaly(KIND, account, f"app={app}", (minute + 1 - limits.window) * MINUTE_MS, to_cross,
                       f"app {app}: errors are {now_ratio:.0%} of lines and rising {slope * 60:.0%} an hour; "
                       f"forecast to reach {limits.threshold:.0%} in {to_cross:.0f} minutes")

    def state(self) -> dict:
        return {"lines": self.lines.state(), "errors": self.errors.state(),
                "firing": [list(key) for key in self._firing], "closed": self.closing.closed}

    def load(self, state: dict) -> None:
        self.lines.load(state["lines"])
        self.errors.load(state["errors"])
        self._firing = {tuple(key) for key in state["firing"]}
        self.closing.closed = state["closed"]

    def resume(self, first: int, last: int) -> None:
        """Minutes `first` to `last` were not seen (the node was down): not judged (their zero
        counts are below `min_lines`, so no fit reads them either)."""
        self.lines.add_gap(first, last)
        self.errors.add_gap(first, last)
        self.closing.resume(last)
