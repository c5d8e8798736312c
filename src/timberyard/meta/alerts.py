"""Alerts, their evaluation state, their firings and the index-rate baselines, as rows.

This layer stores and finds; what a valid alert is lives in alerts/definition.py, which checks
a definition before it gets here, and the definition travels as a JSON object. An alert of
another account is reported as missing, exactly like one that does not exist. A firing is
unique per (alert, window): `record_firing` answers None when the window already has one, so a
node that restarts, or a second evaluator, can never notify twice for one window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.core.errors import Conflict, NotFound
from timberyard.meta.info import iso
from timberyard.meta.models import Alert, AlertBaseline, AlertFiring, AlertState, SavedView, utcnow

MAX_HISTORY = 500


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: int
    account_id: str
    name: str
    kind: str
    view_id: str | None
    definition: dict[str, Any]
    scope: list[str] | None  # the group scopes it is limited to; None: the whole account
    muted: bool
    snoozed_until: datetime | None
    created_by: str
    created_at: datetime
    updated_at: datetime

    def silenced_by(self, now: datetime) -> str | None:
        """"muted" or "snoozed" when the owner asked for quiet at `now`, else None."""
        if self.muted:
            return "muted"
        if self.snoozed_until is not None and now < self.snoozed_until:
            return "snoozed"
        return None


@dataclass(frozen=True, slots=True)
class ViewSelection:
    """The query and filters of the view an alert is attached to, as the view holds them now."""

    name: str
    query: str
    filters: dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class StateRecord:
    alert_id: int
    window_start: datetime | None
    matches: int
    late_lines: int
    samples: list[dict[str, Any]]
    seq: int
    last_evaluated_window: datetime | None
    last_fired_window: datetime | None
    last_fired_at: datetime | None
    firing: bool
    last_line_at: datetime | None


@dataclass(frozen=True, slots=True)
class FiringRecord:
    id: int
    alert_id: int
    account_id: str
    window_start: datetime
    window_end: datetime
    state: str  # firing, resolved, suppressed
    suppressed_by: str | None
    matches: int
    threshold: int
    late_lines: int
    reason: str
    lines: list[dict[str, Any]]
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "alert_id": self.alert_id,
            "window_start": iso(self.window_start),
            "window_end": iso(self.window_end),
            "state": self.state,
            "suppressed_by": self.suppressed_by,
            "matches": self.matches,
            "threshold": self.threshold,
            "late_lines": self.late_lines,
            "reason": self.reason,
            "lines": self.lines,
            "created_at": iso(self.created_at),
        }


# alerts


def insert_alert(
    session: Session, account_id: str, kind: str, name: str, view_id: str | None, definition: Mapping[str, Any],
    scope: list[str] | None, created_by: str, now: datetime | None = None,
) -> AlertRecord:
    now = now or utcnow()
    row = Alert(
        account_id=account_id, name=name, kind=kind, view_id=view_id, definition=_json(definition),
        scope=None if scope is None else _json(scope), muted=False,
        created_by=created_by, created_at=now, updated_at=now,
    )
    session.add(row)
    _flush_unique(session, row)
    return _record(row)


def get_alert(session: Session, account_id: str, alert_id: int) -> AlertRecord:
    return _record(_own_alert(session, account_id, alert_id))


def alerts_of_kind(session: Session, account_id: str, kind: str) -> list[AlertRecord]:
    rows = session.scalars(select(Alert).where(Alert.account_id == account_id, Alert.kind == kind).order_by(Alert.id)).all()
    return [_record(row) for row in rows]


def list_alerts(session: Session, account_id: str) -> list[AlertRecord]:
    rows = session.scalars(select(Alert).where(Alert.account_id == account_id).order_by(Alert.name)).all()
    return [_record(row) for row in rows]


def update_alert(
    session: Session, account_id: str, alert_id: int, kind: str, name: str, view_id: str | None,
    definition: Mapping[str, Any], scope: list[str] | None, now: datetime | None = None,
) -> AlertRecord:
    row = _own_alert(session, account_id, alert_id)
    row.kind, row.name, row.view_id, row.definition = kind, name, view_id, _json(definition)
    row.scope = None if scope is None else _json(scope)
    row.updated_at = now or utcnow()
    _flush_unique(session, row)
    return _record(row)


def set_muted(
    session: Session, account_id: str, alert_id: int, muted: bool, snoozed_until: datetime | None,
    now: datetime | None = None,
) -> AlertRecord:
    row = _own_alert(session, account_id, alert_id)
    row.muted, row.snoozed_until, row.updated_at = muted, snoozed_until, now or utcnow()
    session.flush()
    return _record(row)


def delete_alert(session: Session, account_id: str, alert_id: int) -> AlertRecord:
    row = _own_alert(session, account_id, alert_id)
    deleted = _record(row)
    session.delete(row)
    session.flush()
    return deleted


def all_alerts(session: Session) -> list[tuple[AlertRecord, ViewSelection | None]]:
    """Every account's alerts, each with its view's selection (None when it has no view, or
    when the view was deleted: the evaluator reports that rather than guessing)."""
    rows = session.execute(
        select(Alert, SavedView).outerjoin(
            SavedView, (SavedView.id == Alert.view_id) & (SavedView.account_id == Alert.account_id)
        )
    ).all()
    return [
        (_record(alert), ViewSelection(view.name, view.query, orjson.loads(view.filters)) if view is not None else None)
        for alert, view in rows
    ]


def view_selection(session: Session, account_id: str, view_id: str) -> ViewSelection:
    view = session.get(SavedView, view_id)
    if view is None or view.account_id != account_id:
        raise NotFound(f"view {view_id!r} not found", field="view_id")
    return ViewSelection(view.name, view.query, orjson.loads(view.filters))


# evaluation state


def load_states(session: Session) -> dict[int, StateRecord]:
    return {row.alert_id: _state(row) for row in session.scalars(select(AlertState))}


def save_states(session: Session, states: Iterable[StateRecord], now: datetime | None = None) -> None:
    """Upsert; a state of an alert deleted meanwhile is dropped."""
    now = now or utcnow()
    states = list(states)
    existing = set(session.scalars(select(Alert.id)))
    ids = [state.alert_id for state in states]
    saved = {  # a query per 500 rows, not one per row: an engine saves a thousand every few seconds
        row.alert_id: row
        for start in range(0, len(ids), 500)
        for row in session.scalars(select(AlertState).where(AlertState.alert_id.in_(ids[start : start + 500])))
    }
    for state in states:
        if state.alert_id not in existing:
            continue
        row = saved.get(state.alert_id) or AlertState(alert_id=state.alert_id)
        row.window_start, row.matches, row.late_lines = state.window_start, state.matches, state.late_lines
        row.samples, row.seq = _json(state.samples), state.seq
        row.last_evaluated_window, row.last_fired_window = state.last_evaluated_window, state.last_fired_window
        row.last_fired_at, row.firing, row.last_line_at = state.last_fired_at, state.firing, state.last_line_at
        row.updated_at = now
        session.add(row)
    session.flush()


# firings


def record_firing(
    session: Session, alert_id: int, account_id: str, window_start: datetime, window_end: datetime, state: str,
    matches: int, threshold: int, reason: str, lines: list[dict[str, Any]], late_lines: int = 0,
    suppressed_by: str | None = None, now: datetime | None = None,
) -> FiringRecord | None:
    """The new firing, or None when this alert's window already has one (or the alert is gone)."""
    if session.get(Alert, alert_id) is None:
        return None
    row = AlertFiring(
        alert_id=alert_id, account_id=account_id, window_start=window_start, window_end=window_end, state=state,
        suppressed_by=suppressed_by, matches=matches, threshold=threshold, late_lines=late_lines, reason=reason,
        lines=_json(lines), created_at=now or utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return _firing(row)


def list_firings(session: Session, account_id: str, alert_id: int, limit: int = 100) -> list[FiringRecord]:
    """The alert's firings, newest first."""
    _own_alert(session, account_id, alert_id)
    rows = session.scalars(
        select(AlertFiring).where(AlertFiring.alert_id == alert_id).order_by(AlertFiring.window_start.desc()).limit(min(limit, MAX_HISTORY))
    ).all()
    return [_firing(row) for row in rows]


# index-rate baselines


def add_hourly_lines(session: Session, counts: Mapping[tuple[str, datetime], int]) -> None:
    """Add line counts to (account, UTC hour) rows; accounts deleted meanwhile are skipped."""
    for (account_id, hour_start), lines in counts.items():
        row = session.get(AlertBaseline, (account_id, hour_start))
        if row is None:
            session.add(AlertBaseline(account_id=account_id, hour_start=hour_start, lines=lines))
        else:
            row.lines += lines
    session.flush()


def hourly_lines(session: Session, account_id: str, hour_starts: Iterable[datetime]) -> list[int]:
    """The recorded counts of those hours that have one."""
    return list(
        session.scalars(
            select(AlertBaseline.lines).where(
                AlertBaseline.account_id == account_id, AlertBaseline.hour_start.in_(list(hour_starts))
            )
        )
    )


# rows


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _flush_unique(session: Session, row: Alert) -> None:
    name = row.name  # a failed flush expires the row
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"an alert named {name!r} already exists", field="name", name=name) from exc


def _own_alert(session: Session, account_id: str, alert_id: int) -> Alert:
    row = session.get(Alert, alert_id) if isinstance(alert_id, int) else None
    if row is None or row.account_id != account_id:
        raise NotFound(f"alert {alert_id!r} not found", alert=alert_id)
    return row


def _record(row: Alert) -> AlertRecord:
    return AlertRecord(
        id=row.id, account_id=row.account_id, name=row.name, kind=row.kind, view_id=row.view_id,
        definition=orjson.loads(row.definition), scope=None if row.scope is None else orjson.loads(row.scope),
        muted=row.muted, snoozed_until=row.snoozed_until,
        created_by=row.created_by, created_at=row.created_at, updated_at=row.updated_at,
    )


def _state(row: AlertState) -> StateRecord:
    return StateRecord(
        alert_id=row.alert_id, window_start=row.window_start, matches=row.matches, late_lines=row.late_lines,
        samples=orjson.loads(row.samples), seq=row.seq, last_evaluated_window=row.last_evaluated_window,
        last_fired_window=row.last_fired_window, last_fired_at=row.last_fired_at, firing=row.firing,
        last_line_at=row.last_line_at,
    )


def _firing(row: AlertFiring) -> FiringRecord:
    return FiringRecord(
        id=row.id, alert_id=row.alert_id, account_id=row.account_id, window_start=row.window_start,
        window_end=row.window_end, state=row.state, suppressed_by=row.suppressed_by, matches=row.matches,
        threshold=row.threshold, late_lines=row.late_lines, reason=row.reason, lines=orjson.loads(row.lines),
        created_at=row.created_at,
    )
