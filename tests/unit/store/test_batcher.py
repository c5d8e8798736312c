"""The batcher moves durable records into the real store exactly once, crash or not."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pyarrow as pa

from records import record, serialise
from timberyard.core.metrics import Metrics
from timberyard.ingest.feed import decode
from timberyard.store.batcher import Batcher
from timberyard.store.chdb import ChdbStore
from timberyard.store.schema import insert_rows
from timberyard.store.wal import WalRecord, WriteAheadLog


def payload(account: str, first_id: int, count: int) -> pa.Buffer:
    return serialise(record(account, [f"line {first_id + i}" for i in range(count)], first_id=first_id))


def decoded(records: list[WalRecord]) -> list:
    return [decode(r) for r in records]


def stored_ids(store: ChdbStore, account: str) -> list[int]:
    rows = store.select("SELECT id FROM timberyard.logs WHERE account = {a:String} ORDER BY id", {"a": account})
    return [row["id"] for row in rows]


def start(path: Path, store: ChdbStore, **batcher_options: float) -> tuple[WriteAheadLog, Batcher]:
    options = {"max_lines": 1000, "max_wait_s": 0.05, **batcher_options}
    batcher_ref: list[Batcher] = []
    wal = WriteAheadLog(path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: batcher_ref[0].enqueue(decoded(r)))
    batcher = Batcher(store, wal, Metrics(), **options)  # type: ignore[arg-type]
    batcher_ref.append(batcher)
    batcher.enqueue(decoded(wal.open()))
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


def interrupted(path: Path, account: str) -> tuple[WriteAheadLog, pa.Table]:
    """A log of four 10-line records whose first three the batcher meant to insert when the node
    died (the intent is in the checkpoint, nothing committed), and those three as it inserts them."""
    wal = WriteAheadLog(path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: None)
    wal.open()
    wal.start()
    for n in range(4):
        wal.submit(payload(account, n * 10, 10)).result(timeout=10)
    wal.mark_inflight(1, 3)
    durable = WriteAheadLog(path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: None).open()
    return wal, pa.concat_tables([insert_rows(decode(r).table) for r in durable if r.seq <= 3])


def test_a_crash_after_the_insert_but_before_the_checkpoint_does_not_duplicate(tmp_path: Path, chdb_store: ChdbStore) -> None:
    account = uuid.uuid4().hex
    wal, table = interrupted(tmp_path, account)
    chdb_store.insert(table, wal.dedup_token(1, 3))  # the insert done, the commit not
    wal.close()
    assert len(stored_ids(chdb_store, account)) == 30

    restarted, batcher = start(tmp_path, chdb_store)
    restarted.close()
    batcher.stop()
    assert stored_ids(chdb_store, account) == list(range(40))


def test_an_interrupted_insert_is_completed_by_line_id_not_by_its_token(tmp_path: Path, chdb_store: ChdbStore) -> None:
    """ClickHouse's deduplication log and its parts are not written atomically: a kill can leave
    an insert's token without its lines (the token is recorded before the part is committed) or,
    after a power loss, lines without their token (ClickHouse issue #111577). Re-sending under the
    same token loses lines in the first case and duplicates them in the second, so recovery
    looks the lines up. Here some of the interrupted range's lines are in the store under no
    token of ours; a re-send under the range's token would have stored them twice."""
    account = uuid.uuid4().hex
    wal, table = interrupted(tmp_path, account)
    chdb_store.insert(table.slice(0, 12), "a token that was lost")
    wal.close()

    restarted, batcher = start(tmp_path, chdb_store)
    restarted.close()
    batcher.stop()
    assert stored_ids(chdb_store, account) == list(range(40))  # each line once


def test_records_replayed_for_the_alert_evaluator_are_not_inserted_again(tmp_path: Path, chdb_store: ChdbStore) -> None:
    account = uuid.uuid4().hex
    wal, batcher = start(tmp_path, chdb_store)
    for n in range(5):
        wal.submit(payload(account, n * 10, 10)).result(timeout=10)
    wal.mark_evaluated(2)  # the evaluator saved its counts of the first two records only
    wal.close()
    batcher.stop()
    assert wal.checkpoint.committed == 5

    restarted, again = start(tmp_path, chdb_store)  # records 3 to 5 are replayed to every replay subscriber
    assert again.queued_lines == 0 and again.oldest_pending_id() is None
    restarted.close()
    again.stop()
    assert stored_ids(chdb_store, account) == list(range(50))


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
    wal = WriteAheadLog(tmp_path, segment_bytes=1 << 20, max_pending_bytes=1 << 30, on_durable=lambda r: batcher_ref[0].enqueue(decoded(r)))
    batcher = Batcher(chdb_store, wal, metrics, max_lines=250, max_wait_s=60)
    batcher_ref.append(batcher)
    batcher.enqueue(decoded(wal.open()))
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


def test_only_lines_to_store_are_inserted_with_their_fields(tmp_path: Path, chdb_store: ChdbStore) -> None:
    account = uuid.uuid4().hex
    wal, batcher = start(tmp_path, chdb_store)
    table = record(
        account,
        ["kept", "for live tail only", "kept too"],
        fields=[{"status": 200, "user.id": "u1"}, {"status": 500}, None],
        stored=[True, False, True],
    )
    wal.submit(serialise(table)).result(timeout=10)
    wal.close()
    batcher.stop()
    rows = chdb_store.select(
        "SELECT line, fields FROM timberyard.logs WHERE account = {a:String} ORDER BY id", {"a": account}
    )
    assert rows == [{"line": "kept", "fields": {"status": 200, "user": {"id": "u1"}}}, {"line": "kept too", "fields": {}}]


def test_template_ids_reach_the_store_and_records_from_before_templates_read_as_zero(
    tmp_path: Path, chdb_store: ChdbStore
) -> None:
    account = uuid.uuid4().hex
    wal, batcher = start(tmp_path, chdb_store)
    with_ids = record(account, ["a", "b"], template=[2**63 + 1, 7])
    older = record(account, ["c"], first_id=3).drop_columns(["template"])  # a record of the release before
    assert decode(WalRecord(1, serialise(older).to_pybytes())).table.column("template").to_pylist() == [0]
    wal.submit(serialise(with_ids)).result(timeout=10)
    wal.submit(serialise(older)).result(timeout=10)
    wal.close()
    batcher.stop()
    rows = chdb_store.select(
        "SELECT line, template FROM timberyard.logs WHERE account = {a:String} ORDER BY id", {"a": account}
    )
    assert rows == [{"line": "a", "template": 2**63 + 1}, {"line": "b", "template": 7}, {"line": "c", "template": 0}]
