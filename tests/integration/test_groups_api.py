"""Groups, break-glass grants and key rotation, driven over HTTP (and the CLI) against a real server.

Users are added, and owners and responders signed in, through the server's own metadata
database and SessionManager, exactly as the sign-in form would leave them: the server reads
the same SQLite file.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from servers import Server, run_cli
from timberyard.auth.sessions import SessionManager
from timberyard.config.settings import load_settings
from timberyard.meta import users
from timberyard.meta.database import MetaDB
from timberyard.meta.models import AuditEntry
from timberyard.web.access import CSRF_HEADER, SESSION_COOKIE

PASSWORD = "correct horse battery staple"


class Caller:
    """A service key, or a signed-in user's session (cookie plus its CSRF token)."""

    def __init__(self, server: Server, key: str | None = None, session: tuple[str, str] | None = None) -> None:
        self.server, self.key, self.session = server, key, session

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.key is not None:
            kwargs["auth"] = (self.key, "")
        if self.session is not None:
            token, csrf = self.session
            kwargs["headers"] = {"Cookie": f"{SESSION_COOKIE}={token}", CSRF_HEADER: csrf, **kwargs.get("headers", {})}
        return httpx.request(method, self.server.url + path, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def meta(server: Server) -> Iterator[MetaDB]:
    with MetaDB.open(load_settings(None, data_dir=server.data_dir).resolved_metadata_url) as db:
        yield db


@pytest.fixture(scope="module")
def world(server: Server, meta: MetaDB) -> dict[str, Any]:
    """Account A (init's) with an owner, an admin, a responder and a viewer, each signed in;
    account B with its own admin key and a user; role keys of A."""
    account = server.credentials["account"]
    people = {
        role: meta.add_user(account, f"{role}-{uuid.uuid4().hex[:6]}@example.com", PASSWORD, role)
        for role in ("admin", "member", "readonly")
    }
    with meta.reading() as session:
        owner = users.user_by_email(session, server.credentials["owner_email"])
    other = json.loads(run_cli("accounts", "create", f"b-{uuid.uuid4().hex[:6]}", "--data-dir", str(server.data_dir), "--json").stdout)
    outsider = meta.add_user(other["account"], f"outsider-{uuid.uuid4().hex[:6]}@example.com", PASSWORD, "member")
    sign_in = SessionManager(meta, idle_timeout_s=3600, max_age_s=3600)
    sessions = {}
    for name, user in {"owner": owner, **people}.items():
        token, info = sign_in.create(user, "127.0.0.1", "pytest")
        sessions[name] = Caller(server, session=(token, info.csrf_token))
    keys = {}
    for role in ("readonly", "member"):
        made = Caller(server, server.service_key)("POST", "/api/v1/keys", json={"type": "service", "role": role})
        assert made.status_code == 201, made.text
        keys[role] = Caller(server, made.json()["key"])
    return {
        "admin_key": Caller(server, server.service_key),
        "other_admin_key": Caller(server, other["service_key"]),
        "keys": keys,
        "users": {"owner": owner, **people},
        "sessions": sessions,
        "outsider": outsider,
        "other_account": other,
    }


def audit_entries(meta: MetaDB, action: str) -> list[dict[str, Any]]:
    with meta.reading() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        return [{"target": r.target, "actor": r.actor_name, "account": r.account_id, "details": json.loads(r.details)} for r in rows]


def new_name() -> str:
    return f"g-{uuid.uuid4().hex[:8]}"


# groups


def test_group_lifecycle(world: dict[str, Any], meta: MetaDB) -> None:
    api = world["admin_key"]
    name = new_name()
    created = api("POST", "/api/v1/groups", json={"name": name, "scope": "app:payments"})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name and created.json()["scope"] == "app:payments" and created.json()["members"] == []

    assert api("GET", f"/api/v1/groups/{name}").json()["scope"] == "app:payments"
    assert name in [g["name"] for g in api("GET", "/api/v1/groups").json()["groups"]]

    patched = api("PATCH", f"/api/v1/groups/{name}", json={"scope": "app:payments OR app:billing"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["scope"] == "app:payments OR app:billing"

    emptied = api("PATCH", f"/api/v1/groups/{name}", json={"scope": ""})
    assert emptied.status_code == 200 and emptied.json()["scope"] == ""

    deleted = api("DELETE", f"/api/v1/groups/{name}")
    assert deleted.status_code == 200 and deleted.json()["name"] == name
    gone = api("GET", f"/api/v1/groups/{name}")
    assert gone.status_code == 404 and gone.json()["code"] == "NotFound"

    updates = [e for e in audit_entries(meta, "group.update") if e["target"] == f"group {name}"]
    assert [e["details"]["previous_scope"] for e in updates] == ["app:payments", "app:payments OR app:billing"]
    assert any(e["target"] == f"group {name}" for e in audit_entries(meta, "group.create"))
    assert any(e["target"] == f"group {name}" for e in audit_entries(meta, "group.delete"))


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "broken", "scope": "app:("}, 400, "QuerySyntaxError"),
        ({"name": "", "scope": "app:x"}, 400, "BadRequest"),
        ({"name": "a/b", "scope": "app:x"}, 400, "BadRequest"),
        ({"name": "x" * 101, "scope": "app:x"}, 400, "BadRequest"),
        ({"name": "noscope"}, 400, "BadRequest"),
        ({"name": 5, "scope": "app:x"}, 400, "BadRequest"),
        (["not", "an", "object"], 400, "BadRequest"),
    ],
)
def test_bad_groups_are_refused_clearly(world: dict[str, Any], body: Any, status: int, code: str) -> None:
    response = world["admin_key"]("POST", "/api/v1/groups", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and response.json()["error"]


def test_a_bad_scope_names_the_position(world: dict[str, Any]) -> None:
    response = world["admin_key"]("POST", "/api/v1/groups", json={"name": new_name(), "scope": "app:payments (level:error"})
    assert response.status_code == 400
    assert response.json()["code"] == "QuerySyntaxError" and isinstance(response.json()["position"], int)


def test_duplicate_names_conflict(world: dict[str, Any]) -> None:
    name = new_name()
    assert world["admin_key"]("POST", "/api/v1/groups", json={"name": name, "scope": ""}).status_code == 201
    again = world["admin_key"]("POST", "/api/v1/groups", json={"name": name, "scope": "app:x"})
    assert again.status_code == 409 and again.json()["code"] == "Conflict"


def test_members(world: dict[str, Any], meta: MetaDB) -> None:
    api, member = world["admin_key"], world["users"]["member"]
    name = new_name()
    api("POST", "/api/v1/groups", json={"name": name, "scope": "app:payments"})
    added = api("POST", f"/api/v1/groups/{name}/members", json={"email": member.email.upper()})
    assert added.status_code == 200, added.text
    assert added.json()["members"] == [member.email]
    listed = {g["name"]: g for g in api("GET", "/api/v1/groups").json()["groups"]}
    assert listed[name]["members"] == [member.email]

    outsider = api("POST", f"/api/v1/groups/{name}/members", json={"email": world["outsider"].email})
    assert outsider.status_code == 404 and world["other_account"]["account"] not in outsider.text
    assert api("POST", f"/api/v1/groups/{name}/members", json={}).status_code == 400

    removed = api("DELETE", f"/api/v1/groups/{name}/members/{member.email}")
    assert removed.status_code == 200 and removed.json()["members"] == []
    again = api("DELETE", f"/api/v1/groups/{name}/members/{member.email}")
    assert again.status_code == 404
    assert {"email": member.email} in [e["details"] for e in audit_entries(meta, "group.member_add") if e["target"] == f"group {name}"]
    assert {"email": member.email} in [e["details"] for e in audit_entries(meta, "group.member_remove") if e["target"] == f"group {name}"]


def test_another_accounts_groups_are_invisible(world: dict[str, Any]) -> None:
    name = new_name()
    assert world["admin_key"]("POST", "/api/v1/groups", json={"name": name, "scope": "app:x"}).status_code == 201
    theirs = world["other_admin_key"]
    assert name not in [g["name"] for g in theirs("GET", "/api/v1/groups").json()["groups"]]
    for method, path, body in (
        ("GET", f"/api/v1/groups/{name}", None),
        ("PATCH", f"/api/v1/groups/{name}", {"scope": ""}),
        ("DELETE", f"/api/v1/groups/{name}", None),
        ("POST", f"/api/v1/groups/{name}/members", {"email": world["outsider"].email}),
    ):
        response = theirs(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert world["admin_key"]("GET", f"/api/v1/groups/{name}").json()["scope"] == "app:x"


@pytest.mark.parametrize("caller", ["readonly", "member"])
def test_only_admins_manage_groups(world: dict[str, Any], caller: str) -> None:
    for make in (lambda: world["keys"][caller], lambda: world["sessions"][caller]):
        api = make()
        for method, path in (("GET", "/api/v1/groups"), ("POST", "/api/v1/groups")):
            response = api(method, path, json={"name": new_name(), "scope": ""} if method == "POST" else None)
            assert response.status_code == 403 and response.json()["code"] == "PermissionDenied", response.text
    nobody = httpx.get(world["admin_key"].server.url + "/api/v1/groups", timeout=10)
    assert nobody.status_code == 401


def test_admin_sessions_manage_groups_with_the_csrf_token(world: dict[str, Any]) -> None:
    admin = world["sessions"]["admin"]
    made = admin("POST", "/api/v1/groups", json={"name": new_name(), "scope": "host:web-1"})
    assert made.status_code == 201, made.text
    token, _ = admin.session
    forged = httpx.post(admin.server.url + "/api/v1/groups", json={"name": new_name(), "scope": ""},
                        headers={"Cookie": f"{SESSION_COOKIE}={token}"}, timeout=10)
    assert forged.status_code == 403 and forged.json()["code"] == "CsrfFailed"


# break-glass


def _ingest(server: Server, app: str, text: str) -> None:
    before = server.metric("timberyard_store_lines_total")
    response = server.ingest([{"line": text, "app": app}])
    assert response.status_code == 200, response.text
    server.wait_stored(before + 1)


def _seen_by(api: Caller, marker: str) -> set[str]:
    response = api("GET", "/api/v1/search", params={"q": marker, "from": "1h"})
    assert response.status_code == 200, response.text
    return {line["app"] for line in response.json()["lines"]}


def test_break_glass_lifts_the_scope_until_revoked_and_is_audited(server: Server, world: dict[str, Any], meta: MetaDB) -> None:
    owner, responder = world["sessions"]["owner"], world["users"]["member"]
    marker = f"bg{uuid.uuid4().hex[:10]}"
    _ingest(server, "payments", f"{marker} in scope")
    _ingest(server, "secrets", f"{marker} out of scope")
    group = new_name()
    world["admin_key"]("POST", "/api/v1/groups", json={"name": group, "scope": "app:payments"})
    world["admin_key"]("POST", f"/api/v1/groups/{group}/members", json={"email": responder.email})
    as_responder = world["sessions"]["member"]
    assert _seen_by(as_responder, marker) == {"payments"}

    made = owner("POST", "/api/v1/access-grants", json={"email": responder.email, "reason": "incident 42", "duration_s": 600})
    assert made.status_code == 201, made.text
    grant = made.json()
    assert grant["email"] == responder.email and grant["active"] and grant["reason"] == "incident 42"
    assert grant["granted_by_email"] == world["users"]["owner"].email
    assert world["users"]["admin"].email in grant["notified"] and world["users"]["owner"].email not in grant["notified"]
    assert grant["id"] in [g["id"] for g in owner("GET", "/api/v1/access-grants").json()["grants"]]
    assert _seen_by(as_responder, marker) == {"payments", "secrets"}

    revoked = owner("DELETE", f"/api/v1/access-grants/{grant['id']}")
    assert revoked.status_code == 200 and not revoked.json()["active"] and revoked.json()["revoked_at"]
    assert grant["id"] not in [g["id"] for g in owner("GET", "/api/v1/access-grants").json()["grants"]]
    assert _seen_by(as_responder, marker) == {"payments"}

    entries = [e for e in audit_entries(meta, "security.break_glass") if e["details"]["grant_id"] == grant["id"]]
    assert [e["details"]["event"] for e in entries] == ["grant", "revoke"]
    for entry in entries:
        assert entry["actor"] == world["users"]["owner"].email and entry["target"] == f"user {responder.email}"
        assert entry["details"]["reason"] == "incident 42"
        notified = {n["email"]: n["role"] for n in entry["details"]["notified"]}
        assert notified[world["users"]["admin"].email] == "admin"
        assert world["users"]["owner"].email not in notified


def test_only_an_owner_session_grants(world: dict[str, Any]) -> None:
    body = {"email": world["users"]["member"].email, "reason": "incident", "duration_s": 600}
    for api in (world["admin_key"], world["sessions"]["admin"], world["keys"]["member"]):
        response = api("POST", "/api/v1/access-grants", json=body)
        assert response.status_code == 403, response.text
        assert api("GET", "/api/v1/access-grants").status_code == 403
    owner = world["sessions"]["owner"]
    token, _ = owner.session
    forged = httpx.post(owner.server.url + "/api/v1/access-grants", json=body, headers={"Cookie": f"{SESSION_COOKIE}={token}"}, timeout=10)
    assert forged.status_code == 403 and forged.json()["code"] == "CsrfFailed"
    assert all(g["email"] != body["email"] or g["reason"] != "incident" for g in owner("GET", "/api/v1/access-grants").json()["grants"])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"reason": "r", "duration_s": 600}, 400),
        ({"email": "MEMBER", "reason": "", "duration_s": 600}, 400),
        ({"email": "MEMBER", "reason": "x" * 501, "duration_s": 600}, 400),
        ({"email": "MEMBER", "reason": "r"}, 400),
        ({"email": "MEMBER", "reason": "r", "duration_s": 59}, 400),
        ({"email": "MEMBER", "reason": "r", "duration_s": 86_401}, 400),
        ({"email": "MEMBER", "reason": "r", "duration_s": "600"}, 400),
        ({"email": "nobody@example.com", "reason": "r", "duration_s": 600}, 404),
        ({"email": "OUTSIDER", "reason": "r", "duration_s": 600}, 404),
    ],
)
def test_bad_grants_are_refused_clearly(world: dict[str, Any], body: dict[str, Any], status: int) -> None:
    emails = {"MEMBER": world["users"]["member"].email, "OUTSIDER": world["outsider"].email}
    body = {k: emails.get(v, v) if k == "email" else v for k, v in body.items()}
    response = world["sessions"]["owner"]("POST", "/api/v1/access-grants", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] and response.json()["code"] in ("BadRequest", "NotFound")


def test_another_accounts_grant_cannot_be_revoked(world: dict[str, Any]) -> None:
    owner = world["sessions"]["owner"]
    response = owner("DELETE", "/api/v1/access-grants/0123456789abcdef0123456789abcdef")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


# key rotation


def test_rotation_keeps_the_old_key_for_the_grace_period(server: Server, world: dict[str, Any], meta: MetaDB) -> None:
    api = world["admin_key"]
    made = api("POST", "/api/v1/keys", json={"type": "ingestion", "name": "shipper"}).json()
    rotated = api("POST", f"/api/v1/keys/{made['id']}/rotate", json={"grace_s": 1})
    assert rotated.status_code == 201, rotated.text
    body = rotated.json()
    assert (body["type"], body["name"], body["old"]["id"]) == ("ingestion", "shipper", made["id"])
    assert body["old"]["expires_at"] and body["expires_at"] is None
    host = f"rot-{uuid.uuid4().hex[:6]}"
    assert server.ingest([{"line": "old key in grace"}], key=made["key"], params={"hostname": host}).status_code == 200
    assert server.ingest([{"line": "new key"}], key=body["key"], params={"hostname": host}).status_code == 200
    # The server runs on the wall clock: wait for the expiry it stated, not a guessed margin.
    ends = datetime.fromisoformat(body["old"]["expires_at"]).timestamp()
    time.sleep(max(0.0, ends - time.time()) + 0.05)
    refused = server.ingest([{"line": "old key after grace"}], key=made["key"], params={"hostname": host})
    assert refused.status_code == 403 and refused.json()["error"] == "Account not found or inactive"
    assert server.ingest([{"line": "new key still"}], key=body["key"], params={"hostname": host}).status_code == 200
    listed = {k["id"]: k for k in api("GET", "/api/v1/keys").json()["keys"]}
    assert not listed[made["id"]]["active"] and listed[made["id"]]["expires_at"] == body["old"]["expires_at"]
    assert "last_used_at" in listed[made["id"]]
    assert any(e["target"] == f"key {made['id']}" and e["details"]["new_key"] == body["id"] for e in audit_entries(meta, "key.rotate"))


def test_rotation_refusals(world: dict[str, Any]) -> None:
    api = world["admin_key"]
    made = api("POST", "/api/v1/keys", json={"type": "service", "role": "readonly"}).json()
    for grace in (-1, 30 * 86400 + 1, "1h"):
        bad = api("POST", f"/api/v1/keys/{made['id']}/rotate", json={"grace_s": grace})
        assert bad.status_code == 400 and "grace_s" in bad.json()["error"]
    theirs = world["other_admin_key"]("POST", f"/api/v1/keys/{made['id']}/rotate")
    assert theirs.status_code == 404
    assert world["keys"]["member"]("POST", f"/api/v1/keys/{made['id']}/rotate").status_code == 403
    api("DELETE", f"/api/v1/keys/{made['id']}")
    revoked = api("POST", f"/api/v1/keys/{made['id']}/rotate")
    assert revoked.status_code == 409 and revoked.json()["code"] == "Conflict"


def test_cli_rotates_with_a_grace_period(server: Server, world: dict[str, Any]) -> None:
    made = world["admin_key"]("POST", "/api/v1/keys", json={"type": "service", "role": "member", "name": "cli"}).json()
    out = run_cli("keys", "rotate", made["id"], "--grace", "2h", "--server", server.url, "--key", server.service_key)
    rotated = json.loads(out.stdout)
    assert (rotated["role"], rotated["name"], rotated["old"]["id"]) == ("member", "cli", made["id"])
    bad = run_cli("keys", "rotate", made["id"], "--grace", "soon", "--server", server.url, "--key", server.service_key, check=False)
    assert bad.returncode != 0 and "30m, 24h or 7d" in bad.stderr.decode()


# CLI on the data directory


def test_cli_manages_groups_beside_the_running_server(server: Server, world: dict[str, Any]) -> None:
    data = ["--data-dir", str(server.data_dir)]
    account = ["--account", server.credentials["account_name"]]
    name = new_name()
    run_cli("groups", "create", name, "--scope", "app:nginx", *data, *account)
    run_cli("groups", "add-member", name, world["users"]["readonly"].email, *data, *account)
    over_http = world["admin_key"]("GET", f"/api/v1/groups/{name}").json()
    assert over_http["scope"] == "app:nginx" and over_http["members"] == [world["users"]["readonly"].email]
    listed = json.loads(run_cli("groups", "list", "--json", *data, *account).stdout)
    assert {"name": name, "scope": "app:nginx", "members": [world["users"]["readonly"].email]}.items() <= next(
        g for g in listed if g["name"] == name
    ).items()
    run_cli("groups", "remove-member", name, world["users"]["readonly"].email, *data, *account)
    assert world["admin_key"]("GET", f"/api/v1/groups/{name}").json()["members"] == []
    run_cli("groups", "delete", name, *data, *account)
    assert world["admin_key"]("GET", f"/api/v1/groups/{name}").status_code == 404
    trail = world["admin_key"]("GET", "/api/v1/audit", params={"q": f'target:"group {name}"'}).json()["entries"]
    assert [e["action"] for e in reversed(trail)] == ["group.create", "group.member_add", "group.member_remove", "group.delete"]
    assert all(e["actor_name"].startswith("cli:") and e["actor_type"] == "system" for e in trail)

    # Two accounts now: without --account the first (the data directory's own) is used, and named.
    first = run_cli("groups", "list", "--json", *data)
    assert first.stderr.decode().startswith(f"account {server.credentials['account_name']} (the first of ")
    assert "--account or TIMBERYARD_ACCOUNT names another" in first.stderr.decode()
    assert json.loads(first.stdout) == json.loads(run_cli("groups", "list", "--json", *data, *account).stdout)
    broken = run_cli("groups", "create", new_name(), "--scope", "app:(", *data, *account, check=False)
    assert broken.returncode != 0 and "--scope: " in broken.stderr.decode() and " at character " in broken.stderr.decode()
