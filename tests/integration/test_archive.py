"""Archives against a real node process archiving to a local directory: the Mezmo layout, every
line exactly once (late lines in a `.1` file), `timberyard archive verify` catching tampering,
status and settings per account only, and credentials never answered nor logged."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from servers import Server, archive_node, call, run_cli
from timberyard.archive import layout

SETTLE_S = 1
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from archive_node(tmp_path_factory, SETTLE_S, TIMBERYARD_ALERTS_OUTBOUND_ALLOW="127.0.0.1")


def archived_lines(root: Path) -> list[dict[str, object]]:
    lines = []
    for path in sorted(root.rglob("*.json.gz")):
        lines.extend(orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines())
    return lines


def send(server: Server, texts: list[str], ts_ms: int) -> None:
    before = server.metric("timberyard_store_lines_total")
    response = server.ingest([{"line": text, "app": "archive-test", "timestamp": ts_ms} for text in texts])
    assert response.status_code == 200, response.text
    server.wait_stored(before + len(texts))
    time.sleep(SETTLE_S + 0.2)  # the settle delay is real time in a real node


def test_archive_delivers_each_line_once_late_lines_in_a_dot_1_file_and_verify_catches_tampering(node: Server) -> None:
    root: Path = node.archive_root / "acme"  # type: ignore[attr-defined]
    put = call(node, "PUT", "/api/v1/archive", node.service_key, json={"destination": {"type": "local", "path": "acme"}})
    assert put.status_code == 200, put.text
    assert call(node, "POST", "/api/v1/archive/test", node.service_key).json()["ok"] is True
    now = int(time.time() * 1000)
    earlier = now - 2 * HOUR_MS
    send(node, [f"first {n}" for n in range(50)], earlier)
    send(node, [f"now {n}" for n in range(10)], now)
    first = call(node, "POST", "/api/v1/archive/run", node.service_key)
    assert first.status_code == 200, first.text
    account = first.json()["files"][0]["key"].split("/")[-1].split(".")[0]
    hour = layout.hour_of(earlier)
    assert {f["key"] for f in first.json()["files"]} >= {layout.data_key(account, hour, 0, False)}
    send(node, [f"late {n}" for n in range(5)], earlier)
    second = call(node, "POST", "/api/v1/archive/run", node.service_key).json()
    assert [f["key"] for f in second["files"]] == [layout.data_key(account, hour, 1, False)]
    assert second["files"][0]["lines"] == 5
    assert call(node, "POST", "/api/v1/archive/run", node.service_key).json()["files"] == []  # nothing new: no file
    texts = [line["_line"] for line in archived_lines(root)]
    expected = [f"first {n}" for n in range(50)] + [f"now {n}" for n in range(10)] + [f"late {n}" for n in range(5)]
    assert sorted(texts) == sorted(expected)  # each line once, none missing
    status = call(node, "GET", "/api/v1/archive/status", node.service_key).json()
    assert status["files"] == len(first.json()["files"]) + 1 and status["lines"] == 65 and status["last_error"] is None
    assert 0 < status["lag_s"] < 60
    assert f'timberyard_archive_lag_seconds{{account="{account}"}}' in call(node, "GET", "/metrics", headers={"Authorization": "Bearer operator-metrics-token-for-tests-0123"}).text
    own = call(node, "GET", "/metrics", node.service_key).text  # the account's own key sees its own lag, and only it
    assert f'timberyard_archive_lag_seconds{{account="{account}"}}' in own and own.count("timberyard_archive_lag_seconds{") == 1

    key = run_cli("archive", "public-key", "--data-dir", str(node.data_dir)).stdout
    (node.data_dir / "archive.pem").write_bytes(key)
    verify = ["archive", "verify", "--account", account, "--dir", str(root), "--public-key", str(node.data_dir / "archive.pem"),
              "--from", "1d", "--to", "now"]
    ok = run_cli(*verify)
    assert b"archive intact" in ok.stdout
    late = root / layout.data_key(account, hour, 1, False)
    late.write_bytes(gzip.compress(b'{"_line": "forged"}\n'))
    (root / layout.data_key(account, layout.hour_of(now), 0, False)).unlink()
    (root / layout.data_key(account, hour, 7, False)).write_bytes(gzip.compress(b"{}\n"))
    bad = run_cli(*verify, check=False)
    out = bad.stdout.decode()
    assert bad.returncode == 1 and "modified:" in out and "deleted:" in out and "added:" in out, out


def test_settings_are_per_account_and_credentials_never_come_back(node: Server) -> None:
    other = orjson.loads(run_cli("accounts", "create", "archive-other", "--data-dir", str(node.data_dir), "--json").stdout)["service_key"]
    secret = "wJalrXUtnFEMI-archive-secret-0123456789"
    body = {"enabled": False, "destination": {"type": "s3", "bucket": "other-logs", "endpoint_url": "http://127.0.0.1:9",
                                              "access_key_id": "AKIAOTHER", "secret_access_key": secret}}
    answer = call(node, "PUT", "/api/v1/archive", other, json=body)
    assert answer.status_code == 200 and secret not in answer.text
    assert answer.json()["destination"]["secret_access_key"] == "***set***"
    again = call(node, "GET", "/api/v1/archive", other)
    assert secret not in again.text and again.json()["destination"]["bucket"] == "other-logs"
    mine = call(node, "GET", "/api/v1/archive", node.service_key).json()
    assert mine["destination"] == {"type": "local", "path": "acme"}
    assert call(node, "POST", "/api/v1/archive/run", other).status_code == 409  # disabled
    probe = call(node, "POST", "/api/v1/archive/test", other).json()
    assert probe["ok"] is False and "other-logs" in probe["error"] and secret not in probe["error"]
    bad = call(node, "PUT", "/api/v1/archive", other, json={"destination": {"type": "local", "path": "../../etc"}})
    assert bad.status_code == 400 and bad.json()["code"] == "BadRequest" and bad.json()["field"] == "destination.path"
    # The node allows 127.0.0.1 only; an endpoint inside the network is refused like an alert channel's.
    for destination in ({**body["destination"], "endpoint_url": "http://169.254.169.254/latest"},
                        {"type": "azure", "account_url": "http://10.20.30.40:10000/acme", "container": "logs",
                         "account_name": "acme", "account_key": "a2V5"}):
        refused = call(node, "PUT", "/api/v1/archive", other, json={"destination": destination})
        field = "destination.endpoint_url" if destination["type"] == "s3" else "destination.account_url"
        assert refused.status_code == 400 and refused.json()["code"] == "OutboundRefused", refused.text
        assert refused.json()["field"] == field and "alerts_outbound_allow" in refused.json()["error"]
    assert call(node, "GET", "/api/v1/archive", other).json()["destination"]["endpoint_url"] == "http://127.0.0.1:9"
    audit = call(node, "GET", "/api/v1/audit", other, params={"q": "action:archive.configure"})
    assert audit.status_code == 200 and "archive.configure" in audit.text and secret not in audit.text
    assert secret not in node.log_path.read_text()


def test_retention_is_the_owners_audited_and_checked(node: Server) -> None:
    put = call(node, "PUT", "/api/v1/archive", node.service_key, json={"destination": {"type": "local", "path": "acme"}})
    assert put.status_code == 200, put.text  # archiving on and current, so the answer has a lag to show
    assert call(node, "POST", "/api/v1/archive/run", node.service_key).status_code == 200  # whatever ran before
    admin = call(node, "PUT", "/api/v1/account/retention", node.service_key, json={"retention_days": 90})
    assert admin.status_code == 403 and admin.json()["code"] == "PermissionDenied"
    login = call(node, "POST", "/api/v1/auth/login", json={"email": node.credentials["owner_email"], "password": node.credentials["owner_password"]})
    assert login.status_code == 200, login.text
    owner = {"cookies": dict(login.cookies), "headers": {"X-CSRF-Token": login.json()["csrf_token"]}}
    bad = call(node, "PUT", "/api/v1/account/retention", json={"retention_days": 0}, **owner)
    assert bad.status_code == 400 and bad.json()["field"] == "retention_days"
    changed = call(node, "PUT", "/api/v1/account/retention", json={"retention_days": 90}, **owner)
    assert changed.status_code == 200, changed.text
    assert changed.json()["retention_days"] == 90 and changed.json()["archive_lag_s"] is not None
    audit = call(node, "GET", "/api/v1/audit", node.service_key, params={"q": "action:account.retention"})
    assert '"to": 90' in audit.text.replace('"to":90', '"to": 90'), audit.text

