"""Helpers of the alert tests: a recording stand-in for delivery, batches arriving on a test
clock, and alerts stored the way the service stores them."""

from __future__ import annotations

from typing import Any

from clock import Clock
from records import record

from timberyard.alerts.definition import parse_definition
from timberyard.alerts.engine import AlertEngine
from timberyard.alerts.notification import Notification
from timberyard.core.records import ID_COUNTER_BITS, DurableBatch
from timberyard.meta import alerts as repo
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo


class Delivered:
    """Stands in for our own delivery component (alerts/delivery.py): records what it is handed."""

    def __init__(self) -> None:
        self.sent: list[tuple[Notification, list[int]]] = []

    def __call__(self, notification: Notification, channel_ids: list[int]) -> None:
        self.sent.append((notification, channel_ids))

    @property
    def states(self) -> list[str]:
        return [n.state for n, _ in self.sent]


class Lines:
    """Durable batches whose lines arrive at the clock's time (their ids carry it)."""

    def __init__(self, clock: Clock, account: str) -> None:
        self.clock, self.account, self.seq, self.counter = clock, account, 0, 0

    def batch(self, lines: list[str], *, event_ms: int | None = None, **columns: list[Any]) -> list[DurableBatch]:
        arrival = int(self.clock().timestamp() * 1000)
        ids = [(arrival << ID_COUNTER_BITS) + self.counter + i for i in range(len(lines))]
        self.counter += len(lines)
        self.seq += 1
        ts = [arrival if event_ms is None else event_ms] * len(lines)
        return [DurableBatch(self.seq, record(self.account, lines, id=ids, ts=ts, **columns))]


def add_alert(db: MetaDB, account: AccountInfo, clock: Clock, scope: list[str] | None = None, **fields: Any) -> int:
    definition = parse_definition({"name": "errors", "kind": "presence", **fields})
    stored = definition.to_dict()
    created = db.transact(
        repo.insert_alert, account.id, definition.kind, definition.name, definition.view_id, stored, scope, "a@b.c", clock(),
        write=True,
    )
    return created.id


def engine_for(db: MetaDB, clock: Clock, delivered: Delivered, **options: Any) -> AlertEngine:
    engine = AlertEngine(db, delivered, now=clock, public_url="https://logs.example", **options)
    engine.load()
    return engine
