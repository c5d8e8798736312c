"""The batcher moves durable records into the real store exactly once, crash or not."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pyarrow as pa

from timberyard.core.metrics import Metrics
from timberyard.core.records import LOG_SCHEMA
from timberyard.ingest.logdna import LineIn, Limits, RequestContext, build_batch
from timberyard.ingest.pipeline import _serialise
from timberyard.store.batcher import Batcher, decode_payload
from timberyard.store.chdb import ChdbStore
from timberyard.store.wal import WriteAheadLog


def payload(account: str, first_id: int, count: int) -> pa.Buffer:
    lines = [LineIn(line=f"line {first_id + i}") for i in range(count)]
    context = RequestContext(account=account, hostname="h", received_ms=int(time.time() * 1000), first_id=first_id)
    batch, _ = build_batch(lines, context, Limits(max_line_bytes=1024, max_timestamp_skew_ms=0))
    assert batch.schema == LOG_SCHEMA
    return _serialise(batch)


def stored_ids(store: ChdbStore, account: str) -> list[int]:
    rows = store.select("SELECT id FROM timberyard.logs WHERE account = {a:String} ORDER BY id", {"a": account})
    return [row["id"] for row in rows]


def start(path: Path, store: ChdbStore, **batcher_options: float) -> tuple[WriteAheadLog, Batcher]:
    options = {"max_lines": 1000, "max_wait_s": 0.05, **batcher_options}
    batcher_ref: list[Batcher] = []
    wal = WriteAheadLog(path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: batcher_ref[0].enqueue(r))
    batcher = Batcher(store, wal, Metrics(), **options)  # type: ignore[arg-type]
    batcher_ref.append(batcher)
    batcher.enqueue(wal.open())
    batcher.recover()
    batcher.start()
    wal.start()
    return wal, batcher


def test_durable_records_reach_the_store_and_the_wal_empties(tmp_path: Path, chdb_store: ChdbStore) -> None:
    account = uuid.uuid4().hex
    wal, batcher = start(tmp_path, chdb_store)
    for n in range(10):
        wal.submit(payload(account, n * 100, 100)).result(timeout=10)
    wal.close()
    batcher.stop()
    assert stored_ids(chdb_store, account) == list(range(1000))
    assert wal.pending_bytes == 0
    assert wal.checkpoint.committed == 10 and wal.checkpoint.inflight is None


def test_a_crash_after_the_insert_but_before_the_checkpoint_does_not_duplicate(tmp_path: Path, chdb_store: ChdbStore) -> None:
    account = uuid.uuid4().hex
    wal = WriteAheadLog(tmp_path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: None)
    wal.open()
    wal.start()
    for n in range(4):
        wal.submit(payload(account, n * 10, 10)).result(timeout=10)
    # What the batcher does, cut short by a crash: intent written, insert done, no commit.
    wal.mark_inflight(1, 3)
    durable = WriteAheadLog(tmp_path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: None).open()
    table = pa.concat_tables([decode_payload(r.payload) for r in durable if r.seq <= 3])
    chdb_store.insert(table, wal.dedup_token(1, 3))
    wal.close()
    assert len(stored_ids(chdb_store, account)) == 30

    restarted, batcher = start(tmp_path, chdb_store)
    restarted.close()
    batcher.stop()
    assert stored_ids(chdb_store, account) == list(range(40))


def test_a_crash_before_the_insert_replays_everything(tmp_path: Path, chdb_store: ChdbStore) -> None:
    account = uuid.uuid4().hex
    wal = WriteAheadLog(tmp_path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: None)
    wal.open()
    wal.start()
    for n in range(5):
        wal.submit(payload(account, n * 7, 7)).result(timeout=10)
    wal.mark_inflight(1, 2)  # the insert never ran
    wal.close()

    restarted, batcher = start(tmp_path, chdb_store)
    restarted.close()
    batcher.stop()
    assert stored_ids(chdb_store, account) == list(range(35))


def test_large_backlogs_are_split_into_batches_of_at_most_max_lines(tmp_path: Path, chdb_store: ChdbStore) -> None:
    account = uuid.uuid4().hex
    metrics = Metrics()
    batcher_ref: list[Batcher] = []
    wal = WriteAheadLog(tmp_path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: batcher_ref[0].enqueue(r))
    batcher = Batcher(chdb_store, wal, metrics, max_lines=250, max_wait_s=60)
    batcher_ref.append(batcher)
    batcher.enqueue(wal.open())
    wal.start()
    for n in range(10):
        wal.submit(payload(account, n * 100, 100)).result(timeout=10)
    batcher.start()  # a full batch goes at once; max_wait_s=60 would otherwise hold it
    deadline = time.monotonic() + 20
    while len(stored_ids(chdb_store, account)) < 800 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(stored_ids(chdb_store, account)) == 800  # 4 full batches of 200-250 lines; the rest waits
    wal.close()
    batcher.stop()
    assert stored_ids(chdb_store, account) == list(range(1000))
    assert metrics.value("timberyard_store_batches_total") == 5
