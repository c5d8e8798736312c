"""Group scopes on every read path: a user in groups reads only lines matching one of their
groups' scope queries — in search, both exports, the histogram, facets, context and live tail.

One host sends lines of two apps, interleaved, so context "around a line" would cross into the
other app if the scope were not applied. A user in no group sees both apps; a group with an
empty scope sees nothing; an owner's break-glass grant lifts the scope.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from servers import Server

PASSWORD = "a long enough passphrase 42"
HOST = f"scope-host-{uuid.uuid4().hex[:6]}"


def sign_in(server: Server, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = httpx.post(server.url + "/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return {"cookies": dict(response.cookies), "headers": {"X-CSRF-Token": response.json()["csrf_token"]}}


def get(server: Server, path: str, session: dict[str, Any], **params: Any) -> httpx.Response:
    return httpx.get(server.url + path, params={"from": 0, **params}, timeout=30, **session)


@pytest.fixture(scope="module")
def scoped(server: Server) -> dict[str, Any]:
    admin = {"auth": (server.service_key, "")}
    lines = [{"line": f"scope-test line {n} of {'alpha' if n % 2 else 'beta'}", "app": "alpha" if n % 2 else "beta"} for n in range(20)]
    before = server.metric("timberyard_store_lines_total")
    assert server.ingest(lines, params={"hostname": HOST}).status_code == 200
    server.wait_stored(before + len(lines))
    users = {}
    for name in ("alpha", "nothing", "free"):
        email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
        response = httpx.post(server.url + "/api/v1/users", json={"email": email, "role": "readonly", "password": PASSWORD}, timeout=30, **admin)
        assert response.status_code == 201, response.text
        users[name] = {"email": email, "id": response.json()["id"]}
    for group, scope, member in (("alpha-only", "app:alpha", "alpha"), ("sees-nothing", "", "nothing")):
        response = httpx.post(server.url + "/api/v1/groups", json={"name": group, "scope": scope}, timeout=10, **admin)
        assert response.status_code == 201, response.text
        response = httpx.post(server.url + f"/api/v1/groups/{group}/members", json={"email": users[member]["email"]}, timeout=10, **admin)
        assert response.status_code in (200, 201), response.text
    return {name: {**user, "session": sign_in(server, user["email"])} for name, user in users.items()}


def apps_searched(server: Server, session: dict[str, Any]) -> set[str]:
    response = get(server, "/api/v1/search", session, q=f"host:{HOST}", limit=100)
    assert response.status_code == 200, response.text
    return {line["app"] for line in response.json()["lines"]}


def test_search_shows_only_the_groups_lines(server: Server, scoped: dict[str, Any]) -> None:
    assert apps_searched(server, scoped["alpha"]["session"]) == {"alpha"}
    assert apps_searched(server, scoped["free"]["session"]) == {"alpha", "beta"}
    assert apps_searched(server, scoped["nothing"]["session"]) == set()


def test_a_query_cannot_widen_the_scope(server: Server, scoped: dict[str, Any]) -> None:
    response = get(server, "/api/v1/search", scoped["alpha"]["session"], q=f"host:{HOST} (app:beta OR -app:beta)", limit=100)
    assert {line["app"] for line in response.json()["lines"]} == {"alpha"}


def test_both_exports_are_scoped(server: Server, scoped: dict[str, Any]) -> None:
    session = scoped["alpha"]["session"]
    v1 = get(server, "/v1/export", session, to=9_999_999_999_999, query=f"host:{HOST}")
    assert v1.status_code == 200, v1.text
    assert {orjson.loads(line)["_app"] for line in v1.content.splitlines()} == {"alpha"}
    v2 = get(server, "/v2/export", session, to=9_999_999_999_999, query=f"host:{HOST}")
    assert v2.status_code == 200, v2.text
    assert {line["_app"] for line in v2.json()["lines"]} == {"alpha"}


def test_histogram_and_facets_count_only_the_scope(server: Server, scoped: dict[str, Any]) -> None:
    session = scoped["alpha"]["session"]
    histogram = get(server, "/api/v1/histogram", session, q=f"host:{HOST}", buckets=1, by="app")
    assert histogram.status_code == 200, histogram.text
    assert histogram.json()["buckets"][0]["by"] == {"alpha": 10}
    facets = get(server, "/api/v1/facets", session, q=f"host:{HOST}", field="app")
    assert [value["value"] for value in facets.json()["values"]] == ["alpha"]


def test_context_hides_lines_outside_the_scope(server: Server, scoped: dict[str, Any]) -> None:
    free = get(server, "/api/v1/search", scoped["free"]["session"], q=f"host:{HOST}", limit=100).json()["lines"]
    beta = next(line for line in free if line["app"] == "beta")
    alpha = next(line for line in free if line["app"] == "alpha")
    session = scoped["alpha"]["session"]
    assert get(server, "/api/v1/context", session, id=beta["id"]).status_code == 404
    around = get(server, "/api/v1/context", session, id=alpha["id"], scope="host", before=50, after=50)
    assert around.status_code == 200, around.text
    body = around.json()
    assert body["before"] or body["after"]
    assert {line["app"] for line in body["before"] + body["after"]} == {"alpha"}


def test_live_tail_streams_only_the_scope(server: Server, scoped: dict[str, Any]) -> None:
    seen: list[str] = []
    failures: list[BaseException] = []
    connected = threading.Event()
    stopping = threading.Event()
    session = scoped["alpha"]["session"]
    client = httpx.Client(timeout=None, **session)

    def read() -> None:
        try:
            with client.stream("GET", server.url + "/api/v1/tail", params={"q": f"host:{HOST}"}) as response:
                assert response.status_code == 200
                for raw in response.iter_lines():
                    connected.set()
                    if raw.startswith("data: "):
                        seen.append(orjson.loads(raw.removeprefix("data: "))["app"])
        except Exception as exc:  # closing the client from the test ends the stream
            if not stopping.is_set():
                failures.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert connected.wait(10)
    marker = uuid.uuid4().hex
    assert server.ingest([{"line": f"tail {marker} beta", "app": "beta"}], params={"hostname": HOST}).status_code == 200
    # The alpha line is the sentinel, sent after: once it is here, a beta line let through would be too.
    assert server.ingest([{"line": f"tail {marker} alpha", "app": "alpha"}], params={"hostname": HOST}).status_code == 200
    deadline = time.monotonic() + 10
    while "alpha" not in seen and time.monotonic() < deadline:
        time.sleep(0.05)
    stopping.set()
    client.close()
    reader.join(timeout=10)
    assert not failures
    assert seen == ["alpha"]


def test_break_glass_lifts_the_scope_until_revoked(server: Server, scoped: dict[str, Any]) -> None:
    owner = sign_in(server, server.credentials["owner_email"], server.credentials["owner_password"])
    granted = httpx.post(
        server.url + "/api/v1/access-grants",
        json={"email": scoped["alpha"]["email"], "reason": "incident 42: need every app", "duration_s": 600},
        timeout=10,
        **owner,
    )
    assert granted.status_code == 201, granted.text
    assert apps_searched(server, scoped["alpha"]["session"]) == {"alpha", "beta"}
    revoked = httpx.delete(server.url + f"/api/v1/access-grants/{granted.json()['id']}", timeout=10, **owner)
    assert revoked.status_code == 200, revoked.text
    assert apps_searched(server, scoped["alpha"]["session"]) == {"alpha"}
    audit = httpx.get(server.url + "/api/v1/audit", params={"q": "action:security.break_glass"}, auth=(server.service_key, ""), timeout=10)
    assert audit.status_code == 200, audit.text
    assert len(audit.json()["entries"]) >= 2


def test_an_alert_keeps_to_its_authors_scope(server: Server, scoped: dict[str, Any]) -> None:
    """A member of the alpha-only group saves an alert: it counts and samples alpha's lines
    only (in its dry run and as it fires), and a reader of another scope gets its firings
    without their sample lines."""
    admin = {"auth": (server.service_key, "")}
    email = f"alerting-{uuid.uuid4().hex[:6]}@example.com"
    response = httpx.post(server.url + "/api/v1/users", json={"email": email, "role": "member", "password": PASSWORD}, timeout=30, **admin)
    assert response.status_code == 201, response.text
    response = httpx.post(server.url + "/api/v1/groups/alpha-only/members", json={"email": email}, timeout=10, **admin)
    assert response.status_code in (200, 201), response.text
    member = sign_in(server, email)

    created = httpx.post(server.url + "/api/v1/alerts", json={"name": f"scoped {email}", "kind": "presence", "query": f"host:{HOST}",
                         "threshold": 1, "interval": "24h", "timing": ["immediate"]}, timeout=30, **member)
    assert created.status_code == 201, created.text
    path = f"/api/v1/alerts/{created.json()['id']}"
    on_host = httpx.get(server.url + "/api/v1/search", params={"from": 0, "q": f"host:{HOST}", "limit": 1000}, timeout=30, **admin).json()["lines"]
    alpha = sum(line["app"] == "alpha" for line in on_host)
    assert 0 < alpha < len(on_host)
    tried = httpx.post(server.url + path + "/test", json={}, timeout=30, **member)
    assert tried.status_code == 200, tried.text
    assert tried.json()["matches"] == alpha
    by_owner = httpx.post(server.url + path + "/test", json={}, timeout=30, **admin)
    assert by_owner.json()["matches"] == alpha  # the alert's scope holds whoever tries it

    time.sleep(1)  # the engine reloads its alerts on change
    lines = [{"line": "scope-test alert line of beta", "app": "beta"}, {"line": "scope-test alert line of alpha", "app": "alpha"}]
    assert server.ingest(lines, params={"hostname": HOST}).status_code == 200
    deadline = time.monotonic() + 15
    while not (firings := get(server, path + "/history", member).json()["firings"]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [[line["_app"] for line in firing["lines"]] for firing in firings] == [["alpha"]]
    free = get(server, path + "/history", scoped["free"]["session"]).json()["firings"]
    assert [line["_line"] for line in free[0]["lines"]] == ["scope-test alert line of alpha"]
    other = get(server, path + "/history", scoped["nothing"]["session"]).json()["firings"]
    assert other[0]["lines"] == [] and other[0]["matches"] == 1 and "scope" in other[0]["lines_withheld"]


def test_a_template_is_readable_only_through_lines_in_scope(server: Server, scoped: dict[str, Any]) -> None:
    """A template's text is made of its lines: a scoped user reads it only if a line of it is in scope."""
    admin = {"auth": (server.service_key, "")}
    lines = get(server, "/api/v1/search", admin, q=f"host:{HOST}", limit=100).json()["lines"]
    ids = {line["app"]: line["template"] for line in lines}
    assert set(ids) == {"alpha", "beta"} and "0" not in ids.values()
    expected = {"alpha": {"alpha": 200, "beta": 404}, "nothing": {"alpha": 404, "beta": 404}, "free": {"alpha": 200, "beta": 200}}
    for user, by_app in expected.items():
        for app, status in by_app.items():
            response = get(server, f"/api/v1/templates/{ids[app]}", scoped[user]["session"])
            assert response.status_code == status, (user, app, response.text)
            if status == 200:
                assert response.json()["app"] == app and response.json()["template"] == f"scope-test line <*> of {app}"
