"""Moves durable write-ahead-log records into the store in large batches.

Stores want few, large inserts; clients send many small requests. The batcher collects
records until it has `max_lines` lines or the oldest has waited `max_wait_s`, then inserts them
as one Arrow table with a dedup token derived from the seq range. The range is written to the
checkpoint before the insert, so a crash mid-insert is repaired at start-up by sending the range
again.

What is sent again (at start-up, or after an insert that failed) is only the lines the store does
not hold, looked up by id, under a token never used before. The token alone cannot be trusted
there: ClickHouse's MergeTree records a block's token in its deduplication log before the part
holding the block is committed, so an insert killed between the two leaves the token without the
lines, and the same token sent again would be dropped as a duplicate — acknowledged lines lost.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.metrics import Metrics
from timberyard.core.records import DurableBatch
from timberyard.store.base import Store
from timberyard.store.queries import select_stored_ids
from timberyard.store.schema import insert_rows
from timberyard.store.wal import WriteAheadLog

log = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.5, 1, 2, 5, 10, 30)


@dataclass(frozen=True)
class PendingBatch:
    seq: int
    table: pa.Table
    since: float


class Batcher:
    def __init__(self, store: Store, wal: WriteAheadLog, metrics: Metrics, *, max_lines: int, max_wait_s: float) -> None:
        self.store = store
        self.wal = wal
        self.metrics = metrics
        self.max_lines = max_lines
        self.max_wait_s = max_wait_s
        self._queue: deque[PendingBatch] = deque()
        self._queued_lines = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._inflight: list[PendingBatch] = []

    def enqueue(self, durable: list[DurableBatch]) -> None:
        """A subscriber of the durable feed (ingest/feed.py), replays included: queue, return.
        Replayed records the store has (kept for the alert evaluator) are skipped."""
        now = time.monotonic()
        committed = self.wal.checkpoint.committed
        batches = [PendingBatch(batch.seq, batch.table, now) for batch in durable if batch.seq > committed]
        with self._cond:
            self._queue.extend(batches)
            self._queued_lines += sum(b.table.num_rows for b in batches)
            self._cond.notify()

    def recover(self) -> None:
        """Re-send the batch that was being inserted when the node last stopped, if any."""
        inflight = self.wal.checkpoint.inflight
        if inflight is None:
            return
        first, last = inflight
        with self._cond:
            chunk = [b for b in self._queue if first <= b.seq <= last]
        if chunk:
            log.info("re-sending the batch interrupted by the last stop", extra={"first": first, "last": last})
            if not self._insert(chunk, first, last, again=True):
                return
        with self._cond:
            while self._queue and self._queue[0].seq <= last:
                self._queued_lines -= self._queue.popleft().table.num_rows
        self.wal.mark_committed(max(last, self.wal.checkpoint.committed))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="batcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Insert everything queued, then stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()

    @property
    def queued_lines(self) -> int:
        return self._queued_lines

    def oldest_pending_id(self) -> int | None:
        """The smallest line id durable but not yet in the store: the archive exporter must not
        pass it, however old it is (a store that was down for an hour, say)."""
        with self._cond:
            tables = [b.table for b in self._inflight] + [b.table for b in self._queue]
        ids = [pc.min(t.column("id")).as_py() for t in tables if t.num_rows]
        return min(ids) if ids else None

    def _run(self) -> None:
        while True:
            chunk = self._next_chunk()
            if not chunk:
                return
            first, last = chunk[0].seq, chunk[-1].seq
            self.wal.mark_inflight(first, last)
            with self._cond:
                self._inflight = chunk
            inserted = self._insert(chunk, first, last)
            with self._cond:
                self._inflight = []
            if not inserted:
                return
            self.wal.mark_committed(last)

    def _next_chunk(self) -> list[PendingBatch]:
        with self._cond:
            while True:
                if self._queue and (
                    self._stopping
                    or self._queued_lines >= self.max_lines
                    or time.monotonic() - self._queue[0].since >= self.max_wait_s
                ):
                    break
                if self._stopping:
                    return []
                timeout = self.max_wait_s - (time.monotonic() - self._queue[0].since) if self._queue else None
                self._cond.wait(timeout)
            chunk: list[PendingBatch] = []
            lines = 0
            while self._queue and (not chunk or lines + self._queue[0].table.num_rows <= self.max_lines):
                batch = self._queue.popleft()
                chunk.append(batch)
                lines += batch.table.num_rows
            self._queued_lines -= lines
            return chunk

    def _insert(self, chunk: list[PendingBatch], first: int, last: int, *, again: bool = False) -> bool:
        """Insert until it works (`again`: the chunk may be partly stored already). A batch is
        never dropped: if the node is stopping while the store fails, it stays in the WAL for
        the next start."""
        table = pa.concat_tables([insert_rows(b.table) for b in chunk])
        token = self.wal.dedup_token(first, last)
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                if again or attempt:
                    table = self._not_stored(table)
                    token = f"{self.wal.dedup_token(first, last)}:{uuid.uuid4().hex}"
                self.store.insert(table, token)
            except Exception as exc:  # the store's errors are many and all retryable here
                self.metrics.inc("timberyard_store_insert_errors_total")
                if self._stopping:
                    log.error("store insert failed while stopping; the batch stays in the wal: %s", exc)
                    return False
                delay = RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)]
                attempt += 1
                log.error("store insert failed; retrying in %ss: %s", delay, exc, extra={"first": first, "last": last})
                time.sleep(delay)
                continue
            self.metrics.inc("timberyard_store_lines_total", table.num_rows)
            self.metrics.inc("timberyard_store_batches_total")
            self.metrics.observe_seconds("timberyard_store_insert_seconds", time.perf_counter() - started)
            return True

    def _not_stored(self, table: pa.Table) -> pa.Table:
        """The rows of `table` whose line id the store does not hold (one lookup per account)."""
        stored: list[int] = []
        accounts = table.column("account")
        for account in pc.unique(accounts).to_pylist():
            rows = table.filter(pc.equal(accounts, account))
            ts, ids = pc.min_max(rows.column("ts").cast(pa.int64())), pc.min_max(rows.column("id"))
            sql, params = select_stored_ids(account, ts["min"].as_py(), ts["max"].as_py(), ids["min"].as_py(), ids["max"].as_py())
            stored.extend(int(row["id"]) for row in self.store.select(sql, params))
        if not stored:
            return table
        log.info("lines of an interrupted insert were stored already; sending the rest", extra={"stored": len(stored)})
        return table.filter(pc.invert(pc.is_in(table.column("id"), value_set=pa.array(stored, pa.uint64()))))
