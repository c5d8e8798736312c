"""The archive exporter: moves each account's lines from the store to its destination, hourly
files, exactly once.

Each account has a watermark on line ids (meta/archives.py). A run archives the lines with
`watermark < id <= through`, where `through` is the last id of a receive time old enough that
every line received before it is in the store: `archive_settle_s` before now (time for a line to
reach the write-ahead log), and never past a line still waiting for the store (the batcher's
queue however long it waits, a store that was down, a WAL replay). Line ids are allocated at receive time (their high bits are it), so that
range is complete.

A run: read the range (archive/hours.py: a file per hour of each line's `ts`, gzipped JSON
lines or Parquet as the account's `format` says when the run reads it; a long backlog cut at
MAX_RUN_LINES lines), pin it in the database, upload
each hour's file (`.N` when the hour already has files), upload the signed digest, then record
files, digest and the new watermark in one transaction. Killed anywhere before that
transaction, the next run re-does the same pinned range under the same names, overwriting what
the first attempt uploaded; killed after it, nothing is left to redo. No line twice, none lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from timberyard.archive import digest, envelope, layout
from timberyard.archive.destination import open_destination
from timberyard.archive.hours import HourFiles, read_hours
from timberyard.core.errors import Conflict, NotFound
from timberyard.core.outbound import OutboundPolicy
from timberyard.core.records import ID_COUNTER_BITS
from timberyard.meta import archives
from timberyard.meta.sealing import Sealer
from timberyard.meta.database import MetaDB
from timberyard.store.base import Store

log = logging.getLogger(__name__)

MAX_RUN_LINES = 2_000_000  # a longer backlog is archived over several runs, each in bounded memory


@dataclass
class RunResult:
    account_id: str
    files: list[digest.DeliveredFile] = field(default_factory=list)
    watermark_id: int = 0
    digest_key: str | None = None

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {"files": [f.to_dict() for f in self.files], "lines": self.lines, "watermark_id": self.watermark_id,
                "watermark": _iso(self.watermark_id), "digest": self.digest_key}


class Archiver:
    def __init__(
        self, meta: MetaDB, store: Store, sealer: Sealer, signer: Ed25519PrivateKey, local_root: Path, *,
        outbound: OutboundPolicy, settle_s: float, pending_floor: Callable[[], int | None], now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.meta, self.store, self.sealer, self.signer, self.local_root = meta, store, sealer, signer, local_root
        self.outbound = outbound
        self.settle_ms = int(settle_s * 1000)
        self.pending_floor = pending_floor
        self.now = now
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._watermarks: dict[str, int] = {}

    def load(self) -> None:
        """Read every enabled account's watermark, for the lag gauge before the first run."""
        for account in self.meta.transact(archives.enabled_accounts, write=False):
            record = self.meta.transact(archives.get, self.sealer, account, write=False)
            if record is not None:
                self._watermarks[account] = record.watermark_id

    def lag_seconds(self) -> dict[str, float]:
        """now − watermark per enabled account: how far behind its archive is."""
        now_ms = int(self.now().timestamp() * 1000)
        return {account: max(0, now_ms - (wm >> ID_COUNTER_BITS)) / 1000 for account, wm in sorted(self._watermarks.items())}

    def track(self, account_id: str, watermark_id: int) -> None:
        self._watermarks[account_id] = watermark_id

    def forget(self, account_id: str) -> None:
        self._watermarks.pop(account_id, None)

    def run_all(self) -> None:
        """One run for every enabled account; a failing account is logged and recorded and does
        not stop the others."""
        for account in self.meta.transact(archives.enabled_accounts, write=False):
            try:
                self.run(account)
            except Exception as exc:
                log.error("archiving failed; retrying next interval: %s", exc, extra={"account": account})

    def run(self, account_id: str) -> RunResult:
        with self._guard:
            lock = self._locks.setdefault(account_id, threading.Lock())
        with lock:
            record = self.meta.transact(archives.get, self.sealer, account_id, write=False)
            if record is None:
                raise NotFound("archiving is not configured for this account; PUT /api/v1/archive first")
            if not record.enabled:
                raise Conflict("archiving is disabled for this account; enable it with PUT /api/v1/archive {\"enabled\": true}")
            try:
                result = self._run(record)
            except Exception as exc:
                self.meta.transact(archives.record_failure, account_id, str(exc), self.now(), write=True)
                raise
            self._watermarks[account_id] = result.watermark_id
            return result

    def _run(self, record: archives.ArchiveRecord) -> RunResult:
        account = record.account_id
        fmt, encrypted = _shape(record)
        if record.pending_through_id is not None and record.pending_at is not None:
            through, at = record.pending_through_id, record.pending_at  # redo the interrupted run exactly
            hours, through = self._read(record, through, fmt, pinned=True)
        else:
            at = self.now()
            through = self._through(at)
            if through <= record.watermark_id:
                return RunResult(account, watermark_id=record.watermark_id)
            hours, through = self._read(record, through, fmt, pinned=False)
        at_ms = int(at.timestamp() * 1000)
        needs_digest = bool(hours) or record.digest_at is None or layout.hour_of(int(record.digest_at.timestamp() * 1000)) != layout.hour_of(at_ms)
        if not needs_digest:
            self.meta.transact(archives.record_run, account, [], record.digest_sequence, through, None, at, write=True)
            return RunResult(account, watermark_id=through)
        self.meta.transact(archives.begin_run, account, through, at, fmt, encrypted, write=True)
        destination = open_destination(record.config["destination"], self.local_root, self.outbound)
        existing = self.meta.transact(archives.files_per_hour, account, sorted(hours), write=False)
        delivered: list[digest.DeliveredFile] = []
        stored: list[archives.FileRecord] = []
        for hour in sorted(hours):
            n = existing.get(hour, 0)
            data = hours[hour].finish()
            if encrypted:
                data = envelope.seal(data, record.current_key, record.keys[record.current_key])
            key = layout.data_key(account, hour, n, encrypted, fmt)
            destination.put(key, data)
            file = digest.DeliveredFile(key, digest.sha256(data), hours[hour].lines, len(data), hour)
            delivered.append(file)
            stored.append(archives.FileRecord(key, hour, n, file.sha256, file.lines, file.bytes))
        sequence = record.digest_sequence + 1
        digest_key = layout.digest_key(account, layout.hour_of(at_ms), _next_digest_n(record, at_ms))
        previous = digest.ChainLink(record.digest_key, record.digest_sha256, record.digest_signature)
        body, signature = digest.build(self.signer, account, sequence, at_ms, record.watermark_id, through, delivered, previous)
        destination.put(digest_key, body)
        self.meta.transact(archives.record_run, account, stored, sequence, through,
                           (digest_key, digest.sha256(body), signature), at, write=True)
        log.info("archived", extra={"account": account, "files": len(delivered), "lines": sum(f.lines for f in delivered),
                                    "destination": destination.describe()})
        return RunResult(account, delivered, through, digest_key)

    def _through(self, at: datetime) -> int:
        """The last line id a run starting at `at` may archive."""
        through_ms = int(at.timestamp() * 1000) - self.settle_ms
        floor = self.pending_floor()
        through = (through_ms << ID_COUNTER_BITS) - 1
        return through if floor is None else min(through, floor - 1)

    def _read(self, record: archives.ArchiveRecord, through: int, fmt: str, *, pinned: bool) -> tuple[HourFiles, int]:
        """The range's lines as a file per hour of `ts` in `fmt`, and where the range really ends:
        a long backlog stops after MAX_RUN_LINES (unless the range is pinned)."""
        return read_hours(self.store, record.account_id, record.watermark_id, through,
                          max_lines=None if pinned else MAX_RUN_LINES, fmt=fmt)


def _shape(record: archives.ArchiveRecord) -> tuple[str, bool]:
    """The format and encryption of the run: an interrupted run's pinned ones, so that its redo
    writes the names the first attempt wrote even if the settings changed since; otherwise the
    settings' (a change applies to the files of the runs after it)."""
    if record.pending_format is not None and record.pending_encrypted is not None:
        return record.pending_format, record.pending_encrypted
    return str(record.config.get("format") or "json"), bool(record.config.get("encryption"))


def _next_digest_n(record: archives.ArchiveRecord, at_ms: int) -> int:
    """0 for the first digest of an hour, then 1, 2, … for more runs in the same hour."""
    if record.digest_key is None:
        return 0
    parsed = layout.parse_digest_key(record.digest_key)
    if parsed is None or parsed[1] != layout.hour_of(at_ms):
        return 0
    return parsed[2] + 1


def _iso(line_id: int) -> str | None:
    if not line_id:
        return None
    return datetime.fromtimestamp((line_id >> ID_COUNTER_BITS) / 1000, UTC).isoformat().replace("+00:00", "Z")
