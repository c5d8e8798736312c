"""A template whose rate is far above its baseline, per account, app and template.

Each minute that closes, every template with at least `min_count` lines in it is compared with
its baseline (`baseline.py`: this hour of the week in earlier weeks, else the last hour): it
is out of the ordinary when it is at least `z` spreads and `factor` times above the median.
A template seen for less than 15 minutes has no baseline and is left to `novelty.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.insights.anomaly import Anomaly
from timberyard.insights.baseline import baseline
from timberyard.insights.clock import Closing
from timberyard.insights.columns import MINUTE_MS
from timberyard.insights.counts import Counts
from timberyard.insights.kept import KeptRates
from timberyard.insights.rearm import Episodes

KIND = "template_surge"


@dataclass(frozen=True)
class SurgeLimits:
    z: float = 8.0
    factor: float = 4.0
    min_count: int = 20
    window: int = 60
    weeks: int = 5
    rearm: int = 30
    max_keys: int = 10_000


class TemplateSurge(KeptRates):
    def __init__(self, limits: SurgeLimits = SurgeLimits()) -> None:
        self.limits = limits
        self.counts = Counts(("account", "app", "template"), limits.window, limits.weeks, limits.max_keys)
        self.closing = Closing()
        self.episodes = Episodes(limits.rearm)
        self._touched: dict[int, set[tuple]] = {}  # minute -> keys counted in it, until judged

    def observe(self, table: pa.Table, now_ms: int) -> list[Anomaly]:
        mined = table.filter(pc.not_equal(table.column("template"), 0))
        for key, minute in self.counts.add(mined):
            if self.closing.closed is None or minute > self.closing.closed:
                self._touched.setdefault(minute, set()).add(key)
        found = []
        for minute in self.closing.advance(now_ms):
            for key in self._touched.pop(minute, ()):
                anomaly = self._judge(key, minute)
                if anomaly:
                    found.append(anomaly)
            self.episodes.forget_before(minute)
        for stale in [m for m in self._touched if m <= (self.closing.closed or 0)]:
            del self._touched[stale]
        return found

    def _judge(self, key: tuple, minute: int) -> Anomaly | None:
        series, limits = self.counts.get(key), self.limits
        if series is None:
            return None
        lines = int(series.between(minute, minute + 1)[0])
        usual = baseline(series, minute, limits.window) if lines >= limits.min_count else None
        if usual is None or lines < limits.factor * max(usual.median, 1.0) or usual.z(lines) < limits.z:
            return None
        if not self.episodes.hot(key, minute):
            return None
        account, app, template = key
        return Anomaly(KIND, account, f"app={app} template={template}", minute * MINUTE_MS, usual.z(lines),
                       f"template {template} of app {app}: {lines} lines in a minute, usually {usual.median:.1f} "
                       f"({usual.source}), {usual.z(lines):.1f} deviations above")

    def resume(self, first: int, last: int) -> None:
        """As KeptRates; the keys waiting to be judged are not kept, since a restart does not
        judge the minutes around it."""
        super().resume(first, last)
        self._touched.clear()
