"""An app or a host that has gone silent, per account.

Each closing minute, every (account, app) and (account, host) that has sent nothing for at
least `min_quiet` minutes is weighed: if its baseline rate (`baseline.py`: this hour of the
week when weeks are known, so a host that is always quiet at night is not reported at night;
else the last hour, quiet minutes included, so a long silence is reported early or not at
all) means it should have sent at least `min_expected` lines by now, it
is reported, once, until it sends again. Traffic that is bursty but regular (a cron job every
five minutes) has a median of 0 lines a minute and is never reported: that is the price.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from timberyard.insights.anomaly import Anomaly
from timberyard.insights.baseline import baseline
from timberyard.insights.clock import Closing
from timberyard.insights.columns import MINUTE_MS
from timberyard.insights.counts import Counts

KIND = "silence"


@dataclass(frozen=True)
class SilenceLimits:
    min_quiet: int = 3
    min_expected: float = 30.0
    window: int = 60
    weeks: int = 5
    max_keys: int = 10_000


class Silence:
    def __init__(self, limits: SilenceLimits = SilenceLimits()) -> None:
        self.limits = limits
        self.watched = {
            column: Counts(("account", column), limits.window, limits.weeks, limits.max_keys)
            for column in ("app", "host")
        }
        self.closing = Closing()
        self._reported: dict[tuple, int] = {}  # (column, account, value) -> its last minute with lines

    def observe(self, table: pa.Table, now_ms: int) -> list[Anomaly]:
        for counts in self.watched.values():
            counts.add(table)
        found = []
        for minute in self.closing.advance(now_ms):
            for column, counts in self.watched.items():
                for (account, value), series in counts:
                    anomaly = self._judge(column, account, value, series, minute)
                    if anomaly:
                        found.append(anomaly)
        if len(self._reported) > sum(len(counts) for counts in self.watched.values()):
            # Keys dropped from the counts past max_keys: their reports go too.
            self._reported = {k: v for k, v in self._reported.items() if self.watched[k[0]].get(k[1:]) is not None}
        return found

    def _judge(self, column: str, account: str, value: str, series, minute: int) -> Anomaly | None:
        key, limits = (column, account, value), self.limits
        if self._reported.get(key, series.last_minute) != series.last_minute:
            del self._reported[key]  # it spoke again
        quiet = series.known(series.last_minute + 1, minute + 1)  # minutes the node was down do not count
        if quiet < limits.min_quiet or key in self._reported:
            return None
        usual = baseline(series, minute, limits.window)
        if usual is None or usual.median * quiet < limits.min_expected:
            return None
        self._reported[key] = series.last_minute
        return Anomaly(KIND, account, f"{column}={value}", (series.last_minute + 1) * MINUTE_MS, usual.median * quiet,
                       f"{column} {value} has sent nothing for {quiet} minutes; it usually sends "
                       f"{usual.median:.1f} lines a minute ({usual.source})")

    def state(self) -> dict:
        return {
            "counts": {column: counts.state() for column, counts in self.watched.items()},
            "reported": [[*key, last] for key, last in self._reported.items()],
            "closed": self.closing.closed,
        }

    def load(self, state: dict) -> None:
        for column, counts in self.watched.items():
            counts.load(state["counts"][column])
        self._reported = {(c, a, v): int(last) for c, a, v, last in state["reported"]}
        self.closing.closed = state["closed"]

    def resume(self, first: int, last: int) -> None:
        """Minutes `first` to `last` were not seen (the node was down): unknown, not quiet."""
        for counts in self.watched.values():
            counts.add_gap(first, last)
        self.closing.resume(last)
