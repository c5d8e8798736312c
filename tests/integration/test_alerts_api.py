"""Alerts over HTTP against a real server: the round trip, validation with the field named,
roles, another account's alerts, mute and snooze, a dry run against the store, history, and
the audit trail's alert entries."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from servers import Server, call, role_keys, run_cli, start_server


@pytest.fixture(scope="module")
def keys(server: Server) -> dict[str, str]:
    return role_keys(server, "alerts")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create(server: Server, key: str, **body: Any) -> dict[str, Any]:
    response = call(server, "POST", "/api/v1/alerts", key, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_list_get_update_delete(server: Server, keys: dict[str, str]) -> None:
    name = unique("payment errors")
    made = create(server, keys["member"], name=name, kind="presence", query="app:payments level:error", threshold=10,
                  interval="1m", timing=["immediate"], schedule={"days": ["mon", "fri"], "hours": [22, 6], "timezone": "Europe/Paris"})
    assert {k: made[k] for k in ("name", "kind", "threshold", "interval", "timing", "cooldown_s", "muted", "created_by")} == {
        "name": name, "kind": "presence", "threshold": 10, "interval": "1m", "timing": ["immediate"], "cooldown_s": 300,
        "muted": False, "created_by": "alerts-member"}
    assert made["schedule"] == {"days": ["mon", "fri"], "hours": [22, 6], "timezone": "Europe/Paris"}
    listed = call(server, "GET", "/api/v1/alerts", keys["readonly"])
    assert listed.status_code == 200 and made["id"] in [a["id"] for a in listed.json()["alerts"]]
    updated = call(server, "PATCH", f"/api/v1/alerts/{made['id']}", keys["member"], json={"threshold": 20})
    assert updated.status_code == 200 and (updated.json()["threshold"], updated.json()["name"]) == (20, name)
    assert call(server, "GET", f"/api/v1/alerts/{made['id']}", keys["readonly"]).json()["threshold"] == 20
    assert call(server, "DELETE", f"/api/v1/alerts/{made['id']}", keys["member"]).status_code == 200
    assert call(server, "GET", f"/api/v1/alerts/{made['id']}", keys["readonly"]).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "presence"}, "name"),
        ({"name": "x", "kind": "sometimes"}, "kind"),
        ({"name": "x", "kind": "absence", "interval": "5m"}, "interval"),
        ({"name": "x", "kind": "absence", "interval": "1h", "timing": ["immediate"]}, "timing"),
        ({"name": "x", "kind": "presence", "interval": "2m"}, "interval"),
        ({"name": "x", "kind": "presence", "threshold": 0}, "threshold"),
        ({"name": "x", "kind": "presence", "schedule": {"timezone": "Mars/Olympus"}}, "schedule.timezone"),
        ({"name": "x", "kind": "presence", "channel_ids": ["one"]}, "channel_ids"),
        ({"name": "x", "kind": "index_rate"}, "max_lines_per_s"),
        ({"name": "x", "kind": "presence", "view_id": "nope"}, "view_id"),
        ({"name": "x", "kind": "presence", "colour": "red"}, "colour"),
    ],
)
def test_bad_definitions_are_400s_naming_the_field(server: Server, keys: dict[str, str], body: dict[str, Any], field: str) -> None:
    response = call(server, "POST", "/api/v1/alerts", keys["member"], json=body)
    assert response.status_code in (400, 404), response.text
    assert {"error", "code"} <= set(response.json())
    assert response.json().get("field") == field


def test_a_bad_query_is_the_parsers_400(server: Server, keys: dict[str, str]) -> None:
    response = call(server, "POST", "/api/v1/alerts", keys["member"], json={"name": "x", "kind": "presence", "query": "(unclosed"})
    assert response.status_code == 400 and response.json()["code"] == "QuerySyntaxError"


def test_names_are_unique_in_the_account(server: Server, keys: dict[str, str]) -> None:
    name = unique("dup")
    create(server, keys["member"], name=name, kind="presence")
    again = call(server, "POST", "/api/v1/alerts", keys["member"], json={"name": name, "kind": "presence"})
    assert again.status_code == 409 and again.json()["code"] == "Conflict"


def test_readonly_reads_but_cannot_write_and_other_accounts_see_nothing(server: Server, keys: dict[str, str]) -> None:
    made = create(server, keys["member"], name=unique("roles"), kind="presence")
    assert call(server, "POST", "/api/v1/alerts", keys["readonly"], json={"name": "y", "kind": "presence"}).status_code == 403
    assert call(server, "POST", f"/api/v1/alerts/{made['id']}/mute", keys["readonly"]).status_code == 403
    assert call(server, "GET", f"/api/v1/alerts/{made['id']}", keys["other"]).status_code == 404
    assert call(server, "DELETE", f"/api/v1/alerts/{made['id']}", keys["other"]).status_code == 404
    assert made["id"] not in [a["id"] for a in call(server, "GET", "/api/v1/alerts", keys["other"]).json()["alerts"]]


def test_an_alert_on_a_view_uses_the_views_query(server: Server, keys: dict[str, str]) -> None:
    view = call(server, "POST", "/api/v1/views", keys["member"], json={"name": unique("v"), "query": "app:checkout", "filters": {"hosts": ["web-1"]}})
    assert view.status_code == 201, view.text
    made = create(server, keys["member"], name=unique("on view"), kind="presence", view_id=view.json()["id"])
    assert (made["query"], made["filters"]["hosts"]) == ("app:checkout", ["web-1"])
    call(server, "PATCH", f"/api/v1/views/{view.json()['id']}", keys["member"], json={"query": "app:cart"})
    assert call(server, "GET", f"/api/v1/alerts/{made['id']}", keys["readonly"]).json()["query"] == "app:cart"
    assert made["view_missing"] is False
    call(server, "DELETE", f"/api/v1/views/{view.json()['id']}", keys["member"])
    assert call(server, "GET", f"/api/v1/alerts/{made['id']}", keys["readonly"]).json()["view_missing"] is True
    both = call(server, "POST", "/api/v1/alerts", keys["member"], json={"name": "z", "kind": "presence", "view_id": view.json()["id"], "query": "x"})
    assert both.status_code == 400 and both.json()["field"] == "view_id"


def test_mute_snooze_and_unmute(server: Server, keys: dict[str, str]) -> None:
    made = create(server, keys["member"], name=unique("mute"), kind="presence")
    muted = call(server, "POST", f"/api/v1/alerts/{made['id']}/mute", keys["member"])
    assert muted.status_code == 200 and muted.json()["muted"] is True
    until = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    snoozed = call(server, "POST", f"/api/v1/alerts/{made['id']}/mute", keys["member"], json={"until": until.isoformat()})
    assert snoozed.status_code == 200, snoozed.text
    assert (snoozed.json()["muted"], snoozed.json()["snoozed_until"]) == (False, until.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    past = call(server, "POST", f"/api/v1/alerts/{made['id']}/mute", keys["member"], json={"until": "2001-01-01T00:00:00Z"})
    assert past.status_code == 400 and past.json()["field"] == "until"
    unmuted = call(server, "POST", f"/api/v1/alerts/{made['id']}/unmute", keys["member"])
    assert (unmuted.json()["muted"], unmuted.json()["snoozed_until"]) == (False, None)


def test_a_dry_run_counts_the_last_interval_in_the_store(server: Server, keys: dict[str, str]) -> None:
    app = unique("dry")
    assert server.ingest([{"line": "boom one", "app": app}, {"line": "boom two", "app": app}, {"line": "fine", "app": app}]).status_code == 200
    server.wait_stored(0)
    made = create(server, keys["member"], name=unique("dry run"), kind="presence", query=f"app:{app} boom", threshold=2)
    result = call(server, "POST", f"/api/v1/alerts/{made['id']}/test", keys["member"])
    assert result.status_code == 200, result.text
    assert (result.json()["matches"], result.json()["would_fire"]) == (2, True)
    history = call(server, "GET", f"/api/v1/alerts/{made['id']}/history", keys["readonly"])
    assert history.status_code == 200 and history.json() == {"firings": []}


def test_changes_are_audited(server: Server, keys: dict[str, str]) -> None:
    made = create(server, keys["member"], name=unique("audited"), kind="presence", query="app:audited")
    call(server, "PATCH", f"/api/v1/alerts/{made['id']}", keys["member"], json={"threshold": 3})
    call(server, "DELETE", f"/api/v1/alerts/{made['id']}", keys["member"])
    entries = call(server, "GET", "/api/v1/audit", server.service_key, params={"q": f'target:"alert {made["id"]}"', "limit": 100}).json()["entries"]
    assert sorted(e["action"] for e in entries) == ["alert.create", "alert.delete", "alert.update"]


def test_the_cli_creates_lists_mutes_and_deletes(server: Server, keys: dict[str, str]) -> None:
    remote = ("--server", server.url, "--key", keys["member"])
    name = unique("cli")
    created = run_cli("alerts", "create", name, "--query", "app:cli level:error", "--threshold", "3", "--interval", "1m",
                      "--immediate", "--days", "mon,tue", "--hours", "22-6", "--timezone", "Europe/Paris", *remote).stdout.decode()
    alert_id = created.rsplit("(id ", 1)[1].rstrip(")\n")
    shown = json.loads(run_cli("alerts", "show", alert_id, *remote).stdout)
    assert (shown["threshold"], shown["timing"], shown["schedule"]["hours"]) == (3, ["immediate"], [22, 6])
    listed = json.loads(run_cli("alerts", "list", "--json", *remote).stdout)
    assert name in [alert["name"] for alert in listed]
    assert "muted" in run_cli("alerts", "mute", alert_id, *remote).stdout.decode()
    assert "would not fire" in run_cli("alerts", "test", alert_id, *remote).stdout.decode()
    bad = run_cli("alerts", "create", unique("bad"), "--kind", "absence", "--interval", "1m", *remote, check=False)
    assert bad.returncode != 0 and b"15m" in bad.stderr
    assert "deleted" in run_cli("alerts", "delete", alert_id, *remote).stdout.decode()


def test_an_immediate_alert_fires_on_the_running_node_and_its_history_shows_it(server: Server, keys: dict[str, str]) -> None:
    app = unique("live")
    made = create(server, keys["member"], name=unique("live"), kind="presence", query=f"app:{app}", threshold=2,
                  interval="30s", timing=["immediate"])
    # No wait: the API's change makes the evaluator reload before it takes its next batch.
    assert server.ingest([{"line": "one", "app": app}, {"line": "two", "app": app}]).status_code == 200
    deadline = time.monotonic() + 15
    firings: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not firings:
        firings = call(server, "GET", f"/api/v1/alerts/{made['id']}/history", keys["readonly"]).json()["firings"]
        time.sleep(0.2)
    assert [(f["state"], f["matches"], f["deliveries"]) for f in firings] == [("firing", 2, [])]
    assert sorted(line["_line"] for line in firings[0]["lines"]) == ["one", "two"]


class Receiver(BaseHTTPRequestHandler):
    """A local webhook receiver: keeps each JSON body it is sent."""

    bodies: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        Receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.bodies = []
    http = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_address[1]}/hook"
    http.shutdown()
    http.server_close()


@pytest.fixture(scope="module")
def allowing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node whose administrator allows alerts to reach loopback (the receiver)."""
    node = start_server(tmp_path_factory.mktemp("allowing"), TIMBERYARD_ALERTS_OUTBOUND_ALLOW="127.0.0.1")
    yield node
    node.stop()


def test_send_test_notifies_each_channel_now_and_records_nothing(allowing: Server, receiver: str) -> None:
    channel = call(allowing, "POST", "/api/v1/channels", allowing.service_key, json={
        "name": "receiver", "kind": "webhook", "config": {"url": receiver}})
    assert channel.status_code == 201, channel.text
    made = create(allowing, allowing.service_key, name="send", kind="presence", query="app:none", channel_ids=[channel.json()["id"], 999999])
    result = call(allowing, "POST", f"/api/v1/alerts/{made['id']}/test", allowing.service_key, json={"send": True})
    assert result.status_code == 200, result.text
    assert result.json()["sent"][0] == {"channel_id": channel.json()["id"], "ok": True, "status": 200, "error": ""}
    assert result.json()["sent"][1]["ok"] is False and "not found" in result.json()["sent"][1]["error"]
    assert [(b["alert"], b["query"], b["url"].endswith(f"/alerts/{made['id']}")) for b in Receiver.bodies] == [("send", "app:none", True)]
    assert call(allowing, "GET", f"/api/v1/alerts/{made['id']}/history", allowing.service_key).json() == {"firings": []}
    wrong = call(allowing, "POST", f"/api/v1/alerts/{made['id']}/test", allowing.service_key, json={"send": "yes"})
    assert wrong.status_code == 400 and wrong.json()["field"] == "send"
