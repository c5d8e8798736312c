from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from timberyard.core.errors import BadRequest, NotFound
from timberyard.meta import grants
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo, UserInfo
from timberyard.meta.models import User

PASSWORD = "correct horse battery"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def owner(db: MetaDB, account: AccountInfo) -> UserInfo:
    return db.add_user(account.id, "owner@example.com", PASSWORD, "owner")


@pytest.fixture
def responder(db: MetaDB, account: AccountInfo) -> UserInfo:
    return db.add_user(account.id, "responder@example.com", PASSWORD, "member")


def test_a_grant_is_active_until_it_expires(db: MetaDB, account: AccountInfo, owner: UserInfo, responder: UserInfo) -> None:
    with db.writing() as session:
        made = grants.grant(session, account.id, responder.id, owner.id, "  incident 42: payments down  ", 3600, now=NOW)
    assert (made.user_email, made.granted_by_email, made.reason) == ("responder@example.com", "owner@example.com", "incident 42: payments down")
    assert made.expires_at == NOW + timedelta(hours=1) and made.revoked_at is None
    with db.reading() as session:
        assert grants.has_active_grant(session, responder.id, NOW)
        assert grants.has_active_grant(session, responder.id, NOW + timedelta(minutes=59))
        assert not grants.has_active_grant(session, responder.id, NOW + timedelta(hours=1))
        assert not grants.has_active_grant(session, owner.id, NOW)
        assert grants.list_active(session, account.id, NOW) == [made]
        assert grants.list_active(session, account.id, NOW + timedelta(hours=2)) == []


def test_revoke_ends_a_grant_and_is_idempotent(db: MetaDB, account: AccountInfo, owner: UserInfo, responder: UserInfo) -> None:
    with db.writing() as session:
        made = grants.grant(session, account.id, responder.id, owner.id, "incident", 600, now=NOW)
    later = NOW + timedelta(minutes=1)
    with db.writing() as session:
        revoked = grants.revoke(session, account.id, made.id, now=later)
    with db.writing() as session:
        again = grants.revoke(session, account.id, made.id, now=later + timedelta(minutes=1))
    assert revoked.revoked_at == later and again == revoked
    with db.reading() as session:
        assert not grants.has_active_grant(session, responder.id, later)
        assert grants.list_active(session, account.id, later) == []


def test_another_accounts_grant_cannot_be_revoked(db: MetaDB, account: AccountInfo, owner: UserInfo, responder: UserInfo) -> None:
    other = db.create_account("other")
    with db.writing() as session:
        made = grants.grant(session, account.id, responder.id, owner.id, "incident", 600, now=NOW)
    with pytest.raises(NotFound, match="access grant"), db.writing() as session:
        grants.revoke(session, other.id, made.id, now=NOW)
    with db.reading() as session:
        assert grants.has_active_grant(session, responder.id, NOW)
        assert grants.list_active(session, other.id, NOW) == []


@pytest.mark.parametrize(
    ("reason", "duration_s", "message"),
    [
        ("", 600, "reason"),
        ("   ", 600, "reason"),
        ("x" * 501, 600, "reason"),
        (None, 600, "reason"),
        ("incident", 59, "duration_s"),
        ("incident", 86_401, "duration_s"),
        ("incident", 600.5, "duration_s"),
        ("incident", True, "duration_s"),
        ("incident", "600", "duration_s"),
    ],
)
def test_reason_and_duration_are_checked(
    db: MetaDB, account: AccountInfo, owner: UserInfo, responder: UserInfo, reason: object, duration_s: object, message: str
) -> None:
    with pytest.raises(BadRequest, match=message), db.writing() as session:
        grants.grant(session, account.id, responder.id, owner.id, reason, duration_s, now=NOW)  # type: ignore[arg-type]
    with db.reading() as session:
        assert not grants.has_active_grant(session, responder.id, NOW)


def test_the_bounds_themselves_are_allowed(db: MetaDB, account: AccountInfo, owner: UserInfo, responder: UserInfo) -> None:
    with db.writing() as session:
        shortest = grants.grant(session, account.id, responder.id, owner.id, "r", 60, now=NOW)
        longest = grants.grant(session, account.id, responder.id, owner.id, "x" * 500, 86_400, now=NOW)
    assert shortest.expires_at - NOW == timedelta(minutes=1)
    assert longest.expires_at - NOW == timedelta(days=1)


def test_both_users_must_be_in_the_account(db: MetaDB, account: AccountInfo, owner: UserInfo, responder: UserInfo) -> None:
    other = db.create_account("other")
    outsider = db.add_user(other.id, "eve@example.com", PASSWORD, "owner")
    for user_id, granter_id in ((outsider.id, owner.id), (responder.id, outsider.id), ("0" * 32, owner.id)):
        with pytest.raises(NotFound, match="user .* not found"), db.writing() as session:
            grants.grant(session, account.id, user_id, granter_id, "incident", 600, now=NOW)
    with db.reading() as session:
        assert grants.list_active(session, account.id, NOW) == []


def test_overseers_are_the_other_enabled_owners_and_admins(db: MetaDB, account: AccountInfo, owner: UserInfo, responder: UserInfo) -> None:
    admin = db.add_user(account.id, "alice-admin@example.com", PASSWORD, "admin")
    second_admin = db.add_user(account.id, "bob-admin@example.com", PASSWORD, "admin")
    gone = db.add_user(account.id, "gone@example.com", PASSWORD, "admin")
    db.add_user(account.id, "viewer@example.com", PASSWORD, "readonly")
    other = db.create_account("other")
    db.add_user(other.id, "their-admin@example.com", PASSWORD, "admin")
    with db.writing() as session:
        session.execute(update(User).where(User.id == gone.id).values(disabled=True))
    with db.reading() as session:
        assert [u.email for u in grants.overseers(session, account.id, owner.id)] == [admin.email, second_admin.email]
        assert [u.email for u in grants.overseers(session, account.id, admin.id)] == [second_admin.email, owner.email]
        assert {u.role for u in grants.overseers(session, account.id, responder.id)} == {"owner", "admin"}
