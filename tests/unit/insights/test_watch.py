"""The anomaly watch on a test clock: durable batches in, anomalies out, stored once and handed
on; full inboxes counted; the detectors run on the watch's own thread, never the caller's."""

from __future__ import annotations

import threading
from datetime import timedelta

import pyarrow as pa
from alerting import Lines
from clock import Clock

from timberyard.core.metrics import Metrics
from timberyard.core.records import DurableBatch
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
