"""The ingest pipeline of one node: a decoded batch in, a durable write-ahead-log record out.

Every source (HTTP today; syslog and the agent later) hands its lines here. `accept` returns
only after the record is fsync'd, which is what lets a source acknowledge its sender.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyarrow as pa

from timberyard.config.settings import Settings
from timberyard.core.metrics import Metrics
from timberyard.ingest.ids import IdAllocator, received_ms
from timberyard.ingest.logdna import Limits, LineIn, Problems, RequestContext, build_batch
from timberyard.meta.database import MetaDB
from timberyard.store.wal import WriteAheadLog


@dataclass(frozen=True)
class Accepted:
    batch_id: str
    lines: int
    problems: Problems


RETENTION_CACHE_S = 60


class IngestPipeline:
    def __init__(self, settings: Settings, wal: WriteAheadLog, metrics: Metrics, meta: MetaDB) -> None:
        self.wal = wal
        self.metrics = metrics
        self.meta = meta
        self.default_retention_days = settings.retention_days
        self._retention: dict[str, tuple[int, float]] = {}
        self.ids = IdAllocator()
        self.limits = Limits(
            max_line_bytes=settings.max_line_bytes,
            max_timestamp_skew_ms=settings.max_timestamp_skew_s * 1000,
        )

    async def accept_logdna(
        self,
        lines: list[LineIn],
        *,
        account: str,
        hostname: str,
        ip: str = "",
        mac: str = "",
        tags: tuple[str, ...] = (),
        client_now_ms: int | None = None,
    ) -> Accepted:
        first_id = self.ids.allocate(len(lines))
        context = RequestContext(
            account=account,
            hostname=hostname,
            received_ms=received_ms(first_id),
            first_id=first_id,
            ip=ip,
            mac=mac,
            tags=tags,
            client_now_ms=client_now_ms,
            retention_days=self._retention_days(account),
        )
        batch, problems = build_batch(lines, context, self.limits)
        seq = await self.wal.append(_serialise(batch))
        self._count(batch.num_rows, problems)
        return Accepted(batch_id=f"{self.wal.checkpoint.epoch[:8]}-{seq}", lines=batch.num_rows, problems=problems)

    def _retention_days(self, account: str) -> int:
        """The account's retention, read from metadata at most once a minute per account."""
        cached = self._retention.get(account)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        info = self.meta.get_account(account)
        days = info.retention_days if info is not None else self.default_retention_days
        self._retention[account] = (days, time.monotonic() + RETENTION_CACHE_S)
        return days

    def _count(self, lines: int, problems: Problems) -> None:
        self.metrics.inc("timberyard_ingest_lines_total", lines)
        for name, value in (
            ("timberyard_ingest_truncated_lines_total", problems.truncated),
            ("timberyard_ingest_bad_timestamps_total", problems.bad_timestamps),
            ("timberyard_ingest_clamped_timestamps_total", problems.clamped_timestamps),
            ("timberyard_ingest_bad_meta_total", problems.bad_meta),
            ("timberyard_ingest_expired_lines_total", problems.expired),
        ):
            if value:
                self.metrics.inc(name, value)


def _serialise(batch: pa.RecordBatch) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue()
