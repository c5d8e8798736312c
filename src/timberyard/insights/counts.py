"""Lines per minute and per hour, per key, in bounded memory.

A `Series` holds one key's counts: the last `window` minutes in a ring, and the last `weeks`
weeks of hourly totals in another (the hour-of-week baseline reads them). A key that falls
silent is not advanced, and reads treat the minutes after its last count as zero, so a silent
key costs nothing per minute. `Counts` keeps at most `max_keys` series; the least recently
counted one is dropped first. Memory: about 8 x (window + 168 x weeks) bytes a key (7 KB with
the defaults).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

HOURS_PER_WEEK = 168


class Series:
    """One key's counts per minute (recent) and per hour (weeks back)."""

    __slots__ = ("first_minute", "last_minute", "minutes", "hours")

    def __init__(self, minute: int, window: int, weeks: int) -> None:
        self.first_minute = self.last_minute = minute
        self.minutes = np.zeros(window, np.int64)
        self.hours = np.zeros(HOURS_PER_WEEK * weeks, np.int64)

    def add(self, minute: int, lines: int) -> None:
        """Count `lines` in `minute`; a minute older than the ring counts only in its hour."""
        last_hour = self.last_minute // 60
        if minute > self.last_minute:
            _advance(self.minutes, self.last_minute, minute)
            _advance(self.hours, last_hour, minute // 60)
            self.last_minute = minute
        self.first_minute = min(self.first_minute, minute)
        if minute > self.last_minute - len(self.minutes):
            self.minutes[minute % len(self.minutes)] += lines
        if minute // 60 > self.last_minute // 60 - len(self.hours):
            self.hours[minute // 60 % len(self.hours)] += lines

    def between(self, start: int, end: int) -> np.ndarray:
        """Lines in each minute from `start` to `end` (excluded); 0 where none were counted."""
        wanted = np.arange(start, end)
        held = (wanted <= self.last_minute) & (wanted > self.last_minute - len(self.minutes))
        return np.where(held, self.minutes[wanted % len(self.minutes)], 0)

    def recent(self, end: int, count: int) -> np.ndarray:
        """`between` for the `count` minutes before `end`, leaving out those before the key was
        first seen (unknown is not zero)."""
        return self.between(max(end - count, self.first_minute), end)

    def same_hour(self, hour: int) -> np.ndarray:
        """This key's lines in the same hour of the week in each earlier week held, leaving out
        weeks whose hour the key was not yet seen for in full."""
        back = hour - HOURS_PER_WEEK * np.arange(1, len(self.hours) // HOURS_PER_WEEK)
        back = back[back * 60 >= self.first_minute]
        last_hour = self.last_minute // 60
        held = (back <= last_hour) & (back > last_hour - len(self.hours))
        return np.where(held, self.hours[back % len(self.hours)], 0)


def _advance(ring: np.ndarray, last: int, new: int) -> None:
    """Zero the slots of a ring indexed by absolute position for positions last+1 .. new."""
    if new - last >= len(ring):
        ring[:] = 0
    elif new > last:
        ring[np.arange(last + 1, new + 1) % len(ring)] = 0


class Counts:
    """A `Series` per key (a tuple of column values), at most `max_keys` of them."""

    def __init__(self, keys: tuple[str, ...], window: int = 60, weeks: int = 5, max_keys: int = 10_000) -> None:
        self.keys, self.window, self.weeks, self.max_keys = keys, window, weeks, max_keys
        self._series: dict[tuple, Series] = {}

    def __len__(self) -> int:
        return len(self._series)

    def __iter__(self) -> Iterator[tuple[tuple, Series]]:
        return iter(list(self._series.items()))

    def get(self, key: tuple) -> Series | None:
        return self._series.get(key)

    def add(self, table: pa.Table) -> list[tuple[tuple, int]]:
        """Count a batch (one pass per (key, minute) group, not per line); returns the
        (key, minute) pairs it counted in."""
        if table.num_rows == 0:
            return []
        grouped = table.group_by([*self.keys, "minute"], use_threads=False).aggregate([([], "count_all")])
        keys = zip(*(grouped.column(k).to_pylist() for k in self.keys))
        touched = []
        for key, minute, lines in zip(keys, grouped.column("minute").to_pylist(),
                                      grouped.column("count_all").to_pylist()):
            series = self._series.pop(key, None)
            if series is None:
                series = Series(minute, self.window, self.weeks)
                if len(self._series) >= self.max_keys:
                    del self._series[next(iter(self._series))]
            self._series[key] = series
            series.add(minute, lines)
            touched.append((key, minute))
        return touched
