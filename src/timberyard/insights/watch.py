"""The anomaly watch: a consumer of the durable feed that runs the anomaly detectors on a node.

The feed's callback (the WAL flusher thread) only queues batches (core/inbox.py, as the alert
engine does); the watch's own thread takes them, turns each batch's account, app, host, level,
template and arrival time (the high bits of the line id) into the detectors' columns
(`columns.lines`) without a loop over lines, and calls `Detectors.observe` with the time of its
injected clock. It wakes at least every `TICK_S` without lines too, since a minute is judged
when the clock has passed it (a silent app is found by the clock, not by a line).

Only lines kept for the store are observed: an anomaly's link must find its lines, and lines an
exclusion rule keeps for live tail only are never searchable.

What the detectors find is stored (meta/anomalies.py) in one transaction per wake-up, on this
thread, and what was really new is handed to `found` (the alert engine's `anomalies_found`).

Restarts: with a `path`, the detectors' state (baselines, known templates, episodes) is loaded
from it by `load` before the write-ahead log is replayed, and written to it by `save` (a chore)
and at `stop` (`memory.py`). `save` copies the state under the lock `process` holds while it
observes, so a snapshot never catches the detectors mid-batch, and encodes and writes it after. The node subscribes with replays:
records the snapshot had seen (same log epoch, seq up to its mark) are skipped, the others are
counted. Stored anomalies are unique per kind, key and start, so finding one again neither
stores nor notifies it twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.clock import datetime_of, now_ms
from timberyard.core.inbox import Inbox
from timberyard.core.metrics import Metrics
from timberyard.core.records import ID_COUNTER_BITS, DurableBatch
from timberyard.insights import columns, memory
from timberyard.insights.anomaly import Anomaly
from timberyard.insights.detectors import Detectors
from timberyard.meta.anomalies import AnomalyRecord, NewAnomaly, add_anomalies
from timberyard.meta.database import MetaDB

log = logging.getLogger(__name__)

TICK_S = 1.0
OBSERVED = "timberyard_insights_lines_observed_total"
FOUND = "timberyard_insights_anomalies_total"


class AnomalyWatch:
    def __init__(
        self,
        meta: MetaDB,
        metrics: Metrics,
        detectors: Detectors | None = None,
        *,
        now: Callable[[], int] = now_ms,
        found: Callable[[list[AnomalyRecord]], None] = lambda added: None,
        path: Path | None = None,
    ) -> None:
        self.meta = meta
        self.metrics = metrics
        self.detectors = detectors or Detectors()
        self.now = now  # epoch ms
        self.found = found
        self.path = path  # where the detectors' state is kept (None: in memory only)
        self._inbox = Inbox("anomaly detection", "observed")
        self._lock = threading.Lock()  # observing, or taking a snapshot
        self._saving = threading.Lock()  # one writer of the file at a time (a chore's save may still run at stop)
        self._epoch: str | None = None  # the write-ahead log's
        self._seq = 0  # the last record observed
        self._skip_through = 0  # records of a replay the loaded state had seen already

    def load(self, wal_epoch: str | None) -> None:
        """Take the saved detectors, if any (before the write-ahead log is replayed); `wal_epoch`
        tells which log the node replays from."""
        self._epoch = wal_epoch
        if self.path is None:
            return
        with self._lock:
            self.detectors, seen = memory.load(self.path, self.detectors, self.now())
            if seen is not None and seen.epoch == wal_epoch:
                self._seq = self._skip_through = seen.seq

    def save(self) -> None:
        """Write the detectors' state (a chore's thread, or `stop`)."""
        if self.path is None:
            return
        with self._saving:
            with self._lock:
                state, saved_at = self.detectors.state(), self.now()
                seen = memory.Seen(self._epoch, self._seq) if self._epoch is not None else None
            memory.save(self.path, memory.encode(state, saved_at, seen))

    @property
    def dropped_lines(self) -> int:
        return self._inbox.dropped_lines

    def start(self) -> None:
        self._inbox.start(self.process, TICK_S, "anomaly-watch")

    def stop(self) -> None:
        """Observe what is queued, save, then stop. A save that fails (disk full) is logged: the
        node's shutdown goes on, and the next start learns from the last snapshot."""
        self._inbox.stop()
        try:
            self.save()
        except Exception:
            log.exception("saving the anomaly detectors failed", extra={"path": str(self.path)})

    def enqueue(self, batches: list[DurableBatch]) -> None:
        """The durable feed's callback (WAL flusher thread): queue and return."""
        self._inbox.put(batches)

    def process(self, batches: list[DurableBatch]) -> list[AnomalyRecord]:
        """Observe `batches` (none: the clock alone moves on) at the clock's time; store what the
        detectors found and hand on what was new. Returns that."""
        with self._lock:
            batches = [batch for batch in batches if batch.seq > self._skip_through]
            self._seq = max([self._seq, *(batch.seq for batch in batches)])
            now = self.now()
            table = lines_of(batches)
            anomalies = self.detectors.observe(table, now)
        if table.num_rows:
            self.metrics.inc(OBSERVED, table.num_rows)
        if not anomalies:
            return []
        added = self.meta.transact(add_anomalies, [_new(anomaly) for anomaly in anomalies], datetime_of(now), write=True)
        for record in added:
            self.metrics.inc(FOUND, kind=record.kind)
        if added:
            log.info("anomalies found", extra={"anomalies": len(added), "kinds": sorted({r.kind for r in added})})
            self.found(added)
        return added


def lines_of(batches: list[DurableBatch]) -> pa.Table:
    """The detectors' columns of the stored lines of `batches`, in order."""
    tables = [_lines(batch.table) for batch in batches]
    if not tables:
        return columns.lines([], [], [], [], [], [])
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _lines(table: pa.Table) -> pa.Table:
    if "stored" in table.column_names:
        table = table.filter(table.column("stored"))
    column = {name: table.column(name).combine_chunks() for name in ("account", "app", "host", "level", "template", "id")}
    arrival = pc.shift_right(column["id"], ID_COUNTER_BITS).cast(pa.int64())
    return columns.lines(column["account"], column["app"], column["host"], column["level"], column["template"], arrival)


def _new(anomaly: Anomaly) -> NewAnomaly:
    return NewAnomaly(anomaly.account, anomaly.kind, anomaly.key, datetime_of(anomaly.started_at), anomaly.score, anomaly.evidence)
