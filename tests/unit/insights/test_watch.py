"""The anomaly watch on a test clock: durable batches in, anomalies out, stored once and handed
on; full inboxes counted; the detectors run on the watch's own thread, never the caller's."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
from alerting import Lines
from clock import Clock

from timberyard.core.metrics import Metrics
from timberyard.core.records import DurableBatch
from timberyard.insights import memory
from timberyard.insights.anomaly import Anomaly
from timberyard.insights.detectors import Detectors
from timberyard.insights.novelty import NoveltyLimits
from timberyard.insights.watch import FOUND, OBSERVED, AnomalyWatch, lines_of
from timberyard.meta.anomalies import AnomalyRecord, list_anomalies
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo


class Handed:
    def __init__(self) -> None:
        self.found: list[AnomalyRecord] = []

    def __call__(self, added: list[AnomalyRecord]) -> None:
        self.found.extend(added)


def watch_for(db: MetaDB, clock: Clock, handed: Handed, learn_minutes: int = 0) -> AnomalyWatch:
    detectors = Detectors(NoveltyLimits(learn_minutes=learn_minutes))
    return AnomalyWatch(db, Metrics.with_catalogue(), detectors, now=lambda: int(clock().timestamp() * 1000), found=handed)


def stored(db: MetaDB, account: AccountInfo, clock: Clock) -> list[AnomalyRecord]:
    with db.reading() as session:
        return list_anomalies(session, account.id, clock() - timedelta(days=1), clock(), (), 100)


def error_batches(lines: Lines) -> list[DurableBatch]:
    """A minute of INFO lines of template 1, then a never-seen ERROR template 99."""
    return [
        *lines.batch(["ok"] * 20, app=["web"] * 20, level=["INFO"] * 20, template=[1] * 20),
        *lines.batch(["disk on fire"], app=["web"], host=["h1"], level=["ERROR"], template=[99]),
    ]


def test_a_never_seen_error_template_is_stored_once_and_handed_on(db: MetaDB, account: AccountInfo) -> None:
    clock, handed = Clock(), Handed()
    watch = watch_for(db, clock, handed)
    lines = Lines(clock, account.id)
    assert watch.process([]) == []
    batches = error_batches(lines)
    clock.advance(1)
    added = watch.process(batches)
    assert [(a.kind, a.key) for a in added] == [("new_template", "app=web template=99")]
    assert handed.found == added
    assert stored(db, account, clock) == added
    assert added[0].started_at == batches[1].table.column("ts").to_pylist()[0]
    assert watch.metrics.value(OBSERVED) == 21
    assert watch.metrics.value(FOUND, kind="new_template") == 1

    # A restart: fresh detectors see the replayed lines again and find the same anomaly,
    # which is neither stored again nor handed on again.
    again = watch_for(db, clock, handed)
    assert again.process(batches) == []
    assert len(stored(db, account, clock)) == 1 and len(handed.found) == 1


def test_during_the_learning_period_nothing_is_new(db: MetaDB, account: AccountInfo) -> None:
    clock, handed = Clock(), Handed()
    watch = watch_for(db, clock, handed, learn_minutes=60)
    assert watch.process(error_batches(Lines(clock, account.id))) == []
    clock.advance(61 * 60)
    later = Lines(clock, account.id)
    later.counter = 10_000
    found = watch.process(later.batch(["new failure"], app=["web"], level=["FATAL"], template=[7]))
    assert [a.key for a in found] == ["app=web template=7"]


def test_lines_not_kept_for_the_store_are_not_observed(account: AccountInfo) -> None:
    clock = Clock()
    batches = Lines(clock, account.id).batch(["a", "b", "c"], app=["x"] * 3, level=["ERROR"] * 3, template=[5] * 3,
                                             stored=[True, False, True])
    table = lines_of(batches)
    assert table.num_rows == 2
    assert table.column("time_ms").to_pylist() == [int(clock().timestamp() * 1000)] * 2
    assert table.column("template").to_pylist() == [5, 5]
    assert lines_of([]).num_rows == 0


class Recording(Detectors):
    """Real detectors that note which thread runs them."""

    def __init__(self) -> None:
        super().__init__(NoveltyLimits(learn_minutes=0))
        self.threads: set[str] = set()

    def observe(self, table: pa.Table, now_ms: int) -> list[Anomaly]:
        self.threads.add(threading.current_thread().name)
        return super().observe(table, now_ms)


def test_the_detectors_run_on_the_watchs_thread_and_stop_drains_the_inbox(db: MetaDB, account: AccountInfo) -> None:
    clock, handed = Clock(), Handed()
    detectors = Recording()
    watch = AnomalyWatch(db, Metrics.with_catalogue(), detectors, now=lambda: int(clock().timestamp() * 1000), found=handed)
    watch.start()
    watch.enqueue(error_batches(Lines(clock, account.id)))
    watch.stop()  # takes what was queued first
    assert detectors.threads == {"anomaly-watch"}
    assert [a.key for a in handed.found] == ["app=web template=99"]


def test_a_full_inbox_counts_the_lines_it_could_not_take(db: MetaDB, account: AccountInfo) -> None:
    clock = Clock()
    watch = watch_for(db, clock, Handed())
    batch = Lines(clock, account.id).batch(["x", "y"])
    for _ in range(10_000):
        watch.enqueue(batch)
    assert watch.dropped_lines == 0
    watch.enqueue(batch)
    watch.enqueue(batch)
    assert watch.dropped_lines == 4


def kept_watch(db: MetaDB, clock: Clock, handed: Handed, path: Path, epoch: str = "epoch-1") -> AnomalyWatch:
    watch = watch_for(db, clock, handed)
    watch.path = path
    watch.load(epoch)
    return watch


def test_a_restarted_watch_knows_its_templates_and_skips_what_it_had_seen_of_the_replay(
    db: MetaDB, account: AccountInfo, tmp_path: Path,
) -> None:
    clock, handed, path = Clock(), Handed(), tmp_path / "insights" / memory.FILE
    lines = Lines(clock, account.id)
    first = kept_watch(db, clock, handed, path)
    first.start()
    seen = error_batches(lines)
    first.enqueue(seen)
    first.stop()  # observes what was queued, then saves
    assert [a.key for a in handed.found] == ["app=web template=99"] and path.exists()

    clock.advance(3600)  # the node was down an hour
    again = kept_watch(db, clock, handed, path)
    assert again.process(seen) == [] and again.metrics.value(OBSERVED) == 0  # a replay of what the file had counted
    later = lines.batch(["disk on fire"], app=["web"], host=["h1"], level=["ERROR"], template=[99])
    clock.advance(1)
    assert again.process(later) == [] and again.metrics.value(OBSERVED) == 1  # known, not new
    assert len(handed.found) == 1

    forgetful = watch_for(db, clock, handed)  # the control: a watch without its file finds it again
    assert [a.key for a in forgetful.process(later)] == ["app=web template=99"]


def test_a_replay_from_another_write_ahead_log_is_observed(db: MetaDB, account: AccountInfo, tmp_path: Path) -> None:
    clock, handed, path = Clock(), Handed(), tmp_path / memory.FILE
    lines = Lines(clock, account.id)
    first = kept_watch(db, clock, handed, path)
    batches = error_batches(lines)
    first.process(batches)
    first.save()
    again = kept_watch(db, clock, handed, path, epoch="epoch-2")
    again.process(batches)
    assert again.metrics.value(OBSERVED) == 21


def test_saving_while_the_thread_observes_never_catches_a_batch_half_done(
    db: MetaDB, account: AccountInfo, tmp_path: Path,
) -> None:
    clock, handed, path = Clock(), Handed(), tmp_path / memory.FILE
    lines = Lines(clock, account.id)
    watch = kept_watch(db, clock, handed, path)
    watch.start()
    for n in range(40):
        watch.enqueue(lines.batch(["ok"] * 50, app=[f"app{n % 7}"] * 50, level=["INFO"] * 50, template=[n % 5 + 1] * 50))
        watch.save()
    watch.stop()
    loaded, seen = memory.load(path, Detectors(), watch.now())
    assert seen == memory.Seen("epoch-1", 40)
    novelty = loaded.each[0].state()
    assert sum(int(c.sum()) for c in novelty["lines"]) == 2000
