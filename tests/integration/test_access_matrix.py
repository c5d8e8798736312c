"""Every route × every kind of caller → the status the permission table says.

The routes come from the app itself, so a new route is in this matrix the day it is added, and
one that declares no permission fails here. Callers: nobody, an ingestion key, service keys
of each role, the owner's browser session, and an admin key of another account. For routes
that name an object in their path, the other account gets 404 for the first account's real
objects (and they are still there afterwards); allowed roles ask for an object that does not
exist, which proves they got past the permission check without changing anything.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import httpx
import pytest
from starlette.routing import Route, WebSocketRoute

from servers import Server, run_cli
from timberyard.auth.permissions import has_permission
from timberyard.web.app import build_app

MISSING = "does-not-exist-0"
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def app_routes() -> list[tuple[str, str, Any]]:
    """(method, path, permission) for every HTTP route of the app, HEAD aside."""
    found = []
    for route in build_app(node=None).routes:
        assert isinstance(route, Route | WebSocketRoute), route
        assert hasattr(route.endpoint, "permission"), f"{route.path} declares no permission (use guarded or declares)"
        if isinstance(route, WebSocketRoute):
            continue
        for method in sorted(route.methods or ()):
            if method != "HEAD":
                found.append((method, route.path, route.endpoint.permission))
    return found


ROUTES = app_routes()


OWNER_PASSWORD_FIELD = "owner_password"


def sign_in(server: Server, email: str, password: str) -> dict[str, Any]:
    """httpx arguments for a browser session: its cookie and, for writes, its CSRF token."""
    response = httpx.post(server.url + "/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return {"cookies": dict(response.cookies), "headers": {"X-CSRF-Token": response.json()["csrf_token"]}}


@pytest.fixture(scope="module")
def callers(server: Server) -> dict[str, Any]:
    """Credentials of each kind, and real objects of the first account for the path params."""
    admin = {"auth": (server.service_key, "")}
    made = {}
    for role in ("readonly", "member"):
        response = httpx.post(server.url + "/api/v1/keys", json={"type": "service", "role": role}, timeout=10, **admin)
        assert response.status_code == 201, response.text
        made[role] = response.json()["key"]
    other = json.loads(run_cli("accounts", "create", f"other-{uuid.uuid4().hex[:6]}", "--data-dir", str(server.data_dir), "--json").stdout)
    keys = httpx.get(server.url + "/api/v1/keys", timeout=10, **admin).json()["keys"]
    email = f"matrix-{uuid.uuid4().hex[:6]}@example.com"
    user = httpx.post(server.url + "/api/v1/users", json={"email": email, "role": "member", "password": "correct horse battery staple 9"}, timeout=30, **admin)
    assert user.status_code == 201, user.text
    group = httpx.post(server.url + "/api/v1/groups", json={"name": "matrix-group", "scope": "app:matrix"}, timeout=10, **admin)
    assert group.status_code == 201, group.text
    added = httpx.post(server.url + "/api/v1/groups/matrix-group/members", json={"email": email}, timeout=10, **admin)
    assert added.status_code in (200, 201), added.text
    owner = lambda: sign_in(server, server.credentials["owner_email"], server.credentials[OWNER_PASSWORD_FIELD])  # noqa: E731
    grant = httpx.post(
        server.url + "/api/v1/access-grants",
        json={"email": email, "reason": "matrix test", "duration_s": 600},
        timeout=10,
        **owner(),
    )
    assert grant.status_code == 201, grant.text
    view = httpx.post(server.url + "/api/v1/views", json={"name": "matrix-view", "query": "app:matrix"}, timeout=10, **admin)
    assert view.status_code == 201, view.text
    rule = httpx.post(server.url + "/api/v1/rules", json={"kind": "exclude", "name": "matrix-rule", "query": "app:matrix"}, timeout=10, **admin)
    assert rule.status_code == 201, rule.text
    channel = httpx.post(server.url + "/api/v1/channels", json={"name": "matrix-channel", "kind": "webhook", "config": {"url": "http://93.184.215.14/hook"}},
                         timeout=10, **admin)  # a public address: saved without a lookup, never sent to (nobody tests it)
    assert channel.status_code == 201, channel.text
    alert = httpx.post(server.url + "/api/v1/alerts", json={"name": "matrix-alert", "kind": "presence", "query": "app:matrix"}, timeout=10, **admin)
    assert alert.status_code == 201, alert.text
    sent = httpx.post(server.url + "/logs/ingest", params={"hostname": "template-matrix"}, auth=(server.ingestion_key, ""),
                      json={"lines": [{"line": "matrix line 1", "app": "template-matrix"}]}, timeout=10)  # no rule excludes it
    assert sent.status_code == 200, sent.text
    real = {
        "template_id": _stored_template(server, admin),
        "key_id": next(k["id"] for k in keys if k["type"] == "ingestion"),
        "user_id": user.json()["id"],
        "name": "matrix-group",
        "email": email,
        "grant_id": grant.json()["id"],
        "view_id": view.json()["id"],
        "rule_id": rule.json()["id"],
        "channel_id": str(channel.json()["id"]),
        "alert_id": str(alert.json()["id"]),
        "path": MISSING,  # the UI's static files are public and in no account: only a missing one is a 404 to all
    }
    return {
        "auth": {
            "nobody": lambda: {},
            "ingestion": lambda: {"auth": (server.ingestion_key, "")},
            "readonly": lambda: {"auth": (made["readonly"], "")},
            "member": lambda: {"auth": (made["member"], "")},
            "admin": lambda: admin,
            "owner": owner,
            "other-admin": lambda: {"auth": (other["service_key"], "")},
        },
        "real": real,
    }


def _stored_template(server: Server, admin: dict[str, Any]) -> str:
    """The template id of the line the fixture sent, once it is stored."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = httpx.get(server.url + "/api/v1/search", params={"q": "host:template-matrix"}, timeout=10, **admin).json()["lines"]
        if lines:
            return lines[0]["template"]
        time.sleep(0.05)
    raise AssertionError("the matrix line never reached the store")


def _path(template: str, values: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"test_access_matrix needs a real object for path parameter {{{name}}}: add one to `callers`"
        return values[name]

    return PARAM.sub(value, template)


def _call(server: Server, method: str, path: str, credentials: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
    """Status and, for errors, the JSON body. Streamed, so a live tail answers with its headers."""
    with httpx.stream(method, server.url + path, timeout=30, **credentials) as response:
        if response.status_code < 400:
            return response.status_code, None
        response.read()
        return response.status_code, response.json()


ROLE_OF = {"ingestion": "ingestion", "readonly": "readonly", "member": "member", "admin": "admin", "owner": "owner"}


def _allowed(permission: str | None, caller: str) -> bool:
    if permission is None:
        return True
    role = ROLE_OF.get(caller)
    return role is not None and has_permission(role, permission)


@pytest.mark.parametrize(("method", "template", "permission"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
@pytest.mark.parametrize("caller", ["nobody", "ingestion", "readonly", "member", "admin", "owner"])
def test_each_route_answers_each_caller_by_the_permission_table(
    server: Server, callers: dict[str, Any], method: str, template: str, permission: str | None, caller: str
) -> None:
    allowed = _allowed(permission, caller)
    has_params = bool(PARAM.search(template))
    values = {name: MISSING for name in PARAM.findall(template)} if allowed else callers["real"]
    status, error = _call(server, method, _path(template, values), callers["auth"][caller]())
    assert status < 500, error
    if error is not None:
        assert set(error) >= {"error", "code"}
    if allowed:
        # Let through; only actions that need a person, not a key, may still say so.
        assert status != 401, error
        assert status != 403 or (caller != "owner" and error["code"] == "SessionRequired"), error
        if has_params and status != 403:
            assert status == 404, error
    elif caller == "nobody" or (permission == "logs.ingest" and caller == "owner"):
        # Ingestion takes only ingestion keys: a browser session is no credential there.
        assert status == 401, error
        assert error["code"] in ("MissingCredentials", "SessionEnded")
    else:
        assert status == 403, error


@pytest.mark.parametrize(
    ("method", "template", "permission"),
    [r for r in ROUTES if PARAM.search(r[1])],
    ids=[f"{m} {p}" for m, p, _ in ROUTES if PARAM.search(p)],
)
def test_another_accounts_objects_are_not_found(
    server: Server, callers: dict[str, Any], method: str, template: str, permission: str | None
) -> None:
    status, error = _call(server, method, _path(template, callers["real"]), callers["auth"]["other-admin"]())
    expected = 404 if _allowed(permission, "admin") else 403
    assert status == expected or (status == 403 and error and error["code"] == "SessionRequired"), error
    admin = callers["auth"]["admin"]()
    keys = httpx.get(server.url + "/api/v1/keys", timeout=10, **admin).json()["keys"]
    assert any(k["id"] == callers["real"]["key_id"] and k["revoked_at"] is None for k in keys)
    group = httpx.get(server.url + "/api/v1/groups/matrix-group", timeout=10, **admin)
    assert group.status_code == 200 and callers["real"]["email"] in str(group.json())


def test_denials_are_audited_with_who_and_what(server: Server, callers: dict[str, Any]) -> None:
    status, error = _call(server, "GET", "/api/v1/keys", callers["auth"]["readonly"]())
    assert status == 403 and error is not None and error["code"] == "PermissionDenied"
    audit = httpx.get(server.url + "/api/v1/audit", params={"q": "action:permission.denied"}, timeout=10, **callers["auth"]["admin"]())
    assert audit.status_code == 200, audit.text
    entries = audit.json()["entries"]
    assert any(e["target"] == "GET /api/v1/keys" and e["outcome"] == "denied" for e in entries), entries
