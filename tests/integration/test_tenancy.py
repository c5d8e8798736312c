"""Accounts are tenants: one account's keys never read, write or manage another's data.

Account A is the one `timberyard init` made; account B is created with
`timberyard accounts create` while the server runs. Both send lines with the same host names,
apps, levels, tags and words, so only the account keeps them apart.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from servers import Server, run_cli

# A name no other test sends from (the server is shared), and the same in every process: xdist
# workers must collect the same test ids, and this one is in them.
SHARED_HOST = "shared-host-tenancy"
SHARED_APP = "shared-app"
LINES_EACH = 30


def lines_for(tenant: str) -> list[dict[str, Any]]:
    return [
        {
            "line": f"ERROR checkout failed order={n} tenant-{tenant}-only common words",
            "app": SHARED_APP,
            "level": "error" if n % 2 else "info",
            "tags": ["shared-tag"],
            "meta": {"tenant": tenant, "n": n},
        }
        for n in range(LINES_EACH)
    ]


def export_as(server: Server, service_key: str, **params: Any) -> list[dict[str, Any]]:
    return server.export(key=service_key, **params)


def list_keys(server: Server, service_key: str) -> httpx.Response:
    return httpx.get(server.url + "/api/v1/keys", auth=(service_key, ""), timeout=10)


@pytest.fixture(scope="module")
def tenants(server: Server) -> dict[str, dict[str, str]]:
    """A (the init account) and B (made while the server runs), each with its lines sent."""
    created = run_cli("accounts", "create", f"tenant-b-{uuid.uuid4().hex[:6]}", "--data-dir", str(server.data_dir), "--json")
    b = json.loads(created.stdout)
    assert set(b) >= {"account", "account_name", "ingestion_key", "service_key"}
    a = {"account": server.credentials["account"], "ingestion_key": server.ingestion_key, "service_key": server.service_key}
    assert a["account"] != b["account"]
    before = server.metric("timberyard_store_lines_total")
    for name, tenant in (("a", a), ("b", b)):
        response = server.ingest(lines_for(name), key=tenant["ingestion_key"], params={"hostname": SHARED_HOST, "tags": "query-tag"})
        assert response.status_code == 200, response.text
    server.wait_stored(before + 2 * LINES_EACH)
    return {"a": a, "b": b}


QUERIES = [
    {},
    {"hosts": SHARED_HOST},
    {"apps": SHARED_APP},
    {"levels": "error,info"},
    {"tags": "shared-tag,query-tag"},
    {"query": "checkout failed"},
    {"query": "tenant-a-only"},
    {"query": "tenant-b-only"},
    {"hosts": SHARED_HOST, "apps": SHARED_APP, "query": "common words", "prefer": "head"},
    {"hosts": SHARED_HOST, "size": 5, "prefer": "tail"},
]


@pytest.mark.parametrize("query", QUERIES, ids=[orjson.dumps(q).decode() for q in QUERIES])
@pytest.mark.parametrize("reader", ["a", "b"])
def test_a_service_key_sees_only_its_own_account(server: Server, tenants: dict[str, dict[str, str]], reader: str, query: dict[str, Any]) -> None:
    other = "b" if reader == "a" else "a"
    exported = export_as(server, tenants[reader]["service_key"], **query)
    assert all(f"tenant-{other}-only" not in line["_line"] for line in exported), "saw the other account's lines"
    assert all(line["_meta"]["tenant"] == reader for line in exported if line["_host"] == SHARED_HOST)
    own = [line for line in exported if f"tenant-{reader}-only" in line["_line"]]
    if query.get("query") == f"tenant-{other}-only":
        assert exported == []
    elif "size" in query:
        assert len(own) == query["size"]
    else:
        assert len(own) == LINES_EACH


def test_each_ingestion_key_writes_into_its_own_account(server: Server, tenants: dict[str, dict[str, str]]) -> None:
    host = f"b-only-host-{uuid.uuid4().hex[:8]}"
    before = server.metric("timberyard_store_lines_total")
    response = server.ingest([{"line": "written with B's key"}], key=tenants["b"]["ingestion_key"], params={"hostname": host})
    assert response.status_code == 200, response.text
    server.wait_stored(before + 1)
    assert [line["_line"] for line in export_as(server, tenants["b"]["service_key"], hosts=host)] == ["written with B's key"]
    assert export_as(server, tenants["a"]["service_key"], hosts=host) == []
    assert export_as(server, tenants["a"]["service_key"], query="written with B") == []


def test_keys_of_one_account_are_invisible_to_the_other(server: Server, tenants: dict[str, dict[str, str]]) -> None:
    a_keys = list_keys(server, tenants["a"]["service_key"])
    b_keys = list_keys(server, tenants["b"]["service_key"])
    assert a_keys.status_code == b_keys.status_code == 200
    a_ids = {k["id"] for k in a_keys.json()["keys"]}
    b_ids = {k["id"] for k in b_keys.json()["keys"]}
    assert a_ids and b_ids and not a_ids & b_ids
    assert {k["account_id"] for k in a_keys.json()["keys"]} == {tenants["a"]["account"]}
    assert {k["account_id"] for k in b_keys.json()["keys"]} == {tenants["b"]["account"]}
    assert {k["type"] for k in b_keys.json()["keys"]} == {"ingestion", "service"}


def test_an_account_cannot_revoke_another_accounts_key(server: Server, tenants: dict[str, dict[str, str]]) -> None:
    b_keys = list_keys(server, tenants["b"]["service_key"]).json()["keys"]
    assert b_keys
    for key in b_keys:
        response = httpx.delete(f"{server.url}/api/v1/keys/{key['id']}", auth=(tenants["a"]["service_key"], ""), timeout=10)
        assert response.status_code == 404, response.text
        body = response.json()
        assert body["code"] == "NotFound"
        assert tenants["b"]["account"] not in response.text  # nothing about the other account leaks
    # Indistinguishable from a key that does not exist at all.
    missing = httpx.delete(f"{server.url}/api/v1/keys/000000000000", auth=(tenants["a"]["service_key"], ""), timeout=10)
    assert missing.status_code == 404
    assert set(missing.json()) == set(response.json())

    # B's keys all still work: listing, exporting and ingesting.
    after = list_keys(server, tenants["b"]["service_key"])
    assert after.status_code == 200
    assert all(k["active"] and k["revoked_at"] is None for k in after.json()["keys"])
    host = f"b-after-{uuid.uuid4().hex[:8]}"
    before = server.metric("timberyard_store_lines_total")
    response = server.ingest([{"line": "still works"}], key=tenants["b"]["ingestion_key"], params={"hostname": host})
    assert response.status_code == 200, response.text
    server.wait_stored(before + 1)
    assert [line["_line"] for line in export_as(server, tenants["b"]["service_key"], hosts=host)] == ["still works"]


def test_an_account_cannot_create_keys_for_another(server: Server, tenants: dict[str, dict[str, str]]) -> None:
    """A key made with A's admin key belongs to A: its lines are A's, never B's."""
    response = httpx.post(server.url + "/api/v1/keys", json={"type": "ingestion"}, auth=(tenants["a"]["service_key"], ""), timeout=10)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["account_id"] == tenants["a"]["account"]
    host = f"new-key-{uuid.uuid4().hex[:8]}"
    before = server.metric("timberyard_store_lines_total")
    assert server.ingest([{"line": "from A's new key"}], key=created["key"], params={"hostname": host}).status_code == 200
    server.wait_stored(before + 1)
    assert len(export_as(server, tenants["a"]["service_key"], hosts=host)) == 1
    assert export_as(server, tenants["b"]["service_key"], hosts=host) == []


def test_revoking_a_key_touches_only_that_account(server: Server, tenants: dict[str, dict[str, str]]) -> None:
    """B revokes a key of its own; A's keys keep working."""
    response = httpx.post(server.url + "/api/v1/keys", json={"type": "ingestion"}, auth=(tenants["b"]["service_key"], ""), timeout=10)
    assert response.status_code == 201, response.text
    spare = response.json()
    revoked = httpx.delete(f"{server.url}/api/v1/keys/{spare['id']}", auth=(tenants["b"]["service_key"], ""), timeout=10)
    assert revoked.status_code == 200, revoked.text
    assert server.ingest([{"line": "x"}], key=spare["key"]).status_code == 403
    assert server.ingest([{"line": "x"}], key=tenants["a"]["ingestion_key"], params={"hostname": f"a-{time.time_ns()}"}).status_code == 200
    assert list_keys(server, tenants["a"]["service_key"]).status_code == 200


def test_account_names_are_unique(server: Server, tenants: dict[str, dict[str, str]]) -> None:
    name = f"dup-{uuid.uuid4().hex[:6]}"
    run_cli("accounts", "create", name, "--data-dir", str(server.data_dir), "--json")
    again = run_cli("accounts", "create", name, "--data-dir", str(server.data_dir), "--json", check=False)
    assert again.returncode != 0
    stderr = again.stderr.decode()
    assert "already exists" in stderr and "Traceback" not in stderr
    assert again.stdout == b""
