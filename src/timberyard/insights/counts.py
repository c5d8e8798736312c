"""Lines per minute and per hour, per key, in bounded memory.

A `Series` holds one key's counts: the last `window` minutes in a ring, and the last `weeks`
weeks of hourly totals in another (the hour-of-week baseline reads them). A key that falls
silent is not advanced, and reads treat the minutes after its last count as zero, so a silent
key costs nothing per minute. `Counts` keeps at most `max_keys` series; the least recently
counted one is dropped first. Memory: about 8 x (window + 168 x weeks) bytes a key (7 KB with
the defaults).

Minutes the node did not see (it was down: `Gaps`, set when saved counts are loaded at a
start) are unknown, not zero: baselines leave them out, and so do the hours of the week they
touch, so a restart is not read as every key falling silent.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from timberyard.insights.packed import unpack

HOURS_PER_WEEK = 168


class Gaps:
    """Spans of minutes (first, last, inclusive) the node did not see, oldest first."""

    def __init__(self, spans: list[tuple[int, int]] | None = None) -> None:
        self.spans = spans or []

    def add(self, first: int, last: int, horizon: int) -> None:
        """Add a span; forget those that ended `horizon` minutes or more before it ends."""
        if last >= first:
            self.spans = [s for s in self.spans if s[1] > last - horizon] + [(first, last)]

    def unknown(self, minutes: np.ndarray) -> np.ndarray:
        """Per minute, whether it lies in a span."""
        out = np.zeros(len(minutes), bool)
        for first, last in self.spans:
            out |= (minutes >= first) & (minutes <= last)
        return out

    def unknown_hours(self, hours: np.ndarray) -> np.ndarray:
        """Per hour, whether any of its minutes lies in a span."""
        out = np.zeros(len(hours), bool)
        for first, last in self.spans:
            out |= (hours * 60 <= last) & (hours * 60 + 59 >= first)
        return out


NO_GAPS = Gaps()


class Series:
    """One key's counts per minute (recent) and per hour (weeks back)."""

    __slots__ = ("first_minute", "last_minute", "minutes", "hours", "gaps")

    def __init__(self, minute: int, window: int, weeks: int, gaps: Gaps = NO_GAPS) -> None:
        self.first_minute = self.last_minute = minute
        self.minutes = np.zeros(window, np.int64)
        self.hours = np.zeros(HOURS_PER_WEEK * weeks, np.int64)
        self.gaps = gaps

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
        first seen and those in a gap (unknown is not zero)."""
        start = max(end - count, self.first_minute)
        counted = self.between(start, end)
        if not self.gaps.spans:
            return counted
        return counted[~self.gaps.unknown(np.arange(start, end))]

    def known(self, start: int, end: int) -> int:
        """How many minutes from `start` to `end` (excluded) are not in a gap."""
        return max(end - start, 0) - int(self.gaps.unknown(np.arange(start, end)).sum()) if self.gaps.spans else max(end - start, 0)

    def same_hour(self, hour: int) -> np.ndarray:
        """This key's lines in the same hour of the week in each earlier week held, leaving out
        weeks whose hour the key was not yet seen for in full or a gap touches."""
        back = hour - HOURS_PER_WEEK * np.arange(1, len(self.hours) // HOURS_PER_WEEK)
        back = back[back * 60 >= self.first_minute]
        if self.gaps.spans:
            back = back[~self.gaps.unknown_hours(back)]
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
        self.gaps = Gaps()

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
                series = Series(minute, self.window, self.weeks, self.gaps)
                if len(self._series) >= self.max_keys:
                    del self._series[next(iter(self._series))]
            self._series[key] = series
            series.add(minute, lines)
            touched.append((key, minute))
        return touched

    def add_gap(self, first: int, last: int) -> None:
        """Minutes `first` to `last` were not seen: unknown to every key, for as long as the
        hourly ring reaches back."""
        self.gaps.add(first, last, HOURS_PER_WEEK * 60 * self.weeks)

    def state(self) -> dict:
        """Every series (least recently counted first) and the gaps, as plain data and numpy
        arrays (copies; `packed.encode` writes them)."""
        held = list(self._series.items())
        return {
            "keys": [list(key) for key, _ in held],
            "first": np.array([s.first_minute for _, s in held], np.int64),
            "last": np.array([s.last_minute for _, s in held], np.int64),
            "minutes": np.stack([s.minutes for _, s in held]) if held else np.zeros((0, self.window), np.int64),
            "hours": np.stack([s.hours for _, s in held]) if held else np.zeros((0, HOURS_PER_WEEK * self.weeks), np.int64),
            "gaps": [list(span) for span in self.gaps.spans],
        }

    def load(self, state: dict) -> None:
        """Put back what `state` saved (ValueError if it does not fit these limits); past
        `max_keys` the least recently counted are left out."""
        keys = [tuple(key) for key in state["keys"]]
        if any(len(key) != len(self.keys) for key in keys):
            raise ValueError("saved counts have other keys")
        count = len(keys)
        first, last = unpack(state["first"], (count,)), unpack(state["last"], (count,))
        minutes = unpack(state["minutes"], (count, self.window))
        hours = unpack(state["hours"], (count, HOURS_PER_WEEK * self.weeks))
        self.gaps.spans = [(int(a), int(b)) for a, b in state["gaps"]]
        self._series = {}
        for row in range(max(count - self.max_keys, 0), count):
            series = Series(int(first[row]), self.window, self.weeks, self.gaps)
            series.last_minute = int(last[row])
            series.minutes[:], series.hours[:] = minutes[row], hours[row]
            self._series[keys[row]] = series
