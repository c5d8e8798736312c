"""An account's volume far above or far below its baseline: spikes and drops.

Each closing minute, every account's lines are compared with its baseline (`baseline.py`). A
spike is at least `z` spreads and `factor` times above the median; a drop is at least `z`
spreads below and under the median divided by `factor`, judged only for accounts that usually
send at least `min_expected` lines a minute (for a quiet account a quiet minute is normal). An
account that stops sending altogether reads as a drop too.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from timberyard.insights.anomaly import Anomaly
from timberyard.insights.baseline import baseline
from timberyard.insights.clock import Closing
from timberyard.insights.columns import MINUTE_MS
from timberyard.insights.counts import Counts
from timberyard.insights.kept import KeptRates
from timberyard.insights.rearm import Episodes

SPIKE, DROP = "volume_spike", "volume_drop"


@dataclass(frozen=True)
class VolumeLimits:
    z: float = 6.0
    factor: float = 3.0
    min_expected: float = 60.0
    window: int = 60
    weeks: int = 5
    rearm: int = 30
    max_keys: int = 10_000


class AccountVolume(KeptRates):
    def __init__(self, limits: VolumeLimits = VolumeLimits()) -> None:
        self.limits = limits
        self.counts = Counts(("account",), limits.window, limits.weeks, limits.max_keys)
        self.closing = Closing()
        self.episodes = Episodes(limits.rearm)

    def observe(self, table: pa.Table, now_ms: int) -> list[Anomaly]:
        self.counts.add(table)
        found = []
        for minute in self.closing.advance(now_ms):
            for key, series in self.counts:
                lines = int(series.between(minute, minute + 1)[0])
                anomaly = self._judge(key[0], minute, lines, series)
                if anomaly:
                    found.append(anomaly)
            self.episodes.forget_before(minute)
        return found

    def _judge(self, account: str, minute: int, lines: int, series) -> Anomaly | None:
        limits = self.limits
        usual = baseline(series, minute, limits.window)
        if usual is None:
            return None
        z = usual.z(lines)
        if lines >= limits.factor * max(usual.median, 1.0) and z >= limits.z:
            kind, said = SPIKE, "above"
        elif usual.median >= limits.min_expected and lines <= usual.median / limits.factor and z <= -limits.z:
            kind, said = DROP, "below"
        else:
            return None
        if not self.episodes.hot((account, kind), minute):
            return None
        return Anomaly(kind, account, "", minute * MINUTE_MS, z,
                       f"{lines} lines in a minute, usually {usual.median:.0f} ({usual.source}), "
                       f"{abs(z):.1f} deviations {said}")
