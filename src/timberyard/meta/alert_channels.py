"""Alert channels and their delivery attempts in the metadata database.

A channel's configuration is sealed under the node's channel key (meta/sealing.py): a stolen
database or backup does not give away webhook tokens, SMTP passwords, Slack URLs or PagerDuty
routing keys. Which fields are secret and how they are masked for the API is
the channel kinds' business (alerts/channels.py); this module stores, seals and looks up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.core.errors import Conflict, NotFound
from timberyard.meta.info import iso
from timberyard.meta.models import AlertChannel, AlertDelivery, utcnow
from timberyard.meta.sealing import Sealer

KEY_FILE = "alert_channels.key"  # in the data directory, 32 random bytes, mode 0600


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    id: int
    account_id: str
    name: str
    kind: str
    config: dict[str, Any]  # in the clear, secrets included: never hand this to a client as is
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryInfo:
    id: int
    firing_id: int
    channel_id: int
    attempt: int
    at: datetime
    ok: bool | None  # None: in flight, or interrupted by a restart and to be made again
    status: int | None
    error: str
    next_attempt_at: datetime | None

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "firing_id": self.firing_id, "channel_id": self.channel_id, "attempt": self.attempt,
            "at": iso(self.at), "ok": self.ok, "status": self.status, "error": self.error,
            "next_attempt_at": iso(self.next_attempt_at),
        }


# channels


def create_channel(
    session: Session, sealer: Sealer, account_id: str, name: str, kind: str, config: dict[str, Any], created_by: str
) -> ChannelInfo:
    now = utcnow()
    row = AlertChannel(account_id=account_id, name=name, kind=kind, config=sealer.seal(account_id, config),
                       created_by=created_by, created_at=now, updated_at=now)
    session.add(row)
    _flush_unique(session, name)
    return _info(row, sealer)


def list_channels(session: Session, sealer: Sealer, account_id: str) -> list[ChannelInfo]:
    rows = session.scalars(select(AlertChannel).where(AlertChannel.account_id == account_id).order_by(AlertChannel.name))
    return [_info(row, sealer) for row in rows]


def get_channel(session: Session, sealer: Sealer, account_id: str, channel_id: int) -> ChannelInfo:
    return _info(_own(session, account_id, channel_id), sealer)


def find_channel(session: Session, sealer: Sealer, channel_id: int) -> ChannelInfo | None:
    """Any account's channel, for delivery (the notification names the account it belongs to)."""
    row = session.get(AlertChannel, channel_id)
    return None if row is None else _info(row, sealer)


def update_channel(
    session: Session, sealer: Sealer, account_id: str, channel_id: int, name: str, config: dict[str, Any]
) -> ChannelInfo:
    row = _own(session, account_id, channel_id)
    row.name, row.config, row.updated_at = name, sealer.seal(account_id, config), utcnow()
    _flush_unique(session, name)
    return _info(row, sealer)


def delete_channel(session: Session, sealer: Sealer, account_id: str, channel_id: int) -> ChannelInfo:
    row = _own(session, account_id, channel_id)
    deleted = _info(row, sealer)
    session.delete(row)
    session.flush()
    return deleted


def _own(session: Session, account_id: str, channel_id: int) -> AlertChannel:
    """The account's channel; another account's is reported as missing."""
    row = session.get(AlertChannel, channel_id)
    if row is None or row.account_id != account_id:
        raise NotFound(f"channel {channel_id} not found", channel=channel_id)
    return row


def _flush_unique(session: Session, name: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a channel named {name!r} already exists", name=name) from exc


def _info(row: AlertChannel, sealer: Sealer) -> ChannelInfo:
    return ChannelInfo(row.id, row.account_id, row.name, row.kind, sealer.open(row.account_id, row.config),
                       row.created_by, row.created_at, row.updated_at)


# deliveries


def start_attempt(session: Session, firing_id: int, channel_id: int, attempt: int, at: datetime, notification: str) -> int:
    """Record an attempt about to be made, pending until `finish_attempt`; its id. The previous
    attempt of the same delivery stops being pending."""
    for previous in session.scalars(select(AlertDelivery).where(
        AlertDelivery.firing_id == firing_id, AlertDelivery.channel_id == channel_id, AlertDelivery.next_attempt_at.is_not(None)
    )):
        previous.next_attempt_at, previous.notification = None, None
    row = AlertDelivery(firing_id=firing_id, channel_id=channel_id, attempt=attempt, at=at, ok=None, error="",
                        next_attempt_at=at, notification=notification)
    session.add(row)
    session.flush()
    return row.id


def finish_attempt(session: Session, delivery_id: int, ok: bool, status: int | None, error: str, next_attempt_at: datetime | None) -> None:
    """The attempt's outcome; with `next_attempt_at` the delivery stays pending until then."""
    row = session.get(AlertDelivery, delivery_id)
    if row is None:
        return
    row.ok, row.status, row.error, row.next_attempt_at = ok, status, error[:2000], next_attempt_at
    if next_attempt_at is None:
        row.notification = None


def pending_deliveries(session: Session) -> list[tuple[DeliveryInfo, str]]:
    """Deliveries a restart must go on with, each with its notification as stored."""
    rows = session.scalars(select(AlertDelivery).where(AlertDelivery.next_attempt_at.is_not(None)).order_by(AlertDelivery.id))
    return [(_delivery(row), row.notification or "{}") for row in rows]


def deliveries_of(session: Session, firing_ids: Iterable[int]) -> dict[int, list[DeliveryInfo]]:
    """Every attempt for these firings, oldest first, by firing id (firings without any are absent)."""
    found: dict[int, list[DeliveryInfo]] = {}
    ids = list(firing_ids)
    if not ids:
        return found
    rows = session.scalars(select(AlertDelivery).where(AlertDelivery.firing_id.in_(ids)).order_by(AlertDelivery.id))
    for row in rows:
        found.setdefault(row.firing_id, []).append(_delivery(row))
    return found


def _delivery(row: AlertDelivery) -> DeliveryInfo:
    return DeliveryInfo(row.id, row.firing_id, row.channel_id, row.attempt, row.at, row.ok, row.status, row.error, row.next_attempt_at)
