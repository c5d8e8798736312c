"""Log templates end to end on a real server: each stored line carries its template id, the id
finds its lines with `template:ID`, its text is readable by its own account only, and the ids
stay the same across a restart and a kill -9."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import Server, run_cli, start_server

RUN = uuid.uuid4().hex[:8]
HOST = f"templates-{RUN}"
INVALID = "Invalid user {} from 10.0.{}.7"
ACCEPTED = "Accepted publickey for {} from 10.1.{}.9 port 4{}22 ssh2"


def sshd_lines(count: int) -> list[dict[str, Any]]:
    users = ["admin", "webmaster", "oracle", "deploy"]
    return [
        {"line": (INVALID if n % 2 else ACCEPTED).format(users[n % 4], n, n), "app": "sshd"} for n in range(count)
    ]


def search(server: Server, query: str, key: str | None = None) -> httpx.Response:
    params = {"q": f"host:=={HOST} {query}".strip(), "limit": 1000, "order": "asc"}
    return httpx.get(server.url + "/api/v1/search", params=params, auth=(key or server.service_key, ""), timeout=30)


def found(server: Server, query: str, key: str | None = None) -> list[dict[str, Any]]:
    response = search(server, query, key)
    assert response.status_code == 200, response.text
    return response.json()["lines"]


def template_of(server: Server, ident: str, key: str | None = None) -> httpx.Response:
    return httpx.get(server.url + f"/api/v1/templates/{ident}", auth=(key or server.service_key, ""), timeout=30)


def ingest(server: Server, lines: list[dict[str, Any]], key: str | None = None) -> None:
    before = server.metric("timberyard_store_lines_total")
    response = server.ingest(lines, key=key, params={"hostname": HOST})
    assert response.status_code == 200, response.text
    server.wait_stored(before + len(lines))


@pytest.fixture(scope="module")
def other_account(server: Server) -> dict[str, str]:
    """A second account that sent the very same lines."""
    created = run_cli("accounts", "create", f"templates-b-{RUN}", "--data-dir", str(server.data_dir), "--json")
    other = json.loads(created.stdout)
    ingest(server, sshd_lines(8), key=other["ingestion_key"])
    return other


@pytest.fixture(scope="module")
def lines(server: Server) -> list[dict[str, Any]]:
    ingest(server, sshd_lines(8))
    return found(server, "")


def test_each_line_carries_its_template_and_template_id_finds_its_lines(server: Server, lines: list[dict[str, Any]]) -> None:
    assert len(lines) == 8
    invalid = {line["template"] for line in lines if line["line"].startswith("Invalid")}
    accepted = {line["template"] for line in lines if line["line"].startswith("Accepted")}
    assert len(invalid) == len(accepted) == 1 and invalid != accepted and "0" not in invalid | accepted
    [ident] = invalid
    assert {line["id"] for line in found(server, f"template:{ident}")} == {
        line["id"] for line in lines if line["template"] == ident
    }
    assert len(found(server, f"-template:{ident}")) == 4
    assert len(found(server, f"template:[{ident},{next(iter(accepted))}]")) == 8
    exported = server.export(hosts=HOST)
    assert {line["_template"] for line in exported} == invalid | accepted


def test_the_template_text_is_readable_by_its_account_only(
    server: Server, lines: list[dict[str, Any]], other_account: dict[str, str]
) -> None:
    ident = next(line["template"] for line in lines if line["line"].startswith("Invalid"))
    response = template_of(server, ident)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": ident, "app": "sshd", "template": "Invalid user <*> from <*>"}

    stranger = template_of(server, ident, key=other_account["service_key"])
    assert stranger.status_code == 404 and stranger.json()["code"] == "NotFound"
    assert found(server, f"template:{ident}", key=other_account["service_key"]) == []
    # the other account's same lines have their own template, with another id
    theirs = found(server, "Invalid", key=other_account["service_key"])
    assert len(theirs) == 4 and {line["template"] for line in theirs}.isdisjoint({ident})
    assert httpx.get(server.url + f"/api/v1/templates/{ident}", timeout=30).status_code == 401


@pytest.mark.parametrize("query", ["template:abc", "template:-1", "template:18446744073709551616", "template:>3"])
def test_a_bad_template_id_is_a_query_error(server: Server, query: str) -> None:
    response = search(server, query)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "QuerySyntaxError" and "template" in body["error"]


@pytest.mark.parametrize("ident", ["abc", "-1", "18446744073709551616", "1" * 30])
def test_a_path_that_is_no_template_id_is_a_404(server: Server, ident: str) -> None:
    response = template_of(server, ident)
    assert response.status_code == 404 and "whole numbers" in response.json()["error"]


def test_ids_are_the_same_after_a_restart_and_after_kill_9(tmp_path: Path) -> None:
    """Lines whose template was learnt from another first line: relearning from scratch would
    give them another id (an id hashes the first text), so this holds only if the templates
    were kept, by the snapshot on a clean stop and by the journal on a kill."""
    node = start_server(tmp_path / "node")
    try:
        ingest(node, [{"line": f"cache warm for shard {name}", "app": "cache"} for name in ("alpha", "beta")])
        before = {line["line"]: line["template"] for line in found(node, "")}
        node.stop()
        node.start()
        ingest(node, [{"line": "job started for gamma", "app": "jobs"}, {"line": "job started for delta", "app": "jobs"}])
        node.kill()
        node.start()
        ingest(node, [{"line": "cache warm for shard beta", "app": "cache"}, {"line": "job started for delta", "app": "jobs"}])
        after = found(node, "")
        assert len(after) == 6
        by_text: dict[str, set[str]] = {}
        for line in after:
            by_text.setdefault(line["line"], set()).add(line["template"])
        assert by_text["cache warm for shard beta"] == {before["cache warm for shard alpha"]}
        assert len(by_text["job started for delta"]) == 1 and by_text["job started for delta"] == by_text["job started for gamma"]
        assert template_of(node, before["cache warm for shard alpha"]).json()["template"] == "cache warm for shard <*>"
    finally:
        if node.process is not None:
            node.stop()
