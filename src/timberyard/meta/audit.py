"""The audit trail's tables: entries (one hash chain per account) and their hourly digests.

Plain queries only; what the hashes mean, and every rule about them, is in
`timberyard.auth.audit`. Times are half-open windows `[start, end)` on an entry's `at` or a
digest's `period_start`; `None` leaves that side open.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Select, delete, func, select, union
from sqlalchemy.orm import Session

from timberyard.meta.info import iso
from timberyard.meta.models import AuditDigest, AuditEntry

STREAM_ROWS = 1000


@dataclass(frozen=True, slots=True)
class AuditEntryInfo:
    """One entry as stored; `details_json` is the exact text the hash covers."""

    id: int
    account_id: str
    seq: int
    at: datetime
    actor_type: str
    actor_id: str | None
    actor_name: str | None
    action: str
    target: str | None
    query: str | None
    ip: str | None
    user_agent: str | None
    outcome: str
    details_json: str
    prev_hash: str
    hash: str

    @property
    def details(self) -> dict[str, Any]:
        """The details object; text that is not one (only an edited row) is shown as it is."""
        try:
            value = orjson.loads(self.details_json)
        except orjson.JSONDecodeError:
            value = None
        return value if isinstance(value, dict) else {"unreadable": self.details_json}

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "seq": self.seq,
            "at": iso(self.at),
            "actor_type": self.actor_type,
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "target": self.target,
            "query": self.query,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "outcome": self.outcome,
            "details": self.details,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class AuditDigestInfo:
    id: int
    account_id: str
    period_start: datetime
    period_end: datetime
    first_seq: int | None
    last_seq: int | None
    last_hash: str
    prev_digest_hash: str
    digest_hash: str
    signature: str
    public_key_id: str
    created_at: datetime


def entry_info(row: AuditEntry) -> AuditEntryInfo:
    return AuditEntryInfo(
        id=row.id, account_id=row.account_id, seq=row.seq, at=row.at, actor_type=row.actor_type,
        actor_id=row.actor_id, actor_name=row.actor_name, action=row.action, target=row.target,
        query=row.query, ip=row.ip, user_agent=row.user_agent, outcome=row.outcome,
        details_json=row.details, prev_hash=row.prev_hash, hash=row.hash,
    )


def digest_info(row: AuditDigest) -> AuditDigestInfo:
    return AuditDigestInfo(
        id=row.id, account_id=row.account_id, period_start=row.period_start, period_end=row.period_end,
        first_seq=row.first_seq, last_seq=row.last_seq, last_hash=row.last_hash,
        prev_digest_hash=row.prev_digest_hash, digest_hash=row.digest_hash, signature=row.signature,
        public_key_id=row.public_key_id, created_at=row.created_at,
    )


# entries


def add_entry(session: Session, values: Mapping[str, Any]) -> AuditEntryInfo:
    """Insert one entry; `values` are the columns, with `details` as JSON text."""
    row = AuditEntry(**values)
    session.add(row)
    session.flush()
    return entry_info(row)


def account_ids(session: Session) -> list[str]:
    """Every account with entries or digests."""
    query = union(select(AuditEntry.account_id).distinct(), select(AuditDigest.account_id).distinct())
    return sorted(session.scalars(select(query.subquery().c[0])))


def entry_account_ids(session: Session) -> list[str]:
    return sorted(session.scalars(select(AuditEntry.account_id).distinct()))


def last_entry(session: Session, account_id: str) -> AuditEntryInfo | None:
    return _one(session, _entries(account_id).order_by(AuditEntry.seq.desc()))


def first_entry(session: Session, account_id: str) -> AuditEntryInfo | None:
    return _one(session, _entries(account_id).order_by(AuditEntry.seq))


def previous_entry(session: Session, account_id: str, before_seq: int) -> AuditEntryInfo | None:
    return _one(session, _entries(account_id).where(AuditEntry.seq < before_seq).order_by(AuditEntry.seq.desc()))


def next_entry(session: Session, account_id: str, after_seq: int) -> AuditEntryInfo | None:
    return _one(session, _entries(account_id).where(AuditEntry.seq > after_seq).order_by(AuditEntry.seq))


def newest_entry_before(session: Session, account_id: str, before: datetime) -> AuditEntryInfo | None:
    return _one(session, _entries(account_id).where(AuditEntry.at < before).order_by(AuditEntry.seq.desc()))


def latest_with_action(session: Session, account_id: str, action: str) -> AuditEntryInfo | None:
    return _one(session, _entries(account_id).where(AuditEntry.action == action).order_by(AuditEntry.seq.desc()))


def span(session: Session, account_id: str, start: datetime, end: datetime) -> tuple[int, int, str] | None:
    """The first and last seq of the entries in `[start, end)` and the last one's hash, or
    None when there are none."""
    low, high = session.execute(
        select(func.min(AuditEntry.seq), func.max(AuditEntry.seq)).where(
            AuditEntry.account_id == account_id, AuditEntry.at >= start, AuditEntry.at < end
        )
    ).one()
    if low is None:
        return None
    newest = session.scalars(select(AuditEntry.hash).where(AuditEntry.account_id == account_id, AuditEntry.seq == high)).one()
    return low, high, newest


def iter_entries(
    session: Session, account_id: str | None, start: datetime | None, end: datetime | None
) -> Iterator[AuditEntryInfo]:
    """Entries in the window, streamed: one account's in chain order (seq), or every
    account's in time order."""
    query = _window(select(AuditEntry), start, end)
    if account_id is None:
        query = query.order_by(AuditEntry.at, AuditEntry.id)
    else:
        query = query.where(AuditEntry.account_id == account_id).order_by(AuditEntry.seq)
    for row in session.scalars(query.execution_options(yield_per=STREAM_ROWS)):
        yield entry_info(row)


def page_entries(
    session: Session, account_id: str, start: datetime | None, end: datetime | None, before_id: int | None, limit: int
) -> list[AuditEntryInfo]:
    """Up to `limit` entries of the window, newest first, older than entry `before_id`."""
    query = _window(_entries(account_id), start, end)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    rows = session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit))
    return [entry_info(row) for row in rows]


def delete_entries_before(session: Session, account_id: str, before: datetime) -> int:
    result = session.execute(delete(AuditEntry).where(AuditEntry.account_id == account_id, AuditEntry.at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]


# digests


def add_digest(session: Session, values: Mapping[str, Any]) -> AuditDigestInfo:
    row = AuditDigest(**values)
    session.add(row)
    session.flush()
    return digest_info(row)


def last_digest(session: Session, account_id: str) -> AuditDigestInfo | None:
    return _one_digest(session, _digests(account_id).order_by(AuditDigest.period_start.desc()))


def digest_before(session: Session, account_id: str, period_start: datetime) -> AuditDigestInfo | None:
    """The newest digest of a period that starts before `period_start`."""
    query = _digests(account_id).where(AuditDigest.period_start < period_start)
    return _one_digest(session, query.order_by(AuditDigest.period_start.desc()))


def digest_after(session: Session, account_id: str, period_start: datetime) -> AuditDigestInfo | None:
    """The oldest digest of a period that starts after `period_start`."""
    query = _digests(account_id).where(AuditDigest.period_start > period_start)
    return _one_digest(session, query.order_by(AuditDigest.period_start))


def newest_digest_ending_by(session: Session, account_id: str, end: datetime) -> AuditDigestInfo | None:
    query = _digests(account_id).where(AuditDigest.period_end <= end)
    return _one_digest(session, query.order_by(AuditDigest.period_start.desc()))


def iter_digests(
    session: Session, account_id: str, start: datetime | None, end: datetime | None
) -> Iterator[AuditDigestInfo]:
    query = _digests(account_id)
    if start is not None:
        query = query.where(AuditDigest.period_start >= start)
    if end is not None:
        query = query.where(AuditDigest.period_start < end)
    for row in session.scalars(query.order_by(AuditDigest.period_start).execution_options(yield_per=STREAM_ROWS)):
        yield digest_info(row)


def delete_digests_ending_by(session: Session, account_id: str, end: datetime) -> int:
    result = session.execute(delete(AuditDigest).where(AuditDigest.account_id == account_id, AuditDigest.period_end <= end))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _entries(account_id: str) -> Select[tuple[AuditEntry]]:
    return select(AuditEntry).where(AuditEntry.account_id == account_id)


def _digests(account_id: str) -> Select[tuple[AuditDigest]]:
    return select(AuditDigest).where(AuditDigest.account_id == account_id)


def _window(query: Select[tuple[AuditEntry]], start: datetime | None, end: datetime | None) -> Select[tuple[AuditEntry]]:
    if start is not None:
        query = query.where(AuditEntry.at >= start)
    if end is not None:
        query = query.where(AuditEntry.at < end)
    return query


def _one(session: Session, query: Select[tuple[AuditEntry]]) -> AuditEntryInfo | None:
    row = session.scalars(query.limit(1)).first()
    return None if row is None else entry_info(row)


def _one_digest(session: Session, query: Select[tuple[AuditDigest]]) -> AuditDigestInfo | None:
    row = session.scalars(query.limit(1)).first()
    return None if row is None else digest_info(row)
