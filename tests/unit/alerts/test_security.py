"""Security events to security alerts, on a real SQLite metadata database and a real audit
trail: which events go out, to which alerts' channels, once; muted alerts record them as
suppressed; only owners may save a security alert; the node's chain check reports tampering."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from alerting import Delivered
from clock import Clock
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from timberyard.alerts import service
from timberyard.alerts.definition import parse_definition
from timberyard.alerts.security import SecurityNotifier
from timberyard.auth.audit import AuditEvent, AuditTrail
from timberyard.auth.chain_watch import ChainWatch
from timberyard.core.errors import BadRequest, PermissionDenied
from timberyard.meta import alerts as repo
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo

SECURITY = {"name": "security", "kind": "security", "channel_ids": [4, 7]}


@pytest.fixture
def trail(db: MetaDB, clock: Clock, delivered: Delivered) -> AuditTrail:
    trail = AuditTrail(db, Ed25519PrivateKey.generate())
    trail.listen(SecurityNotifier(db, delivered, "https://logs.example", now=clock))
    return trail


def create(db: MetaDB, account: AccountInfo, role: str = "owner", **fields: object) -> service.AlertInfo:
    return db.transact(partial(service.create_alert, role=role), account.id, {**SECURITY, **fields}, None, "owner@example.com", write=True)


def failed_sign_ins(account: AccountInfo, clock: Clock, email: str = "ana@example.com") -> AuditEvent:
    return AuditEvent(account.id, "security.login_failures", outcome="failure", actor_type="anonymous",
                      target=f"email {email}", details={"failures": 12}, at=clock())


def test_a_security_event_goes_to_each_security_alerts_channels(db: MetaDB, account: AccountInfo, trail: AuditTrail,
                                                                 clock: Clock, delivered: Delivered) -> None:
    first = create(db, account)
    second = create(db, account, name="to the pager", channel_ids=[9])
    entry = trail.record(failed_sign_ins(account, clock))
    assert [(n.alert_id, ids) for n, ids in delivered.sent] == [(first.record.id, [4, 7]), (second.record.id, [9])]
    notification = delivered.sent[0][0]
    assert (notification.kind, notification.state, notification.url) == ("security", "firing", "https://logs.example/#/settings/audit")
    assert notification.reason == "security event: login failures (email ana@example.com)"
    [line] = notification.lines
    assert line["action"] == "security.login_failures" and line["failures"] == 12 and line["audit_seq"] == entry.seq
    [firing] = db.transact(repo.list_firings, account.id, first.record.id, write=False)
    assert (firing.id, firing.state, firing.matches) == (notification.firing_id, "firing", 1)


def test_other_events_other_accounts_and_other_kinds_send_nothing(db: MetaDB, account: AccountInfo, trail: AuditTrail,
                                                                  clock: Clock, delivered: Delivered) -> None:
    other = db.create_account("other")
    create(db, account)
    db.transact(partial(service.create_alert, role="member"), account.id,
                {"name": "errors", "kind": "presence", "query": "error", "channel_ids": [4]}, None, "m@example.com", write=True)
    trail.record(AuditEvent(account.id, "search", query="error", at=clock()))
    trail.record(failed_sign_ins(other, clock))
    assert delivered.sent == []
    trail.record(AuditEvent(account.id, "security.break_glass", target="user bob@example.com", at=clock()))
    assert [n.alert_name for n, _ in delivered.sent] == ["security"]


def test_a_muted_alert_records_the_event_as_suppressed(db: MetaDB, account: AccountInfo, trail: AuditTrail, clock: Clock,
                                                       delivered: Delivered) -> None:
    alert = create(db, account)
    db.transact(partial(service.mute, role="owner"), account.id, alert.record.id, None, write=True)
    trail.record(failed_sign_ins(account, clock))
    assert delivered.sent == []
    [firing] = db.transact(repo.list_firings, account.id, alert.record.id, write=False)
    assert (firing.state, firing.suppressed_by) == ("suppressed", "muted")


def test_the_same_entry_is_never_sent_twice(db: MetaDB, account: AccountInfo, trail: AuditTrail, clock: Clock,
                                            delivered: Delivered) -> None:
    create(db, account)
    entry = trail.record(failed_sign_ins(account, clock))
    SecurityNotifier(db, delivered, "https://logs.example", now=clock)(entry)  # again, as after a retry
    assert len(delivered.sent) == 1


@pytest.mark.parametrize("role", ["admin", "member"])
def test_only_an_owner_may_save_change_mute_or_delete_a_security_alert(db: MetaDB, account: AccountInfo, role: str) -> None:
    with pytest.raises(PermissionDenied, match="only the owner may change a security alert"):
        create(db, account, role=role)
    alert = create(db, account)
    for change in (
        lambda s: service.update_alert(s, account.id, alert.record.id, {"channel_ids": [1]}, None, role=role),
        lambda s: service.mute(s, account.id, alert.record.id, None, role=role),
        lambda s: service.unmute(s, account.id, alert.record.id, role=role),
        lambda s: service.delete_alert(s, account.id, alert.record.id, role=role),
    ):
        with pytest.raises(PermissionDenied):
            db.transact(change, write=True)
    presence = db.transact(partial(service.create_alert, role=role), account.id, {"name": "p", "kind": "presence", "channel_ids": [1]},
                           None, "m", write=True)
    with pytest.raises(PermissionDenied):  # nor turn another alert into one
        db.transact(partial(service.update_alert, role=role), account.id, presence.record.id, {"kind": "security"}, None, write=True)


@pytest.mark.parametrize(("fields", "message"), [
    ({"query": "error"}, "takes no query, filters or view"),
    ({"filters": {"apps": ["web"]}}, "takes no query, filters or view"),
    ({"view_id": "abc"}, "takes no query, filters or view"),
    ({"schedule": {"hours": [9, 17]}}, "takes no schedule"),
    ({"channel_ids": []}, "needs at least one channel"),
])
def test_a_security_alert_takes_channels_and_nothing_that_selects_lines(fields: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        parse_definition({**SECURITY, **fields})


def test_the_node_reports_a_tampered_trail_once(db: MetaDB, account: AccountInfo, trail: AuditTrail, clock: Clock,
                                                delivered: Delivered) -> None:
    create(db, account)
    for i in range(5):
        trail.record(AuditEvent(account.id, "search", query=f"q{i}", at=clock() - timedelta(hours=1, minutes=i)))
    delivered.sent.clear()
    watch = ChainWatch(db, trail, now=clock)
    assert watch.check() == 0 and delivered.sent == []
    with db.engine.begin() as connection:  # as an attacker with the database file would
        connection.execute(text("UPDATE audit_entries SET query = 'innocent' WHERE account_id = :a AND seq = 2"), {"a": account.id})
    assert watch.check() == 1
    [(notification, channels)] = delivered.sent
    [line] = notification.lines
    assert line["action"] == "security.audit_chain_failed" and channels == [4, 7]
    assert "its hash does not match its contents (edited)" in line["problems"][0]
    assert watch.check() == 0 and len(delivered.sent) == 1  # the same problems are not reported again
