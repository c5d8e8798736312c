"""A data directory written by the first release opens with this one: the store and metadata
schemas migrate, stored lines keep their meta as fields, and acknowledged lines that release
left in its write-ahead log are replayed in its record format (tests/data/README.md)."""

from __future__ import annotations

import json
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import Server

DATA = Path(__file__).resolve().parents[1] / "data" / "first-release.tar.gz"
YEAR_2090_MS = 3_786_912_000_000


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("upgrade")
    with tarfile.open(DATA) as archive:
        archive.extractall(root, filter="data")
    data_dir = root / "data"
    server = Server(data_dir, env={"TIMBERYARD_BATCH_MAX_WAIT_MS": "100"})
    server.credentials = json.loads((data_dir / "test-credentials.json").read_text())
    server.start()
    server.wait_stored(0)
    yield server
    server.stop()


def lines(server: Server, query: str, around: int = YEAR_2090_MS) -> list[dict[str, Any]]:
    response = httpx.get(
        server.url + "/api/v1/search",
        params={"q": query, "from": str(around - 86_400_000), "to": str(around + 86_400_000), "limit": 100, "order": "asc"},
        auth=(server.service_key, ""),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return list(response.json()["lines"])


def test_stored_lines_and_replayed_lines_are_all_there_once(upgraded: Server) -> None:
    assert [line["line"].split()[0] + " " + line["line"].split()[1] for line in lines(upgraded, "host:old-host")] == [
        "stored 0", "stored 1", "stored 2", "stored 3", "stored 4", "pending 0", "pending 1",
    ]


def test_meta_of_the_first_release_is_searchable_as_fields(upgraded: Server) -> None:
    assert [line["line"] for line in lines(upgraded, "status:>=500")] == ["stored 1 payment failed"]
    assert [line["line"] for line in lines(upgraded, "user.id:==42")] == ["stored 0 GET /api/orders 200"]
    assert [line["line"] for line in lines(upgraded, "request.path:/x")] == ["stored 4 plain"]
    assert [line["line"] for line in lines(upgraded, "status:404")] == ["pending 0 queued in the wal"]
    assert lines(upgraded, "user.id:==42")[0]["fields"] == {"status": 200, "user": {"id": 42}, "route": "/api/orders"}


def test_meta_that_release_accepted_but_could_not_read_back_is_kept_as_text(upgraded: Server) -> None:
    poisoned = {line["line"]: line["fields"] for line in lines(upgraded, "_unparsed:*")}
    assert set(poisoned) == {"stored 2 poison meta", "pending 1 ERROR queued"}
    assert all("1e400" in fields["_unparsed"] for fields in poisoned.values())


def test_levels_of_replayed_lines_are_decided_and_every_spelling_finds_them(upgraded: Server) -> None:
    assert [line["line"] for line in lines(upgraded, "level:error")] == ["stored 3 ERROR disk full", "pending 1 ERROR queued"]
    assert [line["line"] for line in lines(upgraded, "level:warning")] == ["stored 1 payment failed"]


def test_new_lines_go_in_beside_the_old_ones(upgraded: Server) -> None:
    response = upgraded.ingest([{"line": '{"status": 599, "msg": "new"}'}], params={"hostname": "new-host"})
    assert response.status_code == 200
    upgraded.wait_stored(0)
    now = int(time.time() * 1000)
    assert [line["fields"]["status"] for line in lines(upgraded, "host:new-host status:599", around=now)] == [599]
