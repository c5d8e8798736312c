"""Tumbling windows by arrival time, and what one window has counted so far.

Windows are aligned to the interval on the UTC epoch (a 5 m window starts at :00, :05, ...),
and a line belongs to the window in which the node RECEIVED it (the high bits of its id), not
the one its event time names. So a window can be decided when it ends, without waiting for
stragglers, and no line is ever silently missed:

- a line whose event time is before the start of the window it arrived in is counted in that
  window and also counted as *late*; the firing reports how many lines were late, so an
  agent that caught up after an outage is visible instead of quietly shifting counts;
- a line that reaches the evaluator after its arrival window was already decided (say, replayed
  after a restart) is counted in the open window, also as late.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.records import ID_COUNTER_BITS

SAMPLES = 10  # sample lines kept per window, for the notification


def window_start_ms(at_ms: int, interval_s: int) -> int:
    span = interval_s * 1000
    return at_ms - at_ms % span


def arrivals_ms(table: pa.Table) -> np.ndarray:
    """Each line's receive time in epoch ms, from its id."""
    ids = table.column("id").to_numpy()
    return (ids >> np.uint64(ID_COUNTER_BITS)).astype(np.int64)


def event_times_ms(table: pa.Table) -> np.ndarray:
    return pc.cast(table.column("ts"), pa.int64()).to_numpy()


@dataclass
class Window:
    """The counts of one alert's open window."""

    start_ms: int
    interval_s: int
    matches: int = 0
    late: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.interval_s * 1000

    def wants_samples(self) -> bool:
        return len(self.samples) < SAMPLES

    def add(self, matches: int, late: int, samples: list[dict[str, Any]]) -> None:
        self.matches += matches
        self.late += late
        self.samples.extend(samples[: SAMPLES - len(self.samples)])


def split_by_window(arrivals: np.ndarray, events: np.ndarray, interval_s: int) -> list[tuple[int, np.ndarray, int]]:
    """Matched lines grouped by arrival window: (window start ms, row positions, late lines),
    oldest window first. A batch nearly always falls in one window."""
    span = interval_s * 1000
    starts = arrivals - arrivals % span
    first, last = int(starts.min()), int(starts.max())
    if first == last:
        return [(first, np.arange(len(starts)), int(np.count_nonzero(events < first)))]
    groups = []
    for start in np.unique(starts):
        rows = np.flatnonzero(starts == start)
        groups.append((int(start), rows, int(np.count_nonzero(events[rows] < start))))
    return groups
