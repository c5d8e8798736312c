"""Security events to the people who answer for the account: each `security.*` entry of the
audit trail (repeated failed sign-ins, break-glass access granted or revoked, a failed
verification of the audit chain) becomes a firing of every security alert of its account,
delivered through that alert's channels like any other firing.

It listens to the audit trail (`AuditTrail.listen`), so an event is sent only once it is
recorded, and whatever records a security event reaches the owners without knowing about alerts.
A firing is keyed by (alert, event time), so the same entry is never sent twice; muted or
snoozed alerts record it as suppressed. There is no cool-down: the events are rare and their
sources already hold back repeats (one sign-in alert per address per window, one chain report
per distinct set of problems).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from timberyard.alerts.notification import Notification
from timberyard.auth.audit import SYSTEM_ACCOUNT
from timberyard.meta import alerts as repo
from timberyard.meta.audit import AuditEntryInfo
from timberyard.meta.database import MetaDB
from timberyard.meta.models import utcnow

log = logging.getLogger(__name__)

SECURITY_PREFIX = "security."
Deliver = Callable[[Notification, list[int]], None]


class SecurityNotifier:
    """An audit-trail listener; `now` is for tests."""

    def __init__(self, meta: MetaDB, deliver: Deliver, public_url: str, now: Callable[[], datetime] = utcnow) -> None:
        self.meta, self.deliver, self.public_url, self.now = meta, deliver, public_url.rstrip("/"), now

    def __call__(self, entry: AuditEntryInfo) -> None:
        if not entry.action.startswith(SECURITY_PREFIX) or entry.account_id in ("", SYSTEM_ACCOUNT):
            return
        for alert in self.meta.transact(repo.alerts_of_kind, entry.account_id, "security", write=False):
            self._fire(alert, entry)

    def _fire(self, alert: repo.AlertRecord, entry: AuditEntryInfo) -> None:
        now = self.now()
        suppressed_by = alert.silenced_by(now)
        line = event_line(entry)
        record = self.meta.transact(
            repo.record_firing, alert.id, alert.account_id, entry.at, entry.at, "suppressed" if suppressed_by else "firing",
            1, 1, line["_line"], [line], 0, suppressed_by, now, write=True,
        )
        if record is None or suppressed_by:
            return
        notification = Notification(
            firing_id=record.id, alert_id=alert.id, alert_name=alert.name, account=alert.account_id, kind="security",
            state="firing", query="", url=f"{self.public_url}/#/settings/audit", matches=1, threshold=1,
            window_start=entry.at, window_end=entry.at, lines=(line,), reason=line["_line"],
        )
        self.deliver(notification, list(alert.definition.get("channel_ids", [])))


def event_line(entry: AuditEntryInfo) -> dict[str, object]:
    """The event shaped like an exported line, so channel templates read it as they read a
    matched line: `_line` says what happened, the entry's details are its fields."""
    what = entry.action.removeprefix(SECURITY_PREFIX).replace("_", " ")
    text = f"security event: {what}" + (f" ({entry.target})" if entry.target else "")
    return {
        **entry.details,
        "_line": text, "_ts": int(entry.at.timestamp() * 1000), "_app": "timberyard", "_host": "", "level": "warn",
        "action": entry.action, "outcome": entry.outcome, "target": entry.target or "", "audit_seq": entry.seq,
    }
