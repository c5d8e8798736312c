"""Signing in, sessions, two-factor, throttling and the users API against a real server.

The server trusts loopback as a proxy, so each test signs in from its own address (an
`X-Forwarded-For` header) and with its own users: per-address throttling in one test never
touches another.
"""

from __future__ import annotations

import itertools
import json
import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pyotp
import pytest
from servers import Server, run_cli, start_server

from timberyard.auth.audit import AuditTrail
from timberyard.meta.audit import AuditEntryInfo
from timberyard.meta.database import MetaDB

PASSWORD = "plum kettle orbit ladder"
_addresses = itertools.count(1)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("auth"), TIMBERYARD_FORWARDED_ALLOW_IPS="127.0.0.1")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def short_sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("short"), TIMBERYARD_SESSION_IDLE_TIMEOUT_S="2", TIMBERYARD_SESSION_MAX_AGE_S="600"
    )
    yield running
    running.stop()


def new_address() -> str:
    n = next(_addresses)
    return f"10.{n // 65536}.{n // 256 % 256}.{n % 256}"


_browsers: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def close_browsers() -> Iterator[None]:
    yield
    while _browsers:
        _browsers.pop().close()


def browser(server: Server, address: str | None = None) -> httpx.Client:
    """A client with a cookie jar, at its own address; closed after the test."""
    client = httpx.Client(base_url=server.url, headers={"X-Forwarded-For": address or new_address()}, timeout=30)
    _browsers.append(client)
    return client


def login(client: httpx.Client, email: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
    return client.post("/api/v1/auth/login", json={"email": email, "password": password, **extra})


def admin(server: Server, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, auth=(key or server.service_key, ""), timeout=30, **kwargs)


def new_user(server: Server, role: str = "member", key: str | None = None) -> dict[str, Any]:
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = admin(server, "POST", "/api/v1/users", key, json={"email": email, "role": role, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return dict(response.json())


def audit_entries(server: Server, account_id: str, action: str) -> list[AuditEntryInfo]:
    with MetaDB.open(f"sqlite:///{server.data_dir / 'metadata.sqlite3'}") as meta:
        return [e for e in AuditTrail(meta, None).entries(account_id, limit=1000) if e.action == action]


def signed_in(server: Server, email: str, password: str = PASSWORD) -> tuple[httpx.Client, dict[str, Any]]:
    client = browser(server)
    response = login(client, email, password)
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client, response.json()


def other_account(server: Server) -> dict[str, Any]:
    """A second account with its admin key and an owner made with the CLI."""
    created = json.loads(run_cli("accounts", "create", f"acct-{uuid.uuid4().hex[:8]}", "--data-dir", str(server.data_dir), "--json").stdout)
    owner = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    run_cli("users", "add", owner, "--role", "owner", "--account", created["account_name"], "--password-stdin",
            "--data-dir", str(server.data_dir), input=f"{PASSWORD}\n".encode())
    return {**created, "owner": owner}


def test_signing_in_sets_a_hardened_session_cookie(node: Server) -> None:
    user = new_user(node)
    with browser(node) as client:
        response = login(client, user["email"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["user"]["email"] == user["email"] and body["user"]["role"] == "member"
        assert body["account"] == {"id": node.credentials["account"], "name": node.credentials["account_name"], "retention_days": 30}
        assert len(body["csrf_token"]) >= 43 and body["idle_timeout_s"] == 900
        cookies = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
        session = [part.strip().lower() for part in cookies["timberyard_session"].split(";")]
        assert {"httponly", "samesite=lax", "path=/"} <= set(session)
        assert "secure" not in session and not any(p.startswith(("max-age", "expires")) for p in session)
        device = [part.strip().lower() for part in cookies["timberyard_device"].split(";")]
        assert {"httponly", "samesite=strict", "path=/api/v1/auth"} <= set(device)
        me = client.get("/api/v1/auth/me")
        assert me.status_code == 200, me.text
        assert me.json()["user"]["id"] == user["id"] and me.json()["csrf_token"] == body["csrf_token"]
        assert "logs.read" in me.json()["permissions"] and "users.manage" not in me.json()["permissions"]
    with browser(node) as client:
        secure = client.post("/api/v1/auth/login", json={"email": user["email"], "password": PASSWORD},
                             headers={"X-Forwarded-Proto": "https"})
        assert secure.status_code == 200, secure.text
        assert all("secure" in [p.strip().lower() for p in c.split(";")] for c in secure.headers.get_list("set-cookie"))
    assert [e.target for e in audit_entries(node, node.credentials["account"], "login.success")].count(user["email"]) == 2


def test_unknown_email_wrong_password_and_disabled_user_are_answered_alike(node: Server) -> None:
    user = new_user(node)
    disabled = new_user(node)
    assert admin(node, "PATCH", f"/api/v1/users/{disabled['id']}", json={"disabled": True}).status_code == 200
    cases = {
        "unknown": (f"nobody-{uuid.uuid4().hex[:8]}@example.com", PASSWORD),
        "wrong": (user["email"], PASSWORD + "!"),
        "disabled": (disabled["email"], PASSWORD),
    }
    answers: dict[str, list[tuple[int, Any, list[str]]]] = {name: [] for name in cases}
    took: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(3):
        for name, (email, password) in cases.items():
            with browser(node) as client:
                started = time.perf_counter()
                response = login(client, email, password)
                took[name].append(time.perf_counter() - started)
            answers[name].append((response.status_code, response.json(), sorted(k for k in response.headers if k != "date")))
    expected = (401, {"error": "wrong email or password", "code": "LoginFailed", "status": "error"})
    for name in cases:
        assert all((status, body) == expected for status, body, _ in answers[name]), answers[name]
    assert answers["unknown"][0][2] == answers["wrong"][0][2] == answers["disabled"][0][2]
    # An unknown email pays for a password check too (argon2: tens of ms), or timing would tell.
    assert statistics.median(took["unknown"]) > 0.5 * statistics.median(took["wrong"])


def test_logout_ends_the_session_on_the_server(node: Server) -> None:
    user = new_user(node)
    client, _ = signed_in(node, user["email"])
    token = client.cookies["timberyard_session"]
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 200, response.text
    assert 'timberyard_session=""' in response.headers["set-cookie"] or "max-age=0" in response.headers["set-cookie"].lower()
    replayed = httpx.get(node.url + "/api/v1/auth/me", cookies={"timberyard_session": token}, timeout=30)
    assert replayed.status_code == 401 and replayed.json()["code"] == "SessionEnded"
    assert [e.actor_id for e in audit_entries(node, node.credentials["account"], "logout")].count(user["id"]) == 1


def test_cookie_writes_need_the_sessions_csrf_token(node: Server) -> None:
    user = new_user(node)
    client, body = signed_in(node, user["email"])
    del client.headers["X-CSRF-Token"]
    assert client.get("/api/v1/auth/me").status_code == 200  # reads need none
    missing = client.post("/api/v1/auth/logout")
    assert missing.status_code == 403 and missing.json()["code"] == "CsrfFailed"
    wrong = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"][:-2] + "xx"})
    assert wrong.status_code == 403 and wrong.json()["code"] == "CsrfFailed"
    assert client.get("/api/v1/auth/me").status_code == 200  # the refused logouts did nothing
    right = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": body["csrf_token"]})
    assert right.status_code == 200, right.text


def test_disabling_a_user_ends_all_their_sessions(node: Server) -> None:
    user = new_user(node)
    first, _ = signed_in(node, user["email"])
    second, _ = signed_in(node, user["email"])
    response = admin(node, "PATCH", f"/api/v1/users/{user['id']}", json={"disabled": True})
    assert response.status_code == 200 and response.json()["disabled"] is True
    for client in (first, second):
        ended = client.get("/api/v1/auth/me")
        assert ended.status_code == 401 and ended.json()["code"] == "SessionEnded"
    assert login(browser(node), user["email"]).json()["code"] == "LoginFailed"
    assert any(e.target == f"user {user['id']}" for e in audit_entries(node, node.credentials["account"], "user.disable"))
    assert admin(node, "PATCH", f"/api/v1/users/{user['id']}", json={"disabled": False}).status_code == 200
    assert login(browser(node), user["email"]).status_code == 200


def test_a_password_guesser_is_throttled_reported_and_does_not_lock_out_the_real_user(node: Server) -> None:
    user = new_user(node)
    with browser(node) as real:
        assert login(real, user["email"]).status_code == 200  # earlier sign-in: leaves a device cookie
        attacker = browser(node)
        statuses = []
        for n in range(100):
            response = login(attacker, user["email"], f"guess number {n:03d}")
            statuses.append(response.status_code)
            if response.status_code == 429:
                assert response.json()["code"] == "TooManyRequests"
                assert 1 <= int(response.headers["retry-after"]) <= 900
        assert set(statuses) == {401, 429} and statuses.count(429) >= 90, statuses
        assert login(attacker, user["email"]).status_code == 429  # the right password, but not checked
        assert login(browser(node), user["email"]).status_code == 429  # per email, from anywhere
        assert login(real, user["email"]).status_code == 200  # the device cookie lets the real user in
    events = [e for e in audit_entries(node, node.credentials["account"], "security.login_failures") if e.target == f"email {user['email']}"]
    assert len(events) == 1 and events[0].details["failures"] >= 10, events
    address = attacker.headers["X-Forwarded-For"]
    system_events = audit_entries(node, "", "security.login_failures")
    assert [e.details["failures"] >= 20 for e in system_events if e.target == f"ip {address}"] == [True]
    failures = [e for e in audit_entries(node, node.credentials["account"], "login.failure") if e.target == user["email"]]
    assert len(failures) == 102 and {e.details["reason"] for e in failures} == {"bad_password", "throttled"}
    assert sum(e.ip == address for e in failures) == 101


def test_a_session_ends_after_the_idle_timeout(short_sessions: Server) -> None:
    email, password = short_sessions.credentials["owner_email"], short_sessions.credentials["owner_password"]
    client, body = signed_in(short_sessions, email, password)
    assert body["idle_timeout_s"] == 2
    assert client.get("/api/v1/auth/me").status_code == 200
    time.sleep(3)
    ended = client.get("/api/v1/auth/me")
    assert ended.status_code == 401 and ended.json()["code"] == "SessionEnded"


def test_the_session_reports_its_absolute_end(node: Server) -> None:
    user = new_user(node)
    before = time.time()
    _, body = signed_in(node, user["email"])
    expires = time.mktime(time.strptime(body["expires_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert before + 43_200 - 5 <= expires <= time.time() + 43_200 + 5


def test_changing_the_password_checks_the_old_one_and_signs_out_other_sessions(node: Server) -> None:
    user = new_user(node)
    client, _ = signed_in(node, user["email"])
    other, _ = signed_in(node, user["email"])
    new_password = "a brand new passphrase"
    weak = client.post("/api/v1/auth/password", json={"current": PASSWORD, "new": "qwerty123456"})
    assert weak.status_code == 400 and "common" in weak.json()["error"]
    wrong = client.post("/api/v1/auth/password", json={"current": "not my password", "new": new_password})
    assert wrong.status_code == 403
    done = client.post("/api/v1/auth/password", json={"current": PASSWORD, "new": new_password})
    assert done.status_code == 200, done.text
    assert client.get("/api/v1/auth/me").status_code == 200
    assert other.get("/api/v1/auth/me").json()["code"] == "SessionEnded"
    assert login(browser(node), user["email"]).status_code == 401
    assert login(browser(node), user["email"], new_password).status_code == 200


def test_two_factor_codes_are_needed_once_enrolled_and_work_only_once(node: Server) -> None:
    user = new_user(node)
    client, _ = signed_in(node, user["email"])
    enrolment = client.post("/api/v1/auth/totp/enrol").json()
    totp = pyotp.TOTP(enrolment["secret"])
    bad = client.post("/api/v1/auth/totp/confirm", json={"enrolment": enrolment["enrolment"], "code": "12345"})
    assert bad.status_code == 400
    confirmed = client.post("/api/v1/auth/totp/confirm", json={"enrolment": enrolment["enrolment"], "code": totp.now()})
    assert confirmed.status_code == 200 and client.get("/api/v1/auth/me").json()["user"]["two_factor"] is True
    with browser(node) as other:
        missing = login(other, user["email"])
        assert missing.status_code == 401 and missing.json()["code"] == "TwoFactorRequired"
        wrong_password = login(other, user["email"], "not the password", totp=totp.at(time.time() + 30))
        assert wrong_password.json()["code"] == "LoginFailed"
        code = totp.at(time.time() + 30)  # the next step's code: the current one was used to confirm
        assert login(other, user["email"], totp=code).status_code == 200
    with browser(node) as replay:
        replayed = login(replay, user["email"], totp=code)
        assert replayed.status_code == 401 and replayed.json()["code"] == "TwoFactorRequired"
    refused = client.post("/api/v1/auth/totp/disable", json={"password": "not the password", "code": totp.now()})
    assert refused.status_code == 403
    assert client.get("/api/v1/auth/me").json()["user"]["two_factor"] is True


def test_an_account_requiring_two_factor_makes_admins_enrol_before_signing_in(node: Server) -> None:
    other = other_account(node)
    key = other["service_key"]
    member = new_user(node, "member", key)
    response = admin(node, "PATCH", "/api/v1/account", key, json={"require_two_factor": True})
    assert response.status_code == 200 and response.json()["require_two_factor"] is True
    assert [e.details for e in audit_entries(node, other["account"], "account.require_two_factor")] == [{"from": False, "to": True}]
    assert login(browser(node), member["email"]).status_code == 200  # members are not concerned
    with browser(node) as client:
        refused = login(client, other["owner"])
        assert refused.status_code == 403 and refused.json()["code"] == "TwoFactorEnrolmentRequired"
        enrolment = refused.json()["enrolment"]
        code = pyotp.TOTP(enrolment["secret"]).now()
        done = login(client, other["owner"], totp=code, enrolment=enrolment["enrolment"])
        assert done.status_code == 200, done.text
        client.headers["X-CSRF-Token"] = done.json()["csrf_token"]
        assert client.get("/api/v1/auth/me").json()["user"]["two_factor"] is True
        kept = client.post("/api/v1/auth/totp/disable", json={"password": PASSWORD, "code": pyotp.TOTP(enrolment["secret"]).at(time.time() + 30)})
        assert kept.status_code == 403
    again = login(browser(node), other["owner"])
    assert again.status_code == 401 and again.json()["code"] == "TwoFactorRequired"


def test_users_are_managed_within_the_callers_account_only(node: Server) -> None:
    other = other_account(node)
    mine = new_user(node)
    listed = admin(node, "GET", "/api/v1/users").json()["users"]
    assert mine["id"] in {u["id"] for u in listed} and all(u["account_id"] == node.credentials["account"] for u in listed)
    assert mine["id"] not in {u["id"] for u in admin(node, "GET", "/api/v1/users", other["service_key"]).json()["users"]}
    foreign = admin(node, "PATCH", f"/api/v1/users/{mine['id']}", other["service_key"], json={"disabled": True})
    assert foreign.status_code == 404
    assert not any(u["disabled"] for u in admin(node, "GET", "/api/v1/users").json()["users"] if u["id"] == mine["id"])
    owner_role = admin(node, "POST", "/api/v1/users", json={"email": "x@example.com", "role": "owner", "password": PASSWORD})
    assert owner_role.status_code == 400
    short = admin(node, "POST", "/api/v1/users", json={"email": "y@example.com", "role": "member", "password": "too short"})
    assert short.status_code == 400 and "at least 12" in short.json()["error"]
    duplicate = admin(node, "POST", "/api/v1/users", json={"email": mine["email"], "role": "member", "password": PASSWORD})
    assert duplicate.status_code == 409
    promoted = admin(node, "PATCH", f"/api/v1/users/{mine['id']}", json={"role": "owner"})
    assert promoted.status_code == 400
    owners = [u for u in listed if u["role"] == "owner"]
    assert admin(node, "PATCH", f"/api/v1/users/{owners[0]['id']}", json={"disabled": True}).status_code == 403
    changed = admin(node, "PATCH", f"/api/v1/users/{mine['id']}", json={"role": "readonly"})
    assert changed.status_code == 200 and changed.json()["role"] == "readonly"
    roles = audit_entries(node, node.credentials["account"], "user.role")
    assert any(e.details == {"email": mine["email"], "from": "member", "to": "readonly"} for e in roles)


def test_the_owner_transfers_ownership_and_becomes_admin(node: Server) -> None:
    other = other_account(node)
    successor = new_user(node, "admin", other["service_key"])
    assert admin(node, "POST", "/api/v1/account/owner", other["service_key"], json={"user_id": successor["id"]}).status_code == 403
    client, _ = signed_in(node, other["owner"])
    token = client.cookies["timberyard_session"]
    response = client.post("/api/v1/account/owner", json={"user_id": successor["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["owner"]["email"] == successor["email"]
    assert response.json()["previous_owner"]["role"] == "admin"
    roles = {u["email"]: u["role"] for u in admin(node, "GET", "/api/v1/users", other["service_key"]).json()["users"]}
    assert roles == {other["owner"]: "admin", successor["email"]: "owner"}
    ended = httpx.get(node.url + "/api/v1/auth/me", cookies={"timberyard_session": token}, timeout=30)
    assert ended.json()["code"] == "SessionEnded"  # the old owner was signed out
    transfers = audit_entries(node, other["account"], "owner.transfer")
    assert [e.details for e in transfers] == [{"from": other["owner"], "to": successor["email"]}]


def test_bad_login_bodies_are_clear_bad_requests(node: Server) -> None:
    with browser(node) as client:
        for body in (b"", b"[]", b"{not json", json.dumps({"email": "a@example.com"}).encode(),
                     json.dumps({"email": 5, "password": "x"}).encode()):
            response = client.post("/api/v1/auth/login", content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, (body, response.text)
            assert response.json()["code"] == "BadRequest"


def test_api_keys_see_who_they_are_but_have_no_session(node: Server) -> None:
    me = admin(node, "GET", "/api/v1/auth/me")
    assert me.status_code == 200 and me.json()["user"] is None and me.json()["role"] == "admin"
    assert me.json()["account"]["id"] == node.credentials["account"]
    assert admin(node, "POST", "/api/v1/auth/logout").status_code == 400
