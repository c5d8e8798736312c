"""The detectors' memory: each detector saved (as msgpack would carry it) and loaded into a new
one gives the same verdicts on the next minutes as the one that never stopped; the minutes a
node was down are unknown, not silent; a file that is damaged or of another format is logged
and the detectors start learning."""

from __future__ import annotations

import logging
from pathlib import Path

import msgspec
import numpy as np
import pytest


from timberyard.insights import memory, packed
from timberyard.insights.columns import MINUTE_MS
from timberyard.insights.counts import Counts
from timberyard.insights.detectors import Detectors
from timberyard.insights.novelty import NewTemplates, NoveltyLimits
from timberyard.insights.silence import Silence
from timberyard.insights.surge import TemplateSurge
from timberyard.insights.trend import ErrorTrend
from timberyard.insights.volume import AccountVolume
from unit.insights.traffic import T0, Feed, Stream

DAY = 1440


def carried(state: dict) -> dict:
    """`state` as it comes back from the file."""
    return msgspec.msgpack.decode(packed.encode(state))


class Twin:
    """A detector, and from `split` on a second one loaded from its state, fed the same batches;
    every verdict of the second must equal the first's."""

    def __init__(self, make) -> None:
        self.make, self.first, self.second = make, make(), None
        self.compared = 0

    def split(self) -> None:
        self.second = self.make()
        self.second.load(carried(self.first.state()))

    def observe(self, table, now_ms):
        found = self.first.observe(table, now_ms)
        if self.second is not None:
            assert self.second.observe(table, now_ms) == found
            self.compared += len(found)
        return found


def scenario(make, before, after) -> list:
    """Run `before(feed)`, split, run `after(feed)`; the anomalies found after the split."""
    twin = Twin(make)
    feed = Feed(twin)
    before(feed)
    twin.split()
    found = after(feed)
    assert twin.compared == len(found)
    return found


def test_new_templates_known_before_the_save_are_still_known() -> None:
    app = Stream(20, level="ERROR", template=5)
    found = scenario(lambda: NewTemplates(NoveltyLimits(learn_minutes=10)),
                     lambda f: f.run(15, Stream(50), app),
                     lambda f: f.run(3, Stream(50), app, Stream(2, level="ERROR", template=77)))
    assert [(a.kind, a.key) for a in found] == [("new_template", "app=web template=77")]


def test_a_new_template_learning_time_goes_on_from_where_it_was() -> None:
    found = scenario(lambda: NewTemplates(NoveltyLimits(learn_minutes=10)),
                     lambda f: f.run(5, Stream(50)),
                     lambda f: f.run(3, Stream(10, level="ERROR", template=8)) + f.run(5, Stream(50))
                     + f.run(1, Stream(10, level="ERROR", template=9)))
    assert [a.key for a in found] == ["app=web template=9"]


def test_a_surge_after_the_save_is_judged_against_the_baseline_before_it() -> None:
    found = scenario(TemplateSurge, lambda f: f.run(40, Stream(30)), lambda f: f.run(5, Stream(30)) + f.run(2, Stream(400)))
    assert [a.kind for a in found] == ["template_surge"]


def test_an_app_going_silent_after_the_save_is_reported_once() -> None:
    found = scenario(Silence, lambda f: f.run(40, Stream(100), Stream(100, app="api")),
                     lambda f: f.run(10, Stream(100)))
    assert [(a.kind, a.key) for a in found] == [("silence", "app=api")]


def test_a_spike_after_the_save_and_its_episode() -> None:
    found = scenario(AccountVolume, lambda f: f.run(40, Stream(200)) + f.run(3, Stream(2000)),
                     lambda f: f.run(3, Stream(2000)) + f.run(40, Stream(200)) + f.run(2, Stream(2000)))
    assert [a.kind for a in found] == ["volume_spike"]  # the episode before the save goes on; the next one is new


def test_an_error_trend_straddling_the_save() -> None:
    def ramp(f, start, minutes):
        return [a for m in range(start, start + minutes) for a in f.minute(Stream(200), Stream(4 + 2 * m, level="ERROR"))]
    found = scenario(ErrorTrend, lambda f: f.run(30, Stream(200), Stream(4, level="ERROR")) + ramp(f, 0, 10),
                     lambda f: ramp(f, 10, 50))
    assert [a.kind for a in found] == ["error_trend"]


def test_all_detectors_round_trip_through_the_file(tmp_path: Path) -> None:
    """Through the file the minute of the save is not judged (the gap rule: the node stopped in
    it), and the baselines leave it out; what is found after it is the same."""
    make = lambda: Detectors(NoveltyLimits(learn_minutes=5))  # noqa: E731
    kept = make()
    feed = Feed(kept)
    normal = (Stream(100), Stream(50, app="api", host="h2", template=3), Stream(5, level="WARN", template=4))
    feed.run(30, *normal)
    path = tmp_path / memory.FILE
    memory.save(path, memory.encode(kept.state(), feed.now, memory.Seen("e", 7)))
    restored, seen = memory.load(path, make(), feed.now)
    assert seen == memory.Seen("e", 7) and restored is not kept
    both = Feed(Twin(make), start_ms=feed.now)
    both.detector.first, both.detector.second = kept, restored
    both.detector.observe = lambda table, now: (kept.observe(table, now), restored.observe(table, now))  # type: ignore[method-assign]
    verdicts = [both.minute(*normal)]
    verdicts += [both.minute(Stream(100), Stream(500, app="api", host="h2", template=3), Stream(10, level="ERROR", template=6))
                 for _ in range(2)]
    keys = [[sorted((a.kind, a.key) for a in found) for found in pair] for pair in verdicts]
    assert all(first == second for first, second in keys)
    assert {kind for kind, _ in keys[1][0] + keys[2][0]} >= {"new_template", "template_surge"}


def test_the_snapshot_is_bounded_by_the_key_caps() -> None:
    detector = TemplateSurge()
    feed = Feed(detector)
    feed.run(2, *(Stream(3, app=f"app{n}") for n in range(300)))
    size = len(packed.encode(detector.state()))
    small = TemplateSurge(type(detector.limits)(max_keys=100))
    small.load(carried(detector.state()))
    assert len(small.counts) == 100
    assert len(packed.encode(small.state())) < size / 2


def test_seasonal_hours_survive_and_hours_a_gap_touches_are_left_out() -> None:
    counts = Counts(("app",), weeks=5)
    counts.add(_one_line(0))
    series = counts.get(("web",))
    week = 168 * 60
    for w in range(3):
        series.add(w * week + 600, 120)  # hour 10 of each week
    restored = Counts(("app",), weeks=5)
    restored.load(carried(counts.state()))
    again = restored.get(("web",))
    hour = (3 * week + 600) // 60
    assert again.same_hour(hour).tolist() == series.same_hour(hour).tolist() == [120, 120, 120]
    restored.add_gap(week + 590, week + 605)  # the node was down across week 1's hour 10
    assert sorted(again.same_hour(hour).tolist()) == [120, 120]
    restored.add_gap(10 * week, 10 * week)  # gaps older than the ring reaches are forgotten
    assert restored.gaps.spans == [(10 * week, 10 * week)]


def _one_line(minute: int):
    from timberyard.insights.columns import lines
    return lines(["acme"], ["web"], ["h1"], ["INFO"], [1], [minute * MINUTE_MS]).select(["app", "minute"])


STEADY = (Stream(200), Stream(100, app="api", host="h2", template=3))


def _saved_after(minutes: int) -> tuple[dict, int]:
    detectors = Detectors(NoveltyLimits(learn_minutes=5))
    feed = Feed(detectors)
    assert feed.run(minutes, *STEADY) == []
    return carried(detectors.state()), feed.now


@pytest.mark.parametrize("down_minutes", [0, 1, 30, 3 * DAY])
def test_the_minutes_the_node_was_down_are_unknown_not_silent(down_minutes: int) -> None:
    """Steady traffic, a stop, `down_minutes` later a start and the same traffic: nothing fires
    (no silence for the down time, no drop for the partial minutes, no spike against zeros)."""
    state, saved_at = _saved_after(90)
    now = saved_at + down_minutes * MINUTE_MS + 20_000
    detectors = Detectors(NoveltyLimits(learn_minutes=5))
    detectors.load(state, saved_at, now)
    feed = Feed(detectors, start_ms=now, seed=1)
    assert feed.run(40, *STEADY) == []


def test_without_the_gap_rule_a_long_stop_would_fire() -> None:
    """The control: the same detectors told nothing of the stop see silence and a spike."""
    state, saved_at = _saved_after(90)
    detectors = Detectors(NoveltyLimits(learn_minutes=5))
    detectors.load(state, saved_at, saved_at)
    feed = Feed(detectors, start_ms=saved_at + 3 * DAY * MINUTE_MS, seed=1)
    assert {a.kind for a in feed.run(20, *STEADY)} & {"silence", "volume_spike", "volume_drop", "template_surge"}


def test_an_app_that_stays_silent_after_a_restart_is_reported_after_minutes_of_the_node_being_up() -> None:
    """Down two minutes: the hour before still makes the baseline, and the quiet minutes are
    counted from the start on. (Down for longer than the hour with no weeks of history, there
    is no baseline left to say the app should speak: it is not reported.)"""
    state, saved_at = _saved_after(90)
    now = saved_at + 2 * MINUTE_MS + 20_000
    detectors = Detectors(NoveltyLimits(learn_minutes=5))
    detectors.load(state, saved_at, now)
    feed = Feed(detectors, start_ms=now, seed=1)
    found = [(minute, a.kind, a.key) for minute in range(10) for a in feed.minute(STEADY[0]) if a.kind == "silence"]
    assert [(kind, key) for _, kind, key in found] == [("silence", "app=api"), ("silence", "host=h2")]
    assert all(3 <= minute <= 5 for minute, _, _ in found)
    assert "for 3 minutes" in next(a.evidence for a in feed.found if a.kind == "silence")


@pytest.mark.parametrize("payload", [
    b"", b"\x00garbage", b"{\"format\": 1}",
    msgspec.msgpack.encode({"format": 99, "saved_at": T0, "wal": None, "detectors": {}}),
    msgspec.msgpack.encode({"format": 1, "saved_at": T0, "wal": None, "detectors": {"new_template": {}}}),
])
def test_an_unusable_file_is_logged_and_the_detectors_learn(tmp_path: Path, payload: bytes, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / memory.FILE
    path.write_bytes(payload)
    fresh = Detectors()
    with caplog.at_level(logging.WARNING, "timberyard.insights.memory"):
        loaded, seen = memory.load(path, fresh, T0)
    assert loaded is fresh and seen is None
    assert "not usable; they learn again" in caplog.text


def test_a_cut_short_or_resized_file_is_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    state, saved_at = _saved_after(20)  # as decoded from a file: arrays are packed maps
    payload = memory.encode(state, saved_at, None)
    path = tmp_path / memory.FILE
    path.write_bytes(payload[: len(payload) // 2])
    assert memory.load(path, fresh := Detectors(), saved_at)[0] is fresh
    state["volume"]["counts"]["minutes"]["shape"] = [1, 10**9]  # would be 8 GB
    path.write_bytes(memory.encode(state, saved_at, None))
    assert memory.load(path, fresh, saved_at)[0] is fresh
    state["volume"]["counts"]["minutes"]["shape"] = [1, 60]
    state["silence"]["counts"]["app"]["hours"]["data"] = b"not zlib"
    path.write_bytes(memory.encode(state, saved_at, None))
    assert memory.load(path, fresh, saved_at)[0] is fresh
    assert caplog.text.count("not usable") == 3 and "array data" in caplog.records[-1].error


def test_no_file_is_a_first_start(tmp_path: Path) -> None:
    fresh = Detectors()
    assert memory.load(tmp_path / memory.FILE, fresh, T0) == (fresh, None)


def test_packed_arrays_keep_their_values() -> None:
    from timberyard.insights.packed import pack, unpack
    for values in ([0, 255], [0, 70_000], [-1, 5], [2**62], []):
        array = np.array(values, np.int64)
        assert unpack(carried(pack(array))).tolist() == values
