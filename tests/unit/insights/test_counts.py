"""Per-minute counting: exact counts, silent minutes read as zero, bounded keys and memory."""

from __future__ import annotations

import numpy as np

from timberyard.insights.columns import MINUTE_MS, lines
from timberyard.insights.counts import HOURS_PER_WEEK, Counts, Series
from unit.insights.traffic import T0

M0 = T0 // MINUTE_MS


def test_counts_per_key_and_minute_in_one_batch():
    counts = Counts(("account", "app"))
    table = lines(["a", "a", "a", "b"], ["x", "x", "y", "x"], ["h"] * 4, [""] * 4, [1] * 4,
                  [T0, T0 + 1, T0 + MINUTE_MS, T0])
    touched = counts.add(table)
    assert sorted(touched) == [(("a", "x"), M0), (("a", "y"), M0 + 1), (("b", "x"), M0)]
    assert counts.get(("a", "x")).between(M0, M0 + 2).tolist() == [2, 0]
    assert counts.get(("a", "y")).between(M0, M0 + 2).tolist() == [0, 1]


def test_minutes_after_the_last_count_and_outside_the_ring_read_zero():
    series = Series(M0, window=10, weeks=2)
    series.add(M0, 5)
    series.add(M0 + 3, 2)
    assert series.between(M0, M0 + 6).tolist() == [5, 0, 0, 2, 0, 0]
    series.add(M0 + 25, 1)  # more than a ring later: the old minutes are gone, not wrapped around
    assert series.between(M0, M0 + 4).tolist() == [0, 0, 0, 0]
    assert series.recent(M0 + 26, 3).tolist() == [0, 0, 1]
    # Minutes before the key was first seen are unknown, not zero: recent leaves them out.
    assert len(Series(M0, 10, 2).recent(M0 + 2, 10)) == 2


def test_same_hour_of_earlier_weeks():
    series = Series(M0, window=60, weeks=4)
    week = HOURS_PER_WEEK * 60
    for w in range(3):
        series.add(M0 + w * week + 5, 10 * (w + 1))
    # Hour 0 of week 3 looks back at hour 0 of weeks 2, 1 and 0.
    assert sorted(series.same_hour((M0 + 3 * week) // 60).tolist()) == [10, 20, 30]
    # Week 1 looks back at week 0 only: the key was not seen before that.
    assert series.same_hour((M0 + week) // 60).tolist() == [10]


def test_keys_are_bounded_least_recently_counted_dropped():
    counts = Counts(("app",), max_keys=3)
    for i, app in enumerate(["a", "b", "c", "a", "d"]):
        counts.add(lines(["acct"], [app], ["h"], [""], [1], [T0 + i * MINUTE_MS]))
    assert len(counts) == 3
    assert counts.get(("b",)) is None and counts.get(("a",)) is not None
    series = counts.get(("a",))
    assert series.minutes.nbytes + series.hours.nbytes == 8 * (60 + HOURS_PER_WEEK * 5)


def test_empty_batch_counts_nothing():
    counts = Counts(("account",))
    assert counts.add(lines([], [], [], [], [], [])) == []
    assert len(counts) == 0 and np.array_equal(Series(M0, 5, 1).between(M0, M0), [])
