"""GET /metrics: node-wide figures only for the node's operator (its `metrics_token`), an account's
own figures for that account's keys and users; and every metric the docs list exists on a fresh
node, at 0, with HELP text."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import METRICS_TOKEN, OPERATOR, Server, run_cli, start_server

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTED = re.compile(r"^\| `(timberyard_[a-z0-9_]+)` \| (counter|gauge|summary) \|", re.MULTILINE)
SAMPLE = re.compile(r"^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("fresh"))
    yield running
    running.stop()


def scrape(server: Server, **kwargs: object) -> httpx.Response:
    return httpx.get(server.url + "/metrics", timeout=10, **kwargs)  # type: ignore[arg-type]


def families(text: str) -> dict[str, dict[str, object]]:
    """{family: {"help": ..., "type": ..., "samples": {name+labels: value}}}."""
    found: dict[str, dict[str, object]] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            found.setdefault(name, {"samples": {}})["help"] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            found.setdefault(name, {"samples": {}})["type"] = kind
        elif match := SAMPLE.match(line):
            name = match[1]
            family = name if name in found else name.removesuffix("_sum").removesuffix("_count")
            found[family]["samples"][name + (match[2] or "")] = float(match[3])  # type: ignore[index]
    return found


def test_every_documented_metric_exists_from_the_start_with_help(fresh: Server) -> None:
    table = dict(DOCUMENTED.findall((ROOT / "docs" / "operations.md").read_text()))
    assert len(table) >= 20, "the metrics table in docs/operations.md was not found"
    shown = families(scrape(fresh, headers=OPERATOR).text)
    for name, kind in table.items():
        assert name in shown, f"{name} is documented but a fresh node does not show it"
        assert shown[name]["type"] == kind, name
        assert shown[name]["help"] and shown[name]["help"] != name, f"{name} has no HELP text"
        if kind != "gauge":
            assert set(shown[name]["samples"].values()) == {0}, (name, shown[name])  # type: ignore[union-attr]
    syslog_doc = (ROOT / "docs" / "syslog.md").read_text()
    undocumented = [name for name in shown if name not in table and f"`{name}" not in syslog_doc]
    assert not undocumented, f"shown by the node but not in docs/operations.md's table: {undocumented}"


def test_the_operator_token_shows_the_node(server: Server) -> None:
    response = scrape(server, headers=OPERATOR)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert "timberyard_wal_pending_bytes" in response.text and "timberyard_store_lines_total" in response.text


@pytest.mark.parametrize("authorization", [f"Bearer {METRICS_TOKEN}x", f"Bearer {METRICS_TOKEN[:-1]}", f"Basic {METRICS_TOKEN}", METRICS_TOKEN])
def test_a_wrong_token_is_no_credential(server: Server, authorization: str) -> None:
    response = scrape(server, headers={"Authorization": authorization})
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "MissingCredentials"


def test_an_ingestion_key_sees_nothing(server: Server) -> None:
    response = scrape(server, auth=(server.ingestion_key, ""))
    assert response.status_code == 403 and "timberyard_" not in response.text


def test_an_account_sees_only_its_own_figures(server: Server) -> None:
    other = json.loads(run_cli("accounts", "create", f"metrics-{uuid.uuid4().hex[:6]}", "--data-dir", str(server.data_dir), "--json").stdout)
    mine = httpx.get(server.url + "/api/v1/keys", auth=(server.service_key, ""), timeout=10).json()["keys"][0]["account_id"]
    theirs_id = httpx.get(server.url + "/api/v1/keys", auth=(other["service_key"], ""), timeout=10).json()["keys"][0]["account_id"]
    readonly = httpx.post(server.url + "/api/v1/keys", json={"type": "service", "role": "readonly"}, auth=(server.service_key, ""), timeout=10)
    assert readonly.status_code == 201, readonly.text
    lines = [{"line": f"metrics line {n}"} for n in range(7)]
    assert server.ingest(lines).status_code == 200
    assert server.ingest(lines[:2], key=other["ingestion_key"]).status_code == 200

    for key in (server.service_key, readonly.json()["key"]):
        text = scrape(server, auth=(key, "")).text
        shown = families(text)
        assert set(shown) == {"timberyard_account_ingest_lines_total", "timberyard_account_stored_lines_total",
                              "timberyard_archive_lag_seconds"}, text
        assert shown["timberyard_archive_lag_seconds"]["samples"] == {}  # archiving is off for this account
        assert shown["timberyard_account_ingest_lines_total"]["samples"] == {f'timberyard_account_ingest_lines_total{{account="{mine}"}}': 7}
        assert theirs_id not in text and "timberyard_wal_pending_bytes" not in text
    theirs = scrape(server, auth=(other["service_key"], "")).text
    assert f'timberyard_account_ingest_lines_total{{account="{theirs_id}"}} 2' in theirs and mine not in theirs
    node = scrape(server, headers=OPERATOR).text
    assert f'timberyard_account_ingest_lines_total{{account="{mine}"}} 7' in node


def test_a_node_without_a_token_serves_node_metrics_to_nobody(tmp_path_factory: pytest.TempPathFactory) -> None:
    tokenless = start_server(tmp_path_factory.mktemp("tokenless"), TIMBERYARD_METRICS_TOKEN="")
    try:
        assert scrape(tokenless, headers=OPERATOR).status_code == 401
        assert "timberyard_wal_pending_bytes" not in scrape(tokenless, auth=(tokenless.service_key, "")).text
    finally:
        tokenless.stop()


def test_a_short_token_stops_the_node_at_start(tmp_path: Path) -> None:
    short = Server(tmp_path, env={"TIMBERYARD_METRICS_TOKEN": "short"})
    short.init()
    with pytest.raises(AssertionError, match="metrics_token must have at least 24 characters"):
        short.start()
