"""Heroku's and Cloud Foundry's HTTPS log drains on a real node: POST /heroku/logplex as Logplex
and Cloud Foundry's syslog agent send it."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from servers import Server


def logplex(*messages: str) -> bytes:
    return b"".join(b"%d %s" % (len(message.encode()), message.encode()) for message in messages)


def post(server: Server, body: bytes, *, count: int | None, app: str = "", auth: tuple[str, str] | None = None, **headers: str | bytes) -> httpx.Response:
    sent = {"Content-Type": "application/logplex-1", "User-Agent": "Logplex/v72", **headers}
    if count is not None:
        sent["Logplex-Msg-Count"] = str(count)
    params = {"app": app} if app else {}
    return httpx.post(server.url + "/heroku/logplex", content=body, headers=sent, params=params, auth=auth or ("x", server.ingestion_key), timeout=30)


def search(server: Server, query: str) -> list[dict[str, Any]]:
    server.wait_stored(0)
    response = httpx.get(
        server.url + "/api/v1/search",
        params={"q": query, "from": "0", "to": str(int(time.time() * 1000) + 86_400_000), "limit": 100},
        auth=(server.service_key, ""),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return sorted(response.json()["lines"], key=lambda line: line["line"])


def test_a_heroku_drain_stores_the_apps_lines_with_dyno_and_source(server: Server) -> None:
    app = f"shop-{uuid.uuid4().hex[:6]}"
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    body = logplex(
        f'<190>1 {now} host app web.1 - level=error msg="payment failed" order=81',
        f"<158>1 {now} host heroku router - at=info method=GET path=\"/\" host={app}.herokuapp.com status=200 bytes=512",
        f"<45>1 {now} host heroku web.1 - State changed from starting to up",
    )
    response = post(server, body, count=3, app=app, **{"Logplex-Frame-Id": uuid.uuid4().hex, "Logplex-Drain-Token": "d.0001"})
    assert response.status_code == 204, response.text
    found = search(server, f"app:{app}")
    assert [(line["line"][:12], line["host"], line["level"], line["fields"]["heroku"]) for line in found] == [
        ("State change", "web.1", "", {"app": app, "dyno": "web.1", "source": "heroku"}),
        ("at=info meth", "router", "INFO", {"app": app, "dyno": "router", "source": "heroku"}),
        ("level=error ", "web.1", "ERROR", {"app": app, "dyno": "web.1", "source": "app"}),
    ]
    assert {line["ingester"] for line in found} == {"heroku"}
    assert found[2]["fields"]["order"] == 81 and found[1]["fields"]["status"] == 200  # the text is parsed too


def test_a_retried_logplex_frame_is_stored_once(server: Server) -> None:
    app = f"retry-{uuid.uuid4().hex[:6]}"
    frame = uuid.uuid4().hex
    body = logplex(f"<190>1 2025-06-14T11:59:59+00:00 host app web.1 - once only {app}")
    for _ in range(3):
        assert post(server, body, count=1, app=app, **{"Logplex-Frame-Id": frame}).status_code == 204
    assert len(search(server, f"app:{app}")) == 1


def test_a_logplex_count_that_disagrees_with_the_body_is_a_400(server: Server) -> None:
    app = f"count-{uuid.uuid4().hex[:6]}"
    response = post(server, logplex(f"<190>1 2025-06-14T11:59:59+00:00 host app web.1 - {app}"), count=2, app=app)
    assert response.status_code == 400 and "Logplex-Msg-Count says 2" in response.json()["error"]
    assert search(server, f"app:{app}") == []


def test_a_logplex_count_of_thousands_of_digits_is_ignored_not_a_500(server: Server) -> None:
    """The count only cross-checks the body; a count no number can be is treated as absent."""
    app = f"huge-{uuid.uuid4().hex[:6]}"
    body = logplex(f"<190>1 2025-06-14T11:59:59+00:00 host app web.1 - {app}")
    assert post(server, body, count=None, app=app, **{"Logplex-Msg-Count": "9" * 5000}).status_code == 204
    assert post(server, body, count=None, app=app, **{"Logplex-Msg-Count": b"\xb2"}).status_code == 204
    assert len(search(server, f"app:{app}")) == 2


def test_the_drain_takes_the_key_as_basic_password_or_user_and_refuses_others(server: Server) -> None:
    body = logplex("<190>1 2025-06-14T11:59:59+00:00 host app web.1 - hello")
    assert post(server, body, count=1, auth=(server.ingestion_key, "")).status_code == 204
    assert post(server, body, count=1, auth=("x", "not-a-key")).status_code == 403
    assert post(server, body, count=1, auth=("x", server.service_key)).status_code == 403
    anonymous = httpx.post(server.url + "/heroku/logplex", content=body, headers={"Content-Type": "application/logplex-1"}, timeout=30)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "MissingCredentials"


def test_a_cloud_foundry_https_drain(server: Server) -> None:
    app = f"cf-{uuid.uuid4().hex[:6]}"
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00", time.gmtime())
    single = f'<14>1 {now} org.dev.{app} 6f5e-guid [APP/PROC/WEB/0] - [tags@47450 app_name="{app}" space_name="dev" organization_name="org"] one message\n'
    batch = (
        f'<14>1 {now} org.dev.{app} 6f5e-guid [APP/PROC/WEB/1] - [tags@47450 app_name="{app}"] batched one\n'
        f'<11>1 {now} org.dev.{app} 6f5e-guid [APP/PROC/WEB/1] - [tags@47450 app_name="{app}"] batched two\n'
    )
    for body in (single, batch):
        response = httpx.post(server.url + "/heroku/logplex", content=body.encode(), headers={"Content-Type": "text/plain"}, auth=(server.ingestion_key, ""), timeout=30)
        assert response.status_code == 204, response.text
    found = search(server, f"app:{app}")
    assert [(line["line"], line["level"], line["host"]) for line in found] == [
        ("batched one", "INFO", f"org.dev.{app}"), ("batched two", "ERROR", f"org.dev.{app}"), ("one message", "INFO", f"org.dev.{app}"),
    ]
    assert found[2]["fields"]["space_name"] == "dev" and {line["ingester"] for line in found} == {"cloudfoundry"}
