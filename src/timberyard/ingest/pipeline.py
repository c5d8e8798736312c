"""The ingest pipeline of one node: a batch from any source in, a durable record out.

Every source decodes what it received into a `LineBatch` (ingest/batch.py) and awaits
`accept`, which returns only once the lines are fsync'd in the write-ahead log: that is what
lets a source acknowledge its sender. The pipeline owns admission: while the node replays its
log it refuses with 503; when the log's budget is full it refuses with 503 + Retry-After, or,
for a stream source that passes `wait=True`, waits for room so the sender feels the
backpressure (TCP stops being read); a batch larger than the whole budget is a 413 that says
so, since retrying it could never succeed.

The stages are CPU work and run on the pipeline's own thread, never on the event loop. Their
cost is mostly per batch, not per line (each vectorised step has a fixed price, and a
request of 1,000 lines pays it as much as one of 20,000), so the thread takes every request
waiting for it from the same account and source at once and runs them as one batch, one
write-ahead-log record; each request still gets its own answer and its own warnings.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

import numpy as np
import pyarrow as pa

from timberyard.config.settings import Settings
from timberyard.core.errors import Overloaded, PayloadTooLarge
from timberyard.core.metrics import Metrics
from timberyard.ingest.batch import PROBLEMS, LineBatch, Problems
from timberyard.ingest.field_types import FieldTypes
from timberyard.ingest.ids import IdAllocator, received_ms
from timberyard.ingest.rules.book import RuleBook
from timberyard.ingest.stages import Context, process
from timberyard.insights.book import TemplateBook
from timberyard.meta.database import MetaDB
from timberyard.store.wal import WriteAheadLog

P = ParamSpec("P")
T = TypeVar("T")
RETENTION_CACHE_S = 60
DECODERS = 2  # threads for `run` (decoding requests); msgspec and Arrow release the GIL much of the time
MAX_MERGED_LINES = 20_000
READY_POLL_S = 0.1

# LZ4 makes a record about 4x smaller (the fields struct is wide and mostly null) and is faster
# to write than no compression at all (less to copy): measured 186 vs 728 bytes and 2.0 vs 3.8 us
# per line on bench/corpus.py; reading it back costs 1.2 us per line.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


@dataclass(frozen=True)
class Accepted:
    batch_id: str  # "" when every line was excluded or expired and nothing was written
    lines: int  # lines received
    stored: int  # lines written to the log for the store (not excluded, not expired)
    problems: Problems


@dataclass(frozen=True)
class _Done:
    written: Future[int] | None  # the write-ahead-log append, None when nothing was written
    stored: int
    problems: Problems


@dataclass(eq=False)
class _Request:
    batch: LineBatch
    wait: bool
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[_Done]

    def key(self) -> tuple[str, str, bool, bool]:
        return self.batch.account, self.batch.ingester, self.batch.import_times, self.wait

    def resolve(self, done: _Done | BaseException) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed
            self.loop.call_soon_threadsafe(_settle, self.answer, done)


def _settle(answer: asyncio.Future[_Done], done: _Done | BaseException) -> None:
    if answer.done():  # the request went away (a client that disconnected)
        return
    if isinstance(done, BaseException):
        answer.set_exception(done)
    else:
        answer.set_result(done)


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        wal: WriteAheadLog,
        metrics: Metrics,
        meta: MetaDB,
        field_types: FieldTypes,
        rules: RuleBook,
        templates: TemplateBook | None = None,
    ) -> None:
        self.wal = wal
        self.metrics = metrics
        self.meta = meta
        self.field_types = field_types
        self.rules = rules
        self.templates = templates
        self.ready = False
        self.max_line_bytes = settings.max_line_bytes
        self.max_skew_ms = settings.max_timestamp_skew_s * 1000
        self.parse_lines = settings.parse_lines
        self.default_retention_days = settings.retention_days
        self.ids = IdAllocator()
        self._retention: dict[str, tuple[int, float]] = {}
        self._decoders = ThreadPoolExecutor(DECODERS, thread_name_prefix="decode")
        self._waiting: deque[_Request] = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._worker = threading.Thread(target=self._work, name="pipeline", daemon=True)
        self._worker.start()
        metrics.describe("timberyard_ingest_stored_lines_total", "Lines written to the write-ahead log for storage (not excluded, not expired).")
        metrics.describe("timberyard_ingest_merged_requests_total", "Requests processed together with others as one batch.")
        for name, meaning in PROBLEMS.items():
            metrics.describe(f"timberyard_ingest_{name}_total", meaning)

    async def run(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run CPU work (decoding a request, say) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._decoders, lambda: work(*args, **kwargs))

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
        received = len(batch)  # the stages drop lines from the batch they work on
        loop = asyncio.get_running_loop()
        request = _Request(batch, wait, loop, loop.create_future())
        with self._cond:
            self._waiting.append(request)
            self._cond.notify()
        done = await request.answer
        batch_id = ""
        if done.written is not None:
            batch_id = f"{self.wal.checkpoint.epoch[:8]}-{await asyncio.wrap_future(done.written)}"
        self._count(batch.account, received, done.stored, done.problems)
        return Accepted(batch_id, received, done.stored, done.problems)

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._worker.join()
        self._decoders.shutdown(wait=True)

    # -- the pipeline's thread ------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            group = self._next_group()
            if not group:
                return
            try:
                self._process(group)
            except BaseException as exc:  # answer every request; the thread goes on
                for request in group:
                    request.resolve(exc)

    def _next_group(self) -> list[_Request]:
        """The oldest waiting request and every other one that can share its batch."""
        with self._cond:
            while not self._waiting:
                if self._closing:
                    return []
                self._cond.wait()
            first = self._waiting.popleft()
            group, lines, others = [first], len(first.batch), deque()
            while self._waiting:
                request = self._waiting.popleft()
                if request.key() == first.key() and lines + len(request.batch) <= MAX_MERGED_LINES:
                    group.append(request)
                    lines += len(request.batch)
                else:
                    others.append(request)
            self._waiting.extendleft(reversed(others))
        return group

    def _process(self, group: list[_Request]) -> None:
        sizes = [len(request.batch) for request in group]  # before the stages drop lines
        merged = LineBatch.merge([request.batch for request in group])
        record = self._stages(merged)
        payload = _serialise(record) if record.num_rows else None
        if payload is not None and len(payload) > self.wal.max_pending_bytes:
            if len(group) > 1:
                for request in group:  # together too large; each alone may fit
                    self._process([request])
                return
            raise PayloadTooLarge(
                f"this batch takes {len(payload)} bytes in the write-ahead log, more than its whole budget "
                f"(wal_max_bytes = {self.wal.max_pending_bytes}); send fewer or shorter lines per request"
            )
        written = None
        if payload is not None:
            written = self.wal.submit_waiting(payload) if group[0].wait else self.wal.submit(payload)
        rows = np.arange(record.num_rows) if merged.problems.rows is None else merged.problems.rows
        stored = np.sort(rows[record.column("stored").to_numpy(zero_copy_only=False)])
        start = 0
        if len(group) > 1:
            self.metrics.inc("timberyard_ingest_merged_requests_total", len(group))
        for request, size in zip(group, sizes):
            stop = start + size
            kept = int(np.searchsorted(stored, stop) - np.searchsorted(stored, start))
            request.resolve(_Done(written, kept, merged.problems.within(start, stop)))
            start = stop

    def _stages(self, batch: LineBatch) -> pa.RecordBatch:
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
            templates=self.templates,
        )
        return process(batch, context)

    def _retention_days(self, account: str) -> int:
        """The account's retention, read from metadata at most once a minute per account."""
        cached = self._retention.get(account)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        info = self.meta.get_account(account)
        days = info.retention_days if info is not None else self.default_retention_days
        self._retention[account] = (days, time.monotonic() + RETENTION_CACHE_S)
        return days

    def _count(self, account: str, received: int, stored: int, problems: Problems) -> None:
        self.metrics.inc("timberyard_ingest_lines_total", received)
        self.metrics.inc("timberyard_ingest_stored_lines_total", stored)
        self.metrics.inc("timberyard_account_ingest_lines_total", received, account=account)
        self.metrics.inc("timberyard_account_stored_lines_total", stored, account=account)
        for name, count in problems.counts.items():
            self.metrics.inc(f"timberyard_ingest_{name}_total", count)


def _serialise(batch: pa.RecordBatch) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=_IPC_OPTIONS) as writer:
        writer.write_batch(batch)
    return sink.getvalue()
