"""Saved views over HTTP against a real server: the round trip, validation, names unique per
category, roles, another account's views, and the audit trail's view.open entries."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from servers import Server, call, role_keys


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    return role_keys(server, "views")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(server: Server, key: str, **body: Any) -> dict[str, Any]:
    response = call(server, "POST", "/api/v1/views", key, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def audit_entries(server: Server, query: str) -> list[dict[str, Any]]:
    response = call(server, "GET", "/api/v1/audit", server.service_key, params={"q": query, "limit": 1000})
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def test_create_list_get_update_delete(server: Server, keys: dict[str, str]) -> None:
    name = unique("nginx 5xx")
    made = create(server, keys["member"], name=name, category="web", query="app:nginx status:>=500",
                  filters={"hosts": ["web-1"], "levels": ["ERROR", "FATAL"]}, range="last 2 hours")
    assert {k: made[k] for k in ("name", "category", "query", "range", "created_by")} == {
        "name": name, "category": "web", "query": "app:nginx status:>=500", "range": "last 2 hours", "created_by": "views-member"}
    assert made["filters"] == {"apps": [], "hosts": ["web-1"], "levels": ["ERROR", "FATAL"], "tags": []}
    assert made["created_at"] == made["updated_at"]

    listed = call(server, "GET", "/api/v1/views", keys["readonly"])
    assert listed.status_code == 200
    assert made in listed.json()["views"]
    assert call(server, "GET", f"/api/v1/views/{made['id']}", keys["readonly"]).json() == made

    patched = call(server, "PATCH", f"/api/v1/views/{made['id']}", keys["member"], json={"name": name + " (eu)", "filters": {"tags": ["eu"]}})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["name"], patched.json()["query"], patched.json()["filters"]["tags"]) == (name + " (eu)", made["query"], ["eu"])
    assert patched.json()["filters"]["hosts"] == []
    assert patched.json()["updated_at"] >= made["updated_at"]

    deleted = call(server, "DELETE", f"/api/v1/views/{made['id']}", keys["member"])
    assert deleted.status_code == 200 and deleted.json()["id"] == made["id"]
    gone = call(server, "GET", f"/api/v1/views/{made['id']}", keys["member"])
    assert gone.status_code == 404 and gone.json()["code"] == "NotFound"
    assert made["id"] not in {v["id"] for v in call(server, "GET", "/api/v1/views", keys["member"]).json()["views"]}


def test_changes_and_opening_a_view_are_audited(server: Server, keys: dict[str, str]) -> None:
    made = create(server, keys["member"], name=unique("audited"), query="app:billing error")
    assert call(server, "GET", f"/api/v1/views/{made['id']}", keys["readonly"]).status_code == 200
    assert call(server, "PATCH", f"/api/v1/views/{made['id']}", keys["member"], json={"range": "yesterday"}).status_code == 200
    assert call(server, "DELETE", f"/api/v1/views/{made['id']}", keys["member"]).status_code == 200
    target = f"view {made['id']}"
    found = {e["action"]: e for e in audit_entries(server, made["id"]) if e["target"] == target}
    assert set(found) == {"view.create", "view.open", "view.update", "view.delete"}
    opened = found["view.open"]
    assert (opened["actor_name"], opened["query"], opened["outcome"]) == ("views-readonly", "app:billing error", "success")
    assert opened["details"]["name"] == made["name"]
    assert found["view.update"]["details"]["changed"] == ["range"]


def test_a_signed_in_user_needs_the_csrf_token_and_is_named_as_the_creator(server: Server) -> None:
    login = httpx.post(server.url + "/api/v1/auth/login", timeout=30,
                       json={"email": server.credentials["owner_email"], "password": server.credentials["owner_password"]})
    assert login.status_code == 200, login.text
    cookies, csrf = dict(login.cookies), login.json()["csrf_token"]
    body = {"name": unique("from the browser")}
    refused = call(server, "POST", "/api/v1/views", cookies=cookies, json=body)
    assert refused.status_code == 403 and refused.json()["code"] == "CsrfFailed"
    made = call(server, "POST", "/api/v1/views", cookies=cookies, headers={"X-CSRF-Token": csrf}, json=body)
    assert made.status_code == 201, made.text
    assert made.json()["created_by"] == server.credentials["owner_email"]


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        ({"name": "q", "query": "app:("}, "QuerySyntaxError", "never closed"),
        ({"name": "r", "range": "the day after tomorrow"}, "BadRequest", "range: cannot read"),
        ({"name": "f", "filters": {"apps": "nginx"}}, "BadRequest", "filters.apps must be a list of strings"),
        ({"name": "f", "filters": {"app": ["nginx"]}}, "BadRequest", "unknown filters: app"),
        ({"query": "error"}, "BadRequest", "name is required"),
        ({"name": "x" * 101}, "BadRequest", "name must have 1 to 100 characters"),
        ({"name": "n", "private": True}, "BadRequest", "unknown fields: private"),
        (["not", "an", "object"], "BadRequest", "the body must be a JSON object"),
    ],
)
def test_bad_views_are_400_with_a_clear_message(server: Server, keys: dict[str, str], body: Any, code: str, says: str) -> None:
    response = call(server, "POST", "/api/v1/views", keys["member"], json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == code and says in error["error"], error
    if code == "QuerySyntaxError":
        assert error["position"] == 4 and error["hint"]


def test_malformed_json_is_400(server: Server, keys: dict[str, str]) -> None:
    response = call(server, "POST", "/api/v1/views", keys["member"], content=b'{"name": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"].startswith("malformed JSON")


def test_names_are_unique_within_a_category(server: Server, keys: dict[str, str]) -> None:
    name = unique("dup")
    first = create(server, keys["member"], name=name, category="ops")
    again = call(server, "POST", "/api/v1/views", keys["member"], json={"name": name, "category": "ops"})
    assert again.status_code == 409 and again.json()["code"] == "Conflict"
    assert "already exists in category 'ops'" in again.json()["error"]
    second = create(server, keys["member"], name=name, category="dev")
    renamed = call(server, "PATCH", f"/api/v1/views/{second['id']}", keys["member"], json={"category": "ops"})
    assert renamed.status_code == 409
    assert call(server, "GET", f"/api/v1/views/{first['id']}", keys["member"]).json()["category"] == "ops"


def test_readonly_callers_read_views_but_cannot_change_them(server: Server, keys: dict[str, str]) -> None:
    made = create(server, keys["member"], name=unique("shared"))
    path = f"/api/v1/views/{made['id']}"
    assert call(server, "GET", "/api/v1/views", keys["readonly"]).status_code == 200
    assert call(server, "GET", path, keys["readonly"]).status_code == 200
    for method, target, body in (("POST", "/api/v1/views", {"name": unique("nope")}), ("PATCH", path, {"name": "nope"}), ("DELETE", path, None)):
        response = call(server, method, target, keys["readonly"], json=body)
        assert response.status_code == 403 and response.json()["code"] == "PermissionDenied", response.text
    assert call(server, "GET", path, keys["member"]).json() == made


def test_another_accounts_views_are_not_found(server: Server, keys: dict[str, str]) -> None:
    made = create(server, keys["member"], name=unique("private"), query="app:payroll")
    path = f"/api/v1/views/{made['id']}"
    for method, body in (("GET", None), ("PATCH", {"name": "taken over"}), ("DELETE", None)):
        response = call(server, method, path, keys["other"], json=body)
        assert response.status_code == 404 and response.json()["code"] == "NotFound", response.text
    assert made["id"] not in {v["id"] for v in call(server, "GET", "/api/v1/views", keys["other"]).json()["views"]}
    assert call(server, "GET", path, keys["member"]).json() == made
