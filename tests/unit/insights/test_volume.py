"""Account volume spikes and drops against the account's own baseline."""

from __future__ import annotations

from timberyard.insights.columns import MINUTE_MS
from timberyard.insights.volume import AccountVolume, VolumeLimits
from unit.insights.traffic import T0, Feed, Stream


def test_a_spike_and_a_drop_each_fire_once():
    feed = Feed(AccountVolume())
    assert feed.run(60, Stream(500)) == []
    spike = feed.run(5, Stream(5000))
    assert [(a.kind, a.account, a.key) for a in spike] == [("volume_spike", "acme", "")]
    assert spike[0].started_at == T0 + 60 * MINUTE_MS
    assert feed.run(60, Stream(500)) == []
    drop = feed.run(5, Stream(40))
    assert [a.kind for a in drop] == ["volume_drop"] and "deviations below" in drop[0].evidence


def test_an_account_that_stops_sending_is_a_drop_and_another_account_is_not_affected():
    feed = Feed(AccountVolume())
    feed.run(60, Stream(500), Stream(300, account="other"))
    found = feed.run(3, Stream(300, account="other"))
    assert [(a.kind, a.account) for a in found] == [("volume_drop", "acme")]


def test_steady_noisy_and_daily_traffic_is_quiet():
    feed = Feed(AccountVolume(), seed=5)
    # +-25% noise minute to minute, and a day's swing of a factor of three.
    rates = [(1000 + 500 * __import__("math").cos(m / 1440 * 6.283)) * feed.rng.uniform(0.75, 1.25) for m in range(1440)]
    assert [a for r in rates for a in feed.minute(Stream(r))] == []


def test_a_quiet_account_going_quieter_is_not_a_drop():
    feed = Feed(AccountVolume(VolumeLimits(min_expected=60)))
    feed.run(60, Stream(20))
    assert feed.run(10, Stream(0)) == []
