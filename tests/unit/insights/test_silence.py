"""Silent apps and hosts: reported when they should have spoken, once, and not at night."""

from __future__ import annotations

from timberyard.insights.columns import MINUTE_MS
from timberyard.insights.counts import HOURS_PER_WEEK
from timberyard.insights.silence import Silence, SilenceLimits
from unit.insights.traffic import T0, Feed, Stream


def test_a_silent_app_and_its_host_are_reported_once():
    feed = Feed(Silence())
    assert feed.run(60, Stream(50, app="api", host="h1"), Stream(50, app="db", host="h2")) == []
    found = feed.run(20, Stream(50, app="db", host="h2"))
    assert sorted((a.kind, a.key) for a in found) == [("silence", "app=api"), ("silence", "host=h1")]
    assert all(a.started_at == T0 + 60 * MINUTE_MS for a in found)
    # Reported when 3 quiet minutes are due (50 lines a minute: 150 lines missed >= 30).
    assert "nothing for 3 minutes" in found[0].evidence
    # Back, then silent again: a new report.
    feed.run(30, Stream(50, app="api", host="h1"), Stream(50, app="db", host="h2"))
    again = feed.run(5, Stream(50, app="db", host="h2"))
    assert sorted(a.key for a in again) == ["app=api", "host=h1"]


def test_a_slow_app_needs_longer_before_it_is_called_silent():
    feed = Feed(Silence())
    feed.run(60, Stream(3, app="cron", host="h2"), Stream(50, app="api", host="h2"))
    found = feed.run(15, Stream(50, app="api", host="h2"))
    assert [a.key for a in found] == ["app=cron"]
    # 3 lines a minute: 30 expected lines are missed after 10 quiet minutes, not sooner.
    assert feed.found[0].evidence.startswith("app cron has sent nothing for 10 minutes")


def test_rare_and_steady_traffic_is_quiet():
    feed = Feed(Silence())
    assert feed.run(300, Stream(0.5, app="rare", host="h9"), Stream(40, app="api", host="h2")) == []


def test_a_host_that_is_always_quiet_at_this_hour_is_not_reported():
    """Busy 00:00-01:00 and silent 01:00-02:00 every Sunday: silence at 01:00 is expected once
    two earlier Sundays are known."""
    feed = Feed(Silence(SilenceLimits(window=30)))
    week = HOURS_PER_WEEK * 60
    reports = []
    for w in range(3):
        feed.now = T0 + w * week * MINUTE_MS
        feed.run(60, Stream(50, app="batch", host="b1"), Stream(50, app="api", host="h2"))
        reports.append(len(feed.run(60, Stream(50, app="api", host="h2"))))
    assert reports == [2, 2, 0]


def test_memory_stays_bounded_when_hosts_come_and_go():
    detector = Silence(SilenceLimits(max_keys=20))
    feed = Feed(detector)
    for batch in range(30):  # 30 waves of 10 short-lived hosts, each then silent for good
        feed.run(20, *(Stream(50, app="api", host=f"h{batch}-{i}") for i in range(10)))
    assert all(len(counts) <= 20 for counts in detector.watched.values())
    assert len(detector._reported) <= 40
    # Each wave is reported silent (3 minutes into the next) before the wave after drops it.
    assert sum(a.key.startswith("host=") for a in feed.found) == 29 * 10
