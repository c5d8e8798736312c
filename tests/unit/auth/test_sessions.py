from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from clock import Clock
from sqlalchemy import select, update

from timberyard.auth.sessions import TOUCH_EVERY_S, SessionManager
from timberyard.meta.database import MetaDB
from timberyard.meta.info import NewAccount, UserInfo
from timberyard.meta.models import User, UserSession

IDLE_S = 900
MAX_AGE_S = 43_200
PASSWORD = "plum kettle orbit ladder"


@pytest.fixture
def manager(db: MetaDB, clock: Clock) -> SessionManager:
    return SessionManager(db, idle_timeout_s=IDLE_S, max_age_s=MAX_AGE_S, now=clock)


@pytest.fixture
def ann(db: MetaDB, tenant: NewAccount) -> UserInfo:
    return db.add_user(tenant.account_id, "ann@example.com", PASSWORD, "admin")


def stored(db: MetaDB, session_id: str) -> UserSession:
    with db.reading() as session:
        return session.scalars(select(UserSession).where(UserSession.id == session_id)).one()


def test_only_the_tokens_hash_is_stored(db: MetaDB, manager: SessionManager, ann: UserInfo, clock: Clock) -> None:
    token, info = manager.create(ann, "203.0.113.7", "Firefox")
    assert info.id == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43 and len(info.csrf_token) >= 43 and info.csrf_token != token
    row = stored(db, info.id)
    assert token not in {row.id, row.csrf_token, row.ip, row.user_agent}
    assert (row.user_id, row.account_id, row.ip, row.user_agent) == (ann.id, ann.account_id, "203.0.113.7", "Firefox")
    assert info.expires_at == clock.now + timedelta(seconds=MAX_AGE_S)


def test_a_valid_token_gives_its_user_and_others_give_nothing(manager: SessionManager, ann: UserInfo) -> None:
    token, info = manager.create(ann, "203.0.113.7", "Firefox")
    user, session = manager.authenticate(token)  # type: ignore[misc]
    assert user == ann and session == info
    assert manager.authenticate(token + "x") is None
    assert manager.authenticate("") is None


def test_an_idle_session_ends_and_stays_ended(db: MetaDB, manager: SessionManager, ann: UserInfo, clock: Clock) -> None:
    token, info = manager.create(ann, "203.0.113.7", "Firefox")
    clock.advance(IDLE_S + 1)
    assert manager.authenticate(token) is None
    assert stored(db, info.id).ended_at == clock.now
    clock.advance(-IDLE_S)
    assert manager.authenticate(token) is None


def test_activity_keeps_a_session_alive_past_the_idle_timeout(manager: SessionManager, ann: UserInfo, clock: Clock) -> None:
    token, _ = manager.create(ann, "203.0.113.7", "Firefox")
    for _ in range(4):
        clock.advance(IDLE_S - TOUCH_EVERY_S)
        assert manager.authenticate(token) is not None


def test_last_activity_is_written_at_most_every_touch_interval(db: MetaDB, manager: SessionManager, ann: UserInfo, clock: Clock) -> None:
    token, info = manager.create(ann, "203.0.113.7", "Firefox")
    clock.advance(TOUCH_EVERY_S - 1)
    assert manager.authenticate(token) is not None
    assert stored(db, info.id).last_seen_at == info.created_at
    clock.advance(1)
    _, session = manager.authenticate(token)  # type: ignore[misc]
    assert stored(db, info.id).last_seen_at == clock.now == session.last_seen_at


def test_a_session_ends_at_its_maximum_age_however_active(manager: SessionManager, ann: UserInfo, clock: Clock) -> None:
    token, info = manager.create(ann, "203.0.113.7", "Firefox")
    while clock.now + timedelta(seconds=IDLE_S / 2) < info.expires_at:
        clock.advance(IDLE_S / 2)
        assert manager.authenticate(token) is not None
    clock.now = info.expires_at
    assert manager.authenticate(token) is None


def test_ending_a_session_signs_it_out(manager: SessionManager, ann: UserInfo) -> None:
    token, info = manager.create(ann, "203.0.113.7", "Firefox")
    other, _ = manager.create(ann, "203.0.113.8", "Chrome")
    assert manager.end(info.id)
    assert not manager.end(info.id)
    assert manager.authenticate(token) is None
    assert manager.authenticate(other) is not None


def test_end_all_signs_a_user_out_everywhere_but_the_kept_session(manager: SessionManager, db: MetaDB, tenant: NewAccount, ann: UserInfo) -> None:
    bob = db.add_user(tenant.account_id, "bob@example.com", PASSWORD, "member")
    kept, kept_info = manager.create(ann, "203.0.113.7", "Firefox")
    ended = [manager.create(ann, "203.0.113.7", "Firefox")[0] for _ in range(2)]
    bobs, _ = manager.create(bob, "203.0.113.9", "Safari")
    assert manager.end_all(ann.id, keep=kept_info.id) == 2
    assert [manager.authenticate(t) for t in ended] == [None, None]
    assert manager.authenticate(kept) is not None and manager.authenticate(bobs) is not None
    assert manager.end_all(ann.id) == 1
    assert manager.authenticate(kept) is None


def test_disabling_or_changing_the_role_of_a_user_ends_their_sessions(manager: SessionManager, db: MetaDB, ann: UserInfo) -> None:
    first, _ = manager.create(ann, "203.0.113.7", "Firefox")
    db.update_user(ann.account_id, ann.id, role="member")
    assert manager.authenticate(first) is None
    second, _ = manager.create(ann, "203.0.113.7", "Firefox")
    db.update_user(ann.account_id, ann.id, disabled=True)
    assert manager.authenticate(second) is None


def test_a_disabled_user_has_no_session_even_if_one_was_left_open(manager: SessionManager, db: MetaDB, ann: UserInfo) -> None:
    token, _ = manager.create(ann, "203.0.113.7", "Firefox")
    with db.writing() as session:  # disabled behind the repositories' back: no session was ended
        session.execute(update(User).where(User.id == ann.id).values(disabled=True))
    assert manager.authenticate(token) is None


def test_unchanged_users_keep_their_sessions(manager: SessionManager, db: MetaDB, ann: UserInfo) -> None:
    token, _ = manager.create(ann, "203.0.113.7", "Firefox")
    db.update_user(ann.account_id, ann.id, role="admin", disabled=False)
    assert manager.authenticate(token) is not None
