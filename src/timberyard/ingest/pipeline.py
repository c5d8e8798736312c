"""The ingest pipeline of one node: a batch from any source in, a durable record out.

Every source decodes what it received into a `LineBatch` (ingest/batch.py) and awaits
`accept`, which returns only once the lines are fsync'd in the write-ahead log: that is what
lets a source acknowledge its sender. The pipeline owns admission: while the node replays its
log it refuses with 503; when the log's budget is full it refuses with 503 + Retry-After, or,
for a stream source that passes `wait=True`, waits for room so the sender feels the
backpressure (TCP stops being read); a batch larger than the whole budget is a 413 that says
so, since retrying it could never succeed. Decoding and the stages are CPU work and run on the
pipeline's worker threads (`run`), never on the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import pyarrow as pa

from timberyard.config.settings import Settings
from timberyard.core.errors import Overloaded, PayloadTooLarge
from timberyard.core.metrics import Metrics
from timberyard.ingest.batch import PROBLEMS, LineBatch, Problems
from timberyard.ingest.field_types import FieldTypes
from timberyard.ingest.ids import IdAllocator, received_ms
from timberyard.ingest.rules.book import RuleBook
from timberyard.ingest.stages import Context, process
from timberyard.meta.database import MetaDB
from timberyard.store.wal import WriteAheadLog

P = ParamSpec("P")
T = TypeVar("T")
RETENTION_CACHE_S = 60
WORKERS = 2  # Arrow's kernels release the GIL, so two batches really do proceed at once
READY_POLL_S = 0.1


@dataclass(frozen=True)
class Accepted:
    batch_id: str  # "" when every line was excluded and nothing was written
    lines: int  # lines received
    stored: int  # lines written to the log (not excluded, not expired)
    problems: Problems


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        wal: WriteAheadLog,
        metrics: Metrics,
        meta: MetaDB,
        field_types: FieldTypes,
        rules: RuleBook,
    ) -> None:
        self.wal = wal
        self.metrics = metrics
        self.meta = meta
        self.field_types = field_types
        self.rules = rules
        self.ready = False
        self.max_line_bytes = settings.max_line_bytes
        self.max_skew_ms = settings.max_timestamp_skew_s * 1000
        self.parse_lines = settings.parse_lines
        self.default_retention_days = settings.retention_days
        self.ids = IdAllocator()
        self._retention: dict[str, tuple[int, float]] = {}
        self._executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="ingest")
        metrics.describe("timberyard_ingest_stored_lines_total", "Lines written to the write-ahead log for storage (not excluded, not expired).")
        for name, meaning in PROBLEMS.items():
            metrics.describe(f"timberyard_ingest_{name}_total", meaning)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run CPU work (decoding a request, say) on the pipeline's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: work(*args, **kwargs))

    def admit(self) -> None:
        """Refuse early, before a request body is even read, when the node cannot take lines."""
        if not self.ready:
            raise Overloaded("the node is starting: it is replaying its write-ahead log; retry shortly", retry_after=2)
        if self.wal.full:
            raise self.wal.full_error()

    async def accept(self, batch: LineBatch, *, wait: bool = False) -> Accepted:
        """Run the stages and make the lines durable; see the module docstring for refusals.
        `wait=True` (stream sources) waits while the node starts or the log is full."""
        while not self.ready:
            if not wait:
                raise Overloaded("the node is starting: it is replaying its write-ahead log; retry shortly", retry_after=2)
            await asyncio.sleep(READY_POLL_S)
        received = len(batch)
        payload, stored = await self.run(self._prepare, batch)
        if payload is None:
            self._count(received, 0, batch.problems)
            return Accepted("", received, 0, batch.problems)
        if len(payload) > self.wal.max_pending_bytes:
            raise PayloadTooLarge(
                f"this batch takes {len(payload)} bytes in the write-ahead log, more than its whole budget "
                f"(wal_max_bytes = {self.wal.max_pending_bytes}); send fewer or shorter lines per request"
            )
        seq = await (self.wal.append_when_room(payload) if wait else self.wal.append(payload))
        self._count(received, stored, batch.problems)
        return Accepted(f"{self.wal.checkpoint.epoch[:8]}-{seq}", received, stored, batch.problems)

    def close(self) -> None:
        self._executor.shutdown(wait=True)

    def _prepare(self, batch: LineBatch) -> tuple[pa.Buffer | None, int]:
        first_id = self.ids.allocate(len(batch))
        context = Context(
            received_ms=received_ms(first_id),
            first_id=first_id,
            retention_days=self._retention_days(batch.account),
            max_line_bytes=self.max_line_bytes,
            max_skew_ms=self.max_skew_ms,
            rules=self.rules.for_account(batch.account),
            field_types=self.field_types.for_account(batch.account),
            parse_lines=self.parse_lines,
        )
        record = process(batch, context)
        if not record.num_rows:
            return None, 0
        stored = record.num_rows - record.column("stored").false_count
        return _serialise(record), stored

    def _retention_days(self, account: str) -> int:
        """The account's retention, read from metadata at most once a minute per account."""
        cached = self._retention.get(account)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        info = self.meta.get_account(account)
        days = info.retention_days if info is not None else self.default_retention_days
        self._retention[account] = (days, time.monotonic() + RETENTION_CACHE_S)
        return days

    def _count(self, received: int, stored: int, problems: Problems) -> None:
        self.metrics.inc("timberyard_ingest_lines_total", received)
        self.metrics.inc("timberyard_ingest_stored_lines_total", stored)
        for name, count in problems.counts.items():
            assert name in PROBLEMS, name
            self.metrics.inc(f"timberyard_ingest_{name}_total", count)


# LZ4 makes a record about 4x smaller (the fields struct is wide and mostly null) and is faster
# to write than no compression at all (less to copy): measured 186 vs 728 bytes and 2.0 vs 3.8 us
# per line on bench/corpus.py; reading it back costs 1.2 us per line.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


def _serialise(batch: pa.RecordBatch) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=_IPC_OPTIONS) as writer:
        writer.write_batch(batch)
    return sink.getvalue()
