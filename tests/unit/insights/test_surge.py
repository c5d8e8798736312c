"""Template rate far above its baseline: fires on a burst, quiet on steady traffic, seasonal."""

from __future__ import annotations

from timberyard.insights.columns import MINUTE_MS
from timberyard.insights.counts import HOURS_PER_WEEK
from timberyard.insights.surge import SurgeLimits, TemplateSurge
from unit.insights.traffic import T0, Feed, Stream


def test_a_burst_of_one_template_fires_once_per_episode():
    feed = Feed(TemplateSurge())
    assert feed.run(90, Stream(100), Stream(5, template=12)) == []
    found = feed.run(10, Stream(100), Stream(200, template=12))
    assert [(a.kind, a.key) for a in found] == [("template_surge", "app=web template=12")]
    assert found[0].started_at == T0 + 90 * MINUTE_MS
    assert found[0].score >= 8 and "usually 5.0" in found[0].evidence


def test_steady_and_slowly_growing_traffic_is_quiet():
    feed = Feed(TemplateSurge(), seed=3)
    assert feed.run(300, Stream(200), Stream(30, template=12), Stream(1, template=13)) == []
    assert [a for m in range(120) for a in feed.minute(Stream(200 + m), Stream(30, template=12))] == []


def test_a_rate_usual_for_this_hour_of_the_week_is_not_a_surge():
    """A template busy from 01:00 to 02:00 every Sunday is normal then on Sundays (the baseline
    is hourly: it knows the hour, not a ten-minute burst within it)."""
    detector = TemplateSurge(SurgeLimits(window=30))
    feed = Feed(detector, start_ms=T0)
    week = HOURS_PER_WEEK * 60
    fired_by_week = []
    for w in range(3):
        feed.now = T0 + w * week * MINUTE_MS
        quiet = feed.run(60, Stream(5, template=12))
        burst = feed.run(60, Stream(300, template=12))
        fired_by_week.append((len(quiet), len(burst)))
    # Week 0 and 1 lack the seasonal history and compare with the hour before: the burst fires.
    # Week 2 has two earlier Mondays at this hour, and the burst is what this hour looks like.
    assert fired_by_week == [(0, 1), (0, 1), (0, 0)]
