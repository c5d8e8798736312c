"""Traffic for the detector tests: minutes of lines on a clock the test moves, never sleeps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from timberyard.insights.columns import MINUTE_MS, lines

T0 = 1_748_736_000_000  # 2025-06-01T00:00:00Z, a minute (and hour, and day) boundary


@dataclass(frozen=True)
class Stream:
    """`rate` lines a minute (Poisson) of one app, host, level and template."""

    rate: float
    app: str = "web"
    host: str = "h1"
    level: str = "INFO"
    template: int = 11
    account: str = "acme"


class Feed:
    """Feeds a detector minute by minute: each minute's lines, then `now` at the minute's end."""

    def __init__(self, detector, start_ms: int = T0, seed: int = 0) -> None:
        self.detector, self.now = detector, start_ms
        self.rng = np.random.default_rng(seed)
        self.found: list = []

    def minute(self, *streams: Stream) -> list:
        columns: list[list] = [[], [], [], [], [], []]
        for s in streams:
            n = int(self.rng.poisson(s.rate))
            times = self.now + np.sort(self.rng.integers(0, MINUTE_MS, n))
            for column, value in zip(columns, (s.account, s.app, s.host, s.level, s.template)):
                column.extend([value] * n)
            columns[5].extend(times.tolist())
        order = np.argsort(columns[5], kind="stable")
        table = lines(*([c[i] for i in order] for c in columns))
        self.now += MINUTE_MS
        found = self.detector.observe(table, self.now)
        self.found.extend(found)
        return found

    def run(self, minutes: int, *streams: Stream) -> list:
        return [a for _ in range(minutes) for a in self.minute(*streams)]
