"""Alert channels over HTTP against a real server: the round trip with secrets never returned,
masks that keep secrets, the outbound policy on save, "send test" to real local receivers
(webhook, Slack, PagerDuty, SMTP with STARTTLS and AUTH is in the unit tests), audit entries;
security events reaching an owner's security alert."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from receivers import HttpReceiver, http_receiver
from servers import Server, role_keys, run_cli, start_server

SECRET = "Bearer tok-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node that may reach 127.0.0.1 (the test's receivers) and nothing else private."""
    running = start_server(tmp_path_factory.mktemp("node"), TIMBERYARD_ALERTS_OUTBOUND_ALLOW="127.0.0.1/32")
    yield running
    if running.process is not None:
        running.stop()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


def call(server: Server, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, auth=(key or server.service_key, ""), timeout=30, **kwargs)


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    return role_keys(server, "channels")


def create(server: Server, **body: Any) -> dict[str, Any]:
    response = call(server, "POST", "/api/v1/channels", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_round_trip_without_ever_returning_the_secret(server: Server, keys: dict[str, str], receiver: HttpReceiver) -> None:
    name = f"hook-{uuid.uuid4().hex[:6]}"
    made = create(server, name=name, kind="webhook", config={"url": receiver.url, "headers": {"Authorization": SECRET}})
    assert made["config"]["headers"] == {"Authorization": "••••" + SECRET[-4:]}
    listed = call(server, "GET", "/api/v1/channels", keys["readonly"])
    got = call(server, "GET", f"/api/v1/channels/{made['id']}", keys["readonly"])
    patched = call(server, "PATCH", f"/api/v1/channels/{made['id']}", json={"config": {"headers": made["config"]["headers"], "method": "PUT"}})
    assert patched.status_code == 200, patched.text
    for response in (listed, got, patched):
        assert SECRET not in response.text and SECRET[4:-4] not in response.text
    assert made in listed.json()["channels"] and got.json() == made

    tested = call(server, "POST", f"/api/v1/channels/{made['id']}/test")
    assert tested.json() == {"ok": True, "status": 200, "error": ""}
    [sent] = receiver.received
    assert (sent.method, sent.headers["authorization"]) == ("PUT", SECRET)  # the mask sent back kept the secret
    assert orjson.loads(sent.body)["alert"] == "Timberyard test notification"

    entries = call(server, "GET", "/api/v1/audit", params={"q": f"target:\"channel {made['id']}\"", "limit": 1000})
    assert {e["action"] for e in entries.json()["entries"]} >= {"channel.create", "channel.update", "channel.test"}
    assert SECRET not in entries.text and SECRET[-12:] not in entries.text
    deleted = call(server, "DELETE", f"/api/v1/channels/{made['id']}")
    assert deleted.status_code == 200 and call(server, "GET", f"/api/v1/channels/{made['id']}").status_code == 404


def test_the_secret_is_not_in_the_metadata_database_in_the_clear(server: Server) -> None:
    create(server, name=f"pd-{uuid.uuid4().hex[:6]}", kind="pagerduty", config={"routing_key": "SECRETROUTINGKEY0123456789abcdef", "url": "http://127.0.0.1:9/"})
    assert b"SECRETROUTINGKEY" not in (server.data_dir / "metadata.sqlite3").read_bytes()


def test_a_test_to_a_failing_receiver_reports_its_answer(server: Server) -> None:
    with http_receiver([500]) as receiver:
        made = create(server, name=f"slack-{uuid.uuid4().hex[:6]}", kind="slack", config={"url": receiver.url + "/services/T0/B0/x"})
        tested = call(server, "POST", f"/api/v1/channels/{made['id']}/test").json()
    assert (tested["ok"], tested["status"]) == (False, 500) and tested["error"].startswith("receiver answered 500")
    assert orjson.loads(receiver.received[0].body)["blocks"][0]["text"]["text"] == "Alert: Timberyard test notification"


def test_pagerduty_test_reaches_a_local_events_receiver(server: Server, receiver: HttpReceiver) -> None:
    made = create(server, name=f"pd-{uuid.uuid4().hex[:6]}", kind="pagerduty",
                  config={"routing_key": "R0UT1NGKEY0123456789abcdefABCDEF", "url": receiver.url})
    assert call(server, "POST", f"/api/v1/channels/{made['id']}/test").json()["ok"]
    event = orjson.loads(receiver.received[0].body)
    assert (event["event_action"], event["routing_key"]) == ("trigger", "R0UT1NGKEY0123456789abcdefABCDEF")


@pytest.mark.parametrize(("url", "says"), [("http://127.0.0.2:8080/hook", "127.0.0.2"), ("http://169.254.169.254/latest", "169.254.169.254"),
                                           ("http://[::1]/", "::1"), ("http://10.0.0.1/", "10.0.0.1")])
def test_destinations_outside_the_allow_list_are_refused_on_save(server: Server, url: str, says: str) -> None:
    response = call(server, "POST", "/api/v1/channels", json={"name": "ssrf", "kind": "webhook", "config": {"url": url}})
    assert response.status_code == 400
    assert response.json()["code"] == "OutboundRefused" and says in response.json()["error"] and "alerts_outbound_allow" in response.json()["error"]


@pytest.mark.parametrize(("body", "field"), [({"name": "x", "kind": "webhook", "config": {"url": "http://127.0.0.1/", "body": "{\"a\": \"{{ oops\"}"}}, "body"),
                                             ({"name": "x", "kind": "email", "config": {"to": "nobody"}}, "to")])
def test_bad_channels_are_400_with_the_field(server: Server, body: dict, field: str) -> None:
    response = call(server, "POST", "/api/v1/channels", json=body)
    assert response.status_code == 400 and response.json()["field"] == field and response.json()["error"]


def test_members_read_but_do_not_manage_and_other_accounts_see_nothing(server: Server, keys: dict[str, str]) -> None:
    made = create(server, name=f"hook-{uuid.uuid4().hex[:6]}", kind="webhook", config={"url": "http://127.0.0.1:9/"})
    assert call(server, "GET", f"/api/v1/channels/{made['id']}", keys["member"]).status_code == 200
    assert call(server, "PATCH", f"/api/v1/channels/{made['id']}", keys["member"], json={"name": "x"}).status_code == 403
    assert call(server, "GET", f"/api/v1/channels/{made['id']}", keys["other"]).status_code == 404
    assert made["id"] not in [c["id"] for c in call(server, "GET", "/api/v1/channels", keys["other"]).json()["channels"]]


def test_a_webhook_to_127_0_0_1_is_refused_by_a_node_with_default_settings(tmp_path: Path) -> None:
    node = start_server(tmp_path / "default")
    try:
        response = call(node, "POST", "/api/v1/channels", json={"name": "local", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/hook"}})
    finally:
        node.stop()
    assert response.status_code == 400 and response.json()["code"] == "OutboundRefused"


def test_the_cli_creates_lists_tests_and_deletes_a_channel_without_printing_the_secret(server: Server, receiver: HttpReceiver) -> None:
    admin = ["--server", server.url, "--key", server.service_key]
    name = f"cli-{uuid.uuid4().hex[:6]}"
    created = run_cli("channels", "create", "webhook", name, "--url", receiver.url, "--secret-header", "Authorization",
                      "--body", '{"n": "{{ matches }}"}', *admin, env={"TIMBERYARD_CHANNEL_SECRET": SECRET}).stdout.decode()
    channel_id = created.rsplit("(", 1)[1].rstrip(")\n")
    listed = json.loads(run_cli("channels", "list", "--json", *admin).stdout)
    assert [c["config"]["headers"] for c in listed if c["name"] == name] == [{"Authorization": "••••" + SECRET[-4:]}]
    assert run_cli("channels", "test", channel_id, *admin).stdout.decode() == "delivered (status 200)\n"
    assert (receiver.received[0].headers["authorization"], orjson.loads(receiver.received[0].body)) == (SECRET, {"n": 1})
    run_cli("channels", "delete", channel_id, *admin)
    assert name not in run_cli("channels", "list", *admin).stdout.decode()


def test_repeated_failed_sign_ins_reach_the_owners_security_alert(server: Server, receiver: HttpReceiver) -> None:
    owner = httpx.post(server.url + "/api/v1/auth/login", timeout=30,
                       json={"email": server.credentials["owner_email"], "password": server.credentials["owner_password"]})
    assert owner.status_code == 200, owner.text
    session = {"cookies": dict(owner.cookies), "headers": {"X-CSRF-Token": owner.json()["csrf_token"]}}
    channel = create(server, name=f"security-{uuid.uuid4().hex[:6]}", kind="webhook",
                     config={"url": receiver.url, "body": '{"text": "{{ reason }}", "action": "{{ first_line_object.action }}"}'})
    alert = {"name": f"security-{uuid.uuid4().hex[:6]}", "kind": "security", "channel_ids": [channel["id"]]}
    refused = call(server, "POST", "/api/v1/alerts", json=alert)  # the admin service key
    assert refused.status_code == 403 and refused.json()["code"] == "PermissionDenied", refused.text
    made = httpx.post(server.url + "/api/v1/alerts", json=alert, timeout=30, **session)
    assert made.status_code == 201, made.text

    email = f"guessed-{uuid.uuid4().hex[:6]}@example.com"
    user = call(server, "POST", "/api/v1/users", json={"email": email, "role": "member", "password": "correct horse battery staple 9"})
    assert user.status_code == 201, user.text
    for n in range(40):  # past the 10 failures that make one security.login_failures event per email
        httpx.post(server.url + "/api/v1/auth/login", json={"email": email, "password": f"guess {n}"}, timeout=30)
    deadline = time.monotonic() + 20
    while not receiver.received and time.monotonic() < deadline:
        time.sleep(0.05)
    [sent] = receiver.received
    assert orjson.loads(sent.body) == {"text": f"security event: login failures (email {email})", "action": "security.login_failures"}
    history = httpx.get(server.url + f"/api/v1/alerts/{made.json()['id']}/history", timeout=30, **session).json()["firings"]
    assert [(f["state"], [d["ok"] for d in f["deliveries"]]) for f in history] == [("firing", [True])]
