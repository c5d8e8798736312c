"""Error-ratio trend: a ramp is forecast before it crosses; steady or noisy ratios are quiet."""

from __future__ import annotations

import numpy as np

from timberyard.insights.trend import ErrorTrend, TrendLimits, theil_sen
from unit.insights.traffic import Feed, Stream


def test_theil_sen_ignores_one_wild_point():
    x = np.arange(20.0)
    y = 0.01 * x + 0.1
    y[7] = 5.0
    slope, intercept = theil_sen(x, y)
    assert abs(slope - 0.01) < 1e-9 and abs(intercept - 0.1) < 1e-9


def test_a_slow_ramp_is_reported_before_it_crosses_the_threshold():
    feed = Feed(ErrorTrend(TrendLimits(threshold=0.25, horizon=30)), seed=2)
    assert feed.run(60, Stream(200), Stream(4, level="ERROR", template=2)) == []
    crossing = None
    for m in range(60):
        errors = 4 + 2 * m  # the ratio rises about 0.8 percentage points a minute
        ratio = errors / (200 + errors)
        if crossing is None and ratio >= 0.25:
            crossing = m
        found = feed.minute(Stream(200), Stream(errors, level="ERROR", template=2))
        if found:
            break
    assert [(a.kind, a.key) for a in found] == [("error_trend", "app=web")]
    assert crossing is None or m < crossing, (m, crossing)
    assert "forecast to reach 25%" in found[0].evidence


def test_fires_once_per_climb():
    feed = Feed(ErrorTrend(), seed=4)
    feed.run(30, Stream(200), Stream(4, level="ERROR"))
    found = [a for m in range(60) for a in feed.minute(Stream(200), Stream(4 + 3 * m, level="ERROR"))]
    assert len(found) == 1


def test_a_steady_high_ratio_and_noise_are_quiet():
    feed = Feed(ErrorTrend(), seed=6)
    assert feed.run(600, Stream(100), Stream(30, level="ERROR"), Stream(20, app="tiny", level="FATAL")) == []
    assert feed.run(120, Stream(15, app="thin"), Stream(3, app="thin", level="ERROR")) == []
