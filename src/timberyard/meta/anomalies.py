"""The anomalies the node's detectors found, per account: added in batches, read newest first,
pruned by age and by a cap per account.

An anomaly is stored once: its `fingerprint` (kind, key and start) is unique per account, and
`add_anomalies` returns only the rows it really added, so whoever notifies about them (the
alert engine) hears of each one once, even when a restart's replay makes a detector find it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.meta.models import Anomaly

MAX_LIST = 1000


@dataclass(frozen=True)
class AnomalyRecord:
    id: int
    account_id: str
    kind: str
    key: str
    started_at: datetime
    detected_at: datetime
    score: float
    evidence: str


@dataclass(frozen=True)
class NewAnomaly:
    account_id: str
    kind: str
    key: str
    started_at: datetime
    score: float
    evidence: str

    @property
    def fingerprint(self) -> str:
        said = "\x1f".join((self.kind, self.key, self.started_at.isoformat()))
        return hashlib.sha256(said.encode("utf-8", "surrogatepass")).hexdigest()


def add_anomalies(session: Session, found: list[NewAnomaly], detected_at: datetime) -> list[AnomalyRecord]:
    """Store what was found; returns the rows added (not those stored before, nor those of an
    account that no longer exists)."""
    added = []
    for anomaly in found:
        row = Anomaly(
            account_id=anomaly.account_id, kind=anomaly.kind, key=anomaly.key, fingerprint=anomaly.fingerprint,
            started_at=anomaly.started_at, detected_at=detected_at, score=float(anomaly.score), evidence=anomaly.evidence,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        added.append(_record(row))
    return added


def list_anomalies(
    session: Session, account_id: str, detected_from: datetime, detected_to: datetime, kinds: tuple[str, ...], limit: int,
    before_id: int | None = None,
) -> list[AnomalyRecord]:
    """The account's anomalies detected in [from, to] of `kinds` (all when empty), newest first;
    `before_id` continues a list past the ids already read."""
    query = select(Anomaly).where(
        Anomaly.account_id == account_id, Anomaly.detected_at >= detected_from, Anomaly.detected_at <= detected_to
    )
    if kinds:
        query = query.where(Anomaly.kind.in_(kinds))
    if before_id is not None:
        query = query.where(Anomaly.id < before_id)
    rows = session.scalars(query.order_by(Anomaly.detected_at.desc(), Anomaly.id.desc()).limit(min(limit, MAX_LIST)))
    return [_record(row) for row in rows]


def prune_anomalies(session: Session, detected_before: datetime, keep_per_account: int) -> int:
    """Delete anomalies detected before `detected_before`, and each account's beyond its newest
    `keep_per_account`; returns how many went."""
    gone = session.execute(delete(Anomaly).where(Anomaly.detected_at < detected_before)).rowcount or 0
    crowded = session.execute(
        select(Anomaly.account_id).group_by(Anomaly.account_id).having(func.count() > keep_per_account)
    ).scalars().all()
    for account_id in crowded:
        oldest_kept = session.scalars(
            select(Anomaly.id).where(Anomaly.account_id == account_id).order_by(Anomaly.id.desc()).offset(keep_per_account - 1).limit(1)
        ).one()
        gone += session.execute(
            delete(Anomaly).where(Anomaly.account_id == account_id, Anomaly.id < oldest_kept)
        ).rowcount or 0
    return gone


def _record(row: Anomaly) -> AnomalyRecord:
    return AnomalyRecord(
        id=row.id, account_id=row.account_id, kind=row.kind, key=row.key, started_at=row.started_at,
        detected_at=row.detected_at, score=row.score, evidence=row.evidence,
    )
