"""The alerts' business rules, between the web handlers and the metadata database.

Each function takes a session (run them with `MetaDB.transact`): a definition is checked as a
whole (alerts/definition.py) before it is stored, an alert on a view must name a view of the
same account, a snooze ends in the future and within MAX_SNOOZE, and only a role holding
`security_alerts.manage` (owners) may create, change, mute or delete a security alert, since it
decides where the account's security events go. `dry_run` answers "what would
this alert have said about the last interval" from the store, without recording anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from timberyard.alerts.definition import AlertDefinition, parse_definition
from timberyard.alerts.notification import Notification
from timberyard.alerts.selection import scoped_query
from timberyard.auth.permissions import has_permission, holders
from timberyard.core.errors import BadRequest, NotFound, OutsideScope, PermissionDenied
from timberyard.meta import alert_channels
from timberyard.meta import alerts as repo
from timberyard.meta.info import iso
from timberyard.meta.models import utcnow
from timberyard.meta.views import filters_from
from timberyard.parse.levels import normalise_level
from timberyard.search import compile_sql
from timberyard.search.ast import And, Node
from timberyard.store.base import Store
from timberyard.store.queries import select_arrived

MAX_SNOOZE = timedelta(days=30)
SECURITY_PERMISSION = "security_alerts.manage"


@dataclass(frozen=True, slots=True)
class AlertInfo:
    record: repo.AlertRecord
    definition: AlertDefinition
    view_missing: bool = False  # its view was deleted: it is not evaluated until it gets another

    def to_dict(self) -> dict[str, object]:
        record = self.record
        return {
            "id": record.id,
            **self.definition.to_dict(),
            "view_missing": self.view_missing,
            "muted": record.muted,
            "snoozed_until": iso(record.snoozed_until),
            "created_by": record.created_by,
            "created_at": iso(record.created_at),
            "updated_at": iso(record.updated_at),
        }


def create_alert(
    session: Session, account_id: str, fields: Mapping[str, Any], scope: list[str] | None, created_by: str, *, role: str
) -> AlertInfo:
    """`scope`: the author's group scope queries (None: unlimited); the alert keeps to them.
    `role`: the author's, which decides whether they may save a security alert."""
    definition = parse_definition(fields)
    _authorise(definition.kind, role)
    _check_scope(definition, scope)
    _check_view(session, account_id, definition)
    record = repo.insert_alert(
        session, account_id, definition.kind, definition.name, definition.view_id, definition.to_dict(), scope, created_by
    )
    return _info(session, record)


def list_alerts(session: Session, account_id: str) -> list[AlertInfo]:
    return [_info(session, record) for record in repo.list_alerts(session, account_id)]


def get_alert(session: Session, account_id: str, alert_id: int) -> AlertInfo:
    return _info(session, repo.get_alert(session, account_id, alert_id))


def update_alert(
    session: Session, account_id: str, alert_id: int, changes: Mapping[str, Any], scope: list[str] | None, *, role: str
) -> AlertInfo:
    """Change the fields given; the result is checked as a whole, as on creation. The alert
    takes the scope of whoever saves it, as a new one does."""
    current = repo.get_alert(session, account_id, alert_id)
    _authorise(current.kind, role)
    changes = dict(changes)
    if changes.get("view_id"):  # moving onto a view: its query and filters replace the alert's own
        changes.setdefault("query", "")
        changes.setdefault("filters", {})
    definition = parse_definition(changes, parse_definition(current.definition))
    _authorise(definition.kind, role)
    _check_scope(definition, scope)
    _check_view(session, account_id, definition)
    record = repo.update_alert(
        session, account_id, alert_id, definition.kind, definition.name, definition.view_id, definition.to_dict(), scope
    )
    return _info(session, record)


def delete_alert(session: Session, account_id: str, alert_id: int, *, role: str) -> AlertInfo:
    info = get_alert(session, account_id, alert_id)
    _authorise(info.definition.kind, role)
    repo.delete_alert(session, account_id, alert_id)
    return info


def mute(
    session: Session, account_id: str, alert_id: int, until: object, now: datetime | None = None, *, role: str
) -> AlertInfo:
    """Without `until`, muted until unmuted; with it (ISO 8601), snoozed until then."""
    _authorise(repo.get_alert(session, account_id, alert_id).kind, role)
    now = now or utcnow()
    if until is None:
        record = repo.set_muted(session, account_id, alert_id, True, None, now)
    else:
        record = repo.set_muted(session, account_id, alert_id, False, _until(until, now), now)
    return _info(session, record)


def unmute(session: Session, account_id: str, alert_id: int, *, role: str) -> AlertInfo:
    _authorise(repo.get_alert(session, account_id, alert_id).kind, role)
    return _info(session, repo.set_muted(session, account_id, alert_id, False, None))


def history(
    session: Session, account_id: str, alert_id: int, reader_scope: list[str] | None, limit: int = 100
) -> list[dict[str, object]]:
    """The alert's firings, newest first, each with its delivery attempts (every channel, every
    try). Their sample lines are shown to a reader whose scope is the alert's, or who has none;
    another reader could be shown lines outside their scope, so gets the counts only."""
    alert = repo.get_alert(session, account_id, alert_id)
    shown = reader_scope is None or (alert.scope is not None and sorted(alert.scope) == sorted(reader_scope))
    firings = repo.list_firings(session, account_id, alert_id, limit)
    deliveries = alert_channels.deliveries_of(session, [firing.id for firing in firings])
    return [
        {
            **firing.to_dict(),
            **({} if shown else {"lines": [], "lines_withheld": "the alert's scope is not yours"}),
            "deliveries": [attempt.to_dict() for attempt in deliveries.get(firing.id, [])],
        }
        for firing in firings
    ]


def dry_run(
    store: Store, account_id: str, alert: AlertInfo, reader: Node | None, now: datetime
) -> dict[str, object]:
    """The last interval (by arrival) against the store: matches and the verdict, counting only
    lines both the alert's scope and the `reader`'s scope let through. Index-rate alerts count
    all lines; their z-score needs the baseline, so only the maximum is judged here."""
    definition = alert.definition
    start = now - timedelta(seconds=definition.interval_s)
    if definition.kind in ("security", "anomaly"):
        note = {"security": "a security alert counts no lines: it sends each security event as it is recorded",
                "anomaly": "an anomaly alert counts no lines: it sends each anomaly the detectors find (GET /api/v1/insights/anomalies)"}
        return {"window_start": iso(start), "window_end": iso(now), "matches": 0, "threshold": definition.threshold,
                "would_fire": False, "note": note[definition.kind]}
    node = scoped_query(definition.query, None if alert.record.scope is None else tuple(alert.record.scope))
    if reader is not None:
        node = reader if node is None else And((reader, node))
    search = compile_sql(node) if node is not None else None
    filters = replace(definition.filters, levels=tuple(normalise_level(level) for level in definition.filters.levels))
    sql, params = select_arrived(account_id, int(start.timestamp() * 1000), int(now.timestamp() * 1000), search, filters)
    rows = store.select(sql, params)
    matches = int(rows[0]["matches"]) if rows else 0
    if definition.kind == "presence":
        would_fire = matches >= definition.threshold
    elif definition.kind == "absence":
        would_fire = matches < definition.threshold
    else:
        would_fire = definition.max_lines_per_s is not None and matches / definition.interval_s > definition.max_lines_per_s
    return {"window_start": iso(start), "window_end": iso(now), "matches": matches, "threshold": definition.threshold,
            "would_fire": would_fire}


def test_notification(alert: AlertInfo, dry: Mapping[str, Any], base_url: str) -> Notification:
    """What "send a test notification" sends: the alert as it is, with the dry run's count, marked
    as a test in its reason. Firing id 0: it is not a firing and is not recorded."""
    definition = alert.definition
    where = f"/?view={definition.view_id}" if definition.view_id else f"/alerts/{alert.record.id}"
    return Notification(
        firing_id=0, alert_id=alert.record.id, alert_name=definition.name, account=alert.record.account_id,
        kind=definition.kind, state="firing", query=definition.query, url=base_url.rstrip("/") + where,
        matches=int(dry["matches"]), threshold=definition.threshold,
        window_start=datetime.fromisoformat(str(dry["window_start"])), window_end=datetime.fromisoformat(str(dry["window_end"])),
        lines=(), reason=f"test notification: {dry['matches']} lines matched in the last {definition.interval} "
        f"(threshold {definition.threshold})",
    )


def _authorise(kind: str, role: str) -> None:
    if kind == "security" and not has_permission(role, SECURITY_PERMISSION):
        raise PermissionDenied(
            f"only the {holders(SECURITY_PERMISSION)} may change a security alert: it decides where the account's security events go",
            permission=SECURITY_PERMISSION,
        )


def _check_scope(definition: AlertDefinition, scope: list[str] | None) -> None:
    if definition.kind == "anomaly" and scope is not None:
        raise OutsideScope(
            "an anomaly alert reports anomalies of the whole account, and your access is limited to a scope; "
            "ask an admin without a scope to create it"
        )


def _until(value: object, now: datetime) -> datetime:
    try:
        until = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        until = None
    if until is None or until.tzinfo is None:
        raise BadRequest('until must be an ISO 8601 time with a zone, such as "2026-12-05T18:00:00Z"', field="until")
    if not now < until <= now + MAX_SNOOZE:
        raise BadRequest("until must be in the future and at most 30 days away", field="until")
    return until


def _check_view(session: Session, account_id: str, definition: AlertDefinition) -> None:
    if definition.view_id:
        repo.view_selection(session, account_id, definition.view_id)


def _info(session: Session, record: repo.AlertRecord) -> AlertInfo:
    """The alert as it evaluates: an alert on a view shows the view's current query and filters."""
    definition = parse_definition(record.definition)
    if record.view_id:
        try:
            view = repo.view_selection(session, record.account_id, record.view_id)
        except NotFound:
            return AlertInfo(record, definition, view_missing=True)
        definition = definition.with_view(view.query, filters_from(view.filters))
    return AlertInfo(record, definition)
