"""Stored anomalies: added once per kind, key and start, listed newest first per account,
pruned by age and by a cap per account."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from timberyard.meta.anomalies import NewAnomaly, add_anomalies, list_anomalies, prune_anomalies
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def found(account: str, n: int) -> NewAnomaly:
    return NewAnomaly(account, "silence", f"host=web-{n}", T0 + timedelta(minutes=n), 10.0 + n, f"web-{n} is silent")


def listed(db: MetaDB, account: str, kinds: tuple[str, ...] = ()) -> list[str]:
    with db.reading() as session:
        return [r.key for r in list_anomalies(session, account, T0 - timedelta(days=60), T0 + timedelta(days=1), kinds, 100)]


def test_an_anomaly_is_added_once_and_listed_newest_first_in_its_account(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    added = db.transact(add_anomalies, [found(account.id, 1), found(account.id, 2)], T0, write=True)
    assert [(a.key, a.detected_at, a.score) for a in added] == [("host=web-1", T0, 11.0), ("host=web-2", T0, 12.0)]
    again = db.transact(add_anomalies, [found(account.id, 2), found(account.id, 3), found("no-such-account", 4)],
                        T0 + timedelta(minutes=5), write=True)
    assert [a.key for a in again] == ["host=web-3"]
    db.transact(add_anomalies, [found(other.id, 9)], T0, write=True)
    assert listed(db, account.id) == ["host=web-3", "host=web-2", "host=web-1"]
    assert listed(db, account.id, ("volume_spike",)) == []
    assert listed(db, other.id) == ["host=web-9"]


def test_pruning_drops_old_anomalies_and_keeps_the_newest_per_account(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    db.transact(add_anomalies, [found(account.id, 0)], T0 - timedelta(days=40), write=True)
    for n in range(1, 6):
        db.transact(add_anomalies, [found(account.id, n)], T0 + timedelta(minutes=n), write=True)
    db.transact(add_anomalies, [found(other.id, 1)], T0, write=True)
    assert db.transact(prune_anomalies, T0 - timedelta(days=30), 3, write=True) == 3
    assert listed(db, account.id) == ["host=web-5", "host=web-4", "host=web-3"]
    assert listed(db, other.id) == ["host=web-1"]
