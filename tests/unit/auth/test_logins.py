from __future__ import annotations

import stat
from datetime import timedelta
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyotp
import pytest
from clock import Clock
from sqlalchemy import select

from timberyard.auth.logins import (
    ALERT_EMAIL_FAILURES,
    ALERT_IP_FAILURES,
    FREE_FAILURES_PER_EMAIL,
    FREE_FAILURES_PER_IP,
    MAX_DELAY_S,
    WINDOW,
    LoginGuard,
    load_or_create_key,
)
from timberyard.auth.totp import STEP_S
from timberyard.core.errors import ConfigError
from timberyard.meta import logins
from timberyard.meta.database import MetaDB
from timberyard.meta.info import NewAccount, UserInfo
from timberyard.meta.models import LoginAttempt

PASSWORD = "plum kettle orbit ladder"
IP = "203.0.113.7"


@pytest.fixture
def guard(db: MetaDB, clock: Clock) -> LoginGuard:
    return LoginGuard(db, b"k" * 32, now=clock)


@pytest.fixture
def ann(db: MetaDB, tenant: NewAccount) -> UserInfo:
    return db.add_user(tenant.account_id, "ann@example.com", PASSWORD, "admin")


def attempts(db: MetaDB) -> list[LoginAttempt]:
    with db.reading() as session:
        return list(session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)))


def test_every_attempt_is_recorded_with_its_outcome(guard: LoginGuard, db: MetaDB, ann: UserInfo) -> None:
    assert guard.sign_in(" ANN@example.com ", PASSWORD, ip=IP, user_agent="Firefox").outcome == "success"
    assert guard.sign_in("ann@example.com", "wrong password!", ip=IP, user_agent="Firefox").outcome == "bad_password"
    assert guard.sign_in("nobody@example.com", PASSWORD, ip=IP, user_agent="curl").outcome == "unknown_user"
    assert guard.sign_in("not an email", PASSWORD, ip=IP, user_agent="curl").outcome == "unknown_user"
    db.update_user(ann.account_id, ann.id, disabled=True)
    assert guard.sign_in("ann@example.com", PASSWORD, ip=IP, user_agent="Firefox").outcome == "disabled"
    rows = [(a.email, a.outcome, a.account_id, a.user_id, a.ip, a.user_agent) for a in attempts(db)]
    assert rows == [
        ("ann@example.com", "success", ann.account_id, ann.id, IP, "Firefox"),
        ("ann@example.com", "bad_password", ann.account_id, ann.id, IP, "Firefox"),
        ("nobody@example.com", "unknown_user", None, None, IP, "curl"),
        ("not an email", "unknown_user", None, None, IP, "curl"),
        ("ann@example.com", "disabled", ann.account_id, ann.id, IP, "Firefox"),
    ]


def test_failures_beyond_the_free_ones_make_the_next_attempt_wait_longer_each_time(guard: LoginGuard, ann: UserInfo, clock: Clock) -> None:
    for _ in range(FREE_FAILURES_PER_EMAIL):
        assert guard.sign_in(ann.email, "wrong password!", ip=IP, user_agent="x").outcome == "bad_password"
    throttled = guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x")  # right password, not even checked
    assert (throttled.outcome, throttled.retry_after) == ("throttled", 2)
    clock.advance(2)
    assert guard.sign_in(ann.email, "wrong password!", ip=IP, user_agent="x").outcome == "bad_password"
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x").retry_after == 4
    clock.advance(4)
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x").outcome == "success"


def test_the_wait_never_exceeds_the_maximum(guard: LoginGuard, db: MetaDB, ann: UserInfo, clock: Clock) -> None:
    with db.writing() as session:  # a history no client could make: 30 failures in one instant
        for _ in range(30):
            logins.record_attempt(session, at=clock.now, email=ann.email, outcome="bad_password", ip=IP, user_agent="x")
    assert guard.sign_in(ann.email, PASSWORD, ip="198.51.100.1", user_agent="x").retry_after == MAX_DELAY_S


def test_failures_age_out_of_the_window(guard: LoginGuard, ann: UserInfo, clock: Clock) -> None:
    for _ in range(FREE_FAILURES_PER_EMAIL + 3):
        guard.sign_in(ann.email, "wrong password!", ip=IP, user_agent="x")
    clock.advance(WINDOW.total_seconds() + 1)
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x").outcome == "success"


def test_one_address_guessing_many_emails_is_slowed_but_other_addresses_are_not(guard: LoginGuard, ann: UserInfo) -> None:
    for n in range(FREE_FAILURES_PER_IP):
        assert guard.sign_in(f"guess{n}@example.com", "wrong password!", ip=IP, user_agent="x").outcome == "unknown_user"
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x").outcome == "throttled"
    assert guard.sign_in(ann.email, PASSWORD, ip="198.51.100.1", user_agent="x").outcome == "success"


def test_a_device_cookie_lets_its_user_in_while_their_email_is_under_attack(guard: LoginGuard, ann: UserInfo, clock: Clock) -> None:
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x").outcome == "success"
    cookie = guard.device_cookie(ann.email)
    for _ in range(100):
        guard.sign_in(ann.email, "wrong password!", ip=IP, user_agent="attacker")
        clock.advance(1)
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x").outcome == "throttled"
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x", device_cookie=cookie).outcome == "success"


def test_a_device_cookie_only_counts_for_its_own_email_and_when_untampered(guard: LoginGuard, db: MetaDB, tenant: NewAccount, ann: UserInfo) -> None:
    bob = db.add_user(tenant.account_id, "bob@example.com", PASSWORD, "member")
    anns_cookie = guard.device_cookie(ann.email)
    nonce, issued, mac = anns_cookie.split(".")
    for _ in range(FREE_FAILURES_PER_EMAIL):
        guard.sign_in(bob.email, "wrong password!", ip=IP, user_agent="x")
    for cookie in (anns_cookie, f"{nonce}x.{issued}.{mac}", f"{nonce}.{issued}.{mac[:-1]}0", "garbage"):
        assert guard.sign_in(bob.email, PASSWORD, ip=IP, user_agent="x", device_cookie=cookie).outcome == "throttled"


def test_failures_with_a_device_cookie_throttle_that_device(guard: LoginGuard, ann: UserInfo) -> None:
    cookie = guard.device_cookie(ann.email)
    for _ in range(FREE_FAILURES_PER_EMAIL):
        guard.sign_in(ann.email, "wrong password!", ip="198.51.100.1", user_agent="x", device_cookie=cookie)
    assert guard.sign_in(ann.email, PASSWORD, ip="198.51.100.2", user_agent="x", device_cookie=cookie).outcome == "throttled"
    assert guard.sign_in(ann.email, PASSWORD, ip="198.51.100.2", user_agent="x", device_cookie=guard.device_cookie(ann.email)).outcome == "success"


def test_an_expired_device_cookie_is_ignored(guard: LoginGuard, ann: UserInfo, clock: Clock) -> None:
    cookie = guard.device_cookie(ann.email)
    clock.advance(181 * 24 * 3600)
    for _ in range(FREE_FAILURES_PER_EMAIL):
        guard.sign_in(ann.email, "wrong password!", ip=IP, user_agent="x")
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x", device_cookie=cookie).outcome == "throttled"


def test_repeated_failures_for_one_email_raise_one_alert_per_window(guard: LoginGuard, ann: UserInfo, clock: Clock) -> None:
    raised = []
    for n in range(3 * ALERT_EMAIL_FAILURES):
        raised += [(n, a) for a in guard.sign_in(ann.email, "wrong password!", ip=f"198.51.100.{n}", user_agent="x").alerts]
    assert [(n, a.kind, a.value, a.account_id, a.failures) for n, a in raised] == [
        (ALERT_EMAIL_FAILURES - 1, "email", ann.email, ann.account_id, ALERT_EMAIL_FAILURES)
    ]
    clock.advance(WINDOW.total_seconds() + 1)
    for _ in range(ALERT_EMAIL_FAILURES):
        alerts = guard.sign_in(ann.email, "wrong password!", ip="198.51.100.1", user_agent="x").alerts
    assert [a.kind for a in alerts] == ["email"]


def test_repeated_failures_from_one_address_raise_an_alert_without_an_account(guard: LoginGuard) -> None:
    alerts = []
    for n in range(ALERT_IP_FAILURES):
        alerts += guard.sign_in(f"guess{n}@example.com", "wrong password!", ip=IP, user_agent="x").alerts
    assert [(a.kind, a.value, a.account_id, a.failures) for a in alerts] == [("ip", IP, "", ALERT_IP_FAILURES)]


def test_two_factor_users_need_a_fresh_code(guard: LoginGuard, db: MetaDB, ann: UserInfo, clock: Clock) -> None:
    secret = pyotp.random_base32()
    db.set_totp_secret(ann.id, secret)
    code = pyotp.TOTP(secret, interval=STEP_S).at(clock.now.timestamp())
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x").outcome == "totp_required"
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x", totp_code="000000" if code != "000000" else "111111").outcome == "bad_totp"
    assert guard.sign_in(ann.email, "wrong password!", ip=IP, user_agent="x", totp_code=code).outcome == "bad_password"
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x", totp_code=code).outcome == "success"
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x", totp_code=code).outcome == "bad_totp"


def test_an_account_requiring_two_factor_has_admins_enrol_at_sign_in(guard: LoginGuard, db: MetaDB, tenant: NewAccount, ann: UserInfo, clock: Clock) -> None:
    member = db.add_user(tenant.account_id, "bob@example.com", PASSWORD, "member")
    db.set_require_two_factor(tenant.account_id, True)
    assert guard.sign_in(member.email, PASSWORD, ip=IP, user_agent="x").outcome == "success"
    first = guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x")
    assert first.outcome == "enrolment_required" and first.enrolment is not None
    code = pyotp.TOTP(first.enrolment.secret, interval=STEP_S).at(clock.now.timestamp())
    assert guard.sign_in(ann.email, "wrong password!", ip=IP, user_agent="x", totp_code=code, enrolment_token=first.enrolment.token).outcome == "bad_password"
    done = guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x", totp_code=code, enrolment_token=first.enrolment.token)
    assert done.outcome == "success"
    assert db.get_user(ann.account_id, ann.id).two_factor
    assert guard.sign_in(ann.email, PASSWORD, ip=IP, user_agent="x").outcome == "totp_required"


def test_reauthentication_is_throttled_and_counts_wrong_passwords(guard: LoginGuard, db: MetaDB, ann: UserInfo) -> None:
    assert guard.reauthenticate(ann, PASSWORD, ip=IP, user_agent="x").outcome == "reauthenticated"
    for _ in range(FREE_FAILURES_PER_EMAIL):
        assert guard.reauthenticate(ann, "wrong password!", ip=IP, user_agent="x").outcome == "bad_password"
    refused = guard.reauthenticate(ann, PASSWORD, ip=IP, user_agent="x")
    assert (refused.outcome, refused.retry_after) == ("throttled", 2)
    assert [a.outcome for a in attempts(db)] == ["reauthenticated"] + ["bad_password"] * FREE_FAILURES_PER_EMAIL + ["throttled"]


def test_parallel_guesses_are_throttled_like_a_sequence(guard: LoginGuard, db: MetaDB, ann: UserInfo) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(lambda n: guard.sign_in(ann.email, f"guess {n}", ip=f"198.51.100.{n}", user_agent="x").outcome, range(16)))
    assert sorted(outcomes) == ["bad_password"] * FREE_FAILURES_PER_EMAIL + ["throttled"] * (16 - FREE_FAILURES_PER_EMAIL)
    assert "checking" not in {a.outcome for a in attempts(db)}


def test_an_attempt_left_checking_counts_as_a_failure(guard: LoginGuard, db: MetaDB, ann: UserInfo, clock: Clock) -> None:
    with db.writing() as session:  # as if the server had stopped during these password checks
        for _ in range(FREE_FAILURES_PER_EMAIL):
            logins.record_attempt(session, at=clock.now, email=ann.email, outcome="checking", ip=IP, user_agent="x")
    assert guard.sign_in(ann.email, PASSWORD, ip="198.51.100.1", user_agent="x").outcome == "throttled"


def test_the_key_is_made_once_privately_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "login.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    path.write_bytes(b"short")
    with pytest.raises(ConfigError, match="not a sign-in key"):
        load_or_create_key(path)


def test_old_attempts_are_pruned_and_recent_ones_kept(guard: LoginGuard, db: MetaDB, ann: UserInfo, clock: Clock) -> None:
    guard.sign_in(ann.email, "wrong password!", ip=IP, user_agent="ua")
    clock.advance((LoginGuard.KEEP + timedelta(hours=1)).total_seconds())
    guard.sign_in(ann.email, "wrong again!!", ip=IP, user_agent="ua")
    assert guard.prune() == 1
    with db.reading() as session:
        assert session.query(LoginAttempt).count() == 1
