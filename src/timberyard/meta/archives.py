"""Archive settings, keys and exporter state in the metadata database.

Settings and keys are sealed (AES-256-GCM under the node's archive key, account id as
associated data: meta/alert_channels.py's Sealer), so a copy of the database gives away neither
the destination's credentials nor the keys of client-side encrypted archives. A run's files
and the watermark move in one transaction (`record_run`): the exactly-once rule rests on it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from timberyard.meta.sealing import Sealer
from timberyard.meta.models import ArchiveAccount, ArchiveFile, utcnow

KEY_FILE = "archives.key"  # in the data directory, 32 random bytes, mode 0600
HOUR_MS = 3_600_000  # a data file holds the lines of one UTC hour (archive/layout.py)


@dataclass(frozen=True)
class ArchiveRecord:
    account_id: str
    enabled: bool
    config: dict[str, Any] = field(repr=False)  # in the clear, credentials included
    keys: dict[str, bytes] = field(repr=False)  # archive key id → key
    current_key: str
    watermark_id: int
    pending_through_id: int | None
    pending_at: datetime | None
    pending_format: str | None  # and whether it encrypts: its files' names, pinned with its range
    pending_encrypted: bool | None
    digest_sequence: int
    digest_key: str | None
    digest_sha256: str | None
    digest_signature: str | None
    digest_at: datetime | None
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    updated_at: datetime


@dataclass(frozen=True)
class FileRecord:
    key: str
    hour_ms: int
    n: int
    sha256: str
    lines: int
    bytes: int


def get(session: Session, sealer: Sealer, account_id: str) -> ArchiveRecord | None:
    row = session.get(ArchiveAccount, account_id)
    return None if row is None else _record(row, sealer)


def save_settings(
    session: Session, sealer: Sealer, account_id: str, enabled: bool, config: dict[str, Any],
    keys: dict[str, bytes], current_key: str, actor: str,
) -> ArchiveRecord:
    row = session.get(ArchiveAccount, account_id)
    if row is None:
        row = ArchiveAccount(account_id=account_id, watermark_id=0, digest_sequence=0, last_error="")
        session.add(row)
    row.enabled = enabled
    row.config = sealer.seal(account_id, config)
    row.keys = sealer.seal(account_id, {"current": current_key, "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()}})
    row.updated_by, row.updated_at = actor, utcnow()
    session.flush()
    return _record(row, sealer)


def enabled_accounts(session: Session) -> list[str]:
    return list(session.scalars(select(ArchiveAccount.account_id).where(ArchiveAccount.enabled).order_by(ArchiveAccount.account_id)))


def files_per_hour(session: Session, account_id: str, hours: list[int]) -> dict[int, int]:
    """How many files each of `hours` already has: the next file of that hour is number N."""
    rows = session.execute(
        select(ArchiveFile.hour_ms, func.count()).where(ArchiveFile.account_id == account_id, ArchiveFile.hour_ms.in_(hours))
        .group_by(ArchiveFile.hour_ms)
    )
    return {int(hour): int(count) for hour, count in rows}


def files_between(session: Session, account_id: str, from_ms: int, to_ms: int) -> list[FileRecord]:
    """The account's delivered files whose hour overlaps [from_ms, to_ms] (inclusive), oldest
    first: from the account's own records, never a listing of the destination, so no file of
    another account (or one nobody delivered) is ever read for it."""
    rows = session.scalars(
        select(ArchiveFile).where(ArchiveFile.account_id == account_id, ArchiveFile.hour_ms <= to_ms,
                                  ArchiveFile.hour_ms > from_ms - HOUR_MS).order_by(ArchiveFile.hour_ms, ArchiveFile.n)
    )
    return [FileRecord(r.key, r.hour_ms, r.n, r.sha256, r.lines, r.bytes) for r in rows]


def file_totals(session: Session, account_id: str) -> tuple[int, int]:
    """(files, lines) delivered for the account."""
    files, lines = session.execute(
        select(func.count(), func.coalesce(func.sum(ArchiveFile.lines), 0)).where(ArchiveFile.account_id == account_id)
    ).one()
    return int(files), int(lines)


def begin_run(session: Session, account_id: str, through_id: int, at: datetime, fmt: str, encrypted: bool) -> None:
    """Pin the range, time, format and encryption of a run before its first upload."""
    row = session.get(ArchiveAccount, account_id)
    assert row is not None, account_id
    row.pending_through_id, row.pending_at = through_id, at
    row.pending_format, row.pending_encrypted = fmt, encrypted


def record_run(
    session: Session, account_id: str, files: list[FileRecord], sequence: int, watermark_id: int,
    digest: tuple[str, str, str] | None, now: datetime,
) -> None:
    """The run's files, its digest (key, sha256, signature) and the new watermark, at once."""
    row = session.get(ArchiveAccount, account_id)
    assert row is not None, account_id
    for f in files:
        session.add(ArchiveFile(account_id=account_id, key=f.key, hour_ms=f.hour_ms, n=f.n, sha256=f.sha256, lines=f.lines,
                                bytes=f.bytes, digest_sequence=sequence, delivered_at=now))
    if digest is not None:
        row.digest_sequence = sequence
        row.digest_key, row.digest_sha256, row.digest_signature = digest
        row.digest_at = now
    row.watermark_id = watermark_id
    row.pending_through_id = row.pending_at = row.pending_format = row.pending_encrypted = None
    row.last_run_at = row.last_success_at = now
    row.last_error = ""


def record_failure(session: Session, account_id: str, error: str, now: datetime) -> None:
    row = session.get(ArchiveAccount, account_id)
    if row is not None:
        row.last_run_at, row.last_error = now, error[:2000]


def _record(row: ArchiveAccount, sealer: Sealer) -> ArchiveRecord:
    keys = sealer.open(row.account_id, row.keys)
    return ArchiveRecord(
        account_id=row.account_id, enabled=row.enabled, config=sealer.open(row.account_id, row.config),
        keys={k: base64.b64decode(v) for k, v in keys["keys"].items()}, current_key=keys["current"],
        watermark_id=row.watermark_id, pending_through_id=row.pending_through_id, pending_at=row.pending_at,
        pending_format=row.pending_format, pending_encrypted=row.pending_encrypted,
        digest_sequence=row.digest_sequence, digest_key=row.digest_key,
        digest_sha256=row.digest_sha256, digest_signature=row.digest_signature, digest_at=row.digest_at,
        last_run_at=row.last_run_at, last_success_at=row.last_success_at, last_error=row.last_error, updated_at=row.updated_at,
    )
