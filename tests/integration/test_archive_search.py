"""Searching archived lines and restoring them, against a real node process: archives in a local
directory (plain and client-side encrypted) and in S3, JSON and Parquet (moto's server, an S3 emulator, as a real
process on loopback), the query language over the files, tenant isolation, restore through the
pipeline without duplicates, and bad input."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import orjson
import pytest

from emulators import moto_s3
from servers import Server, archive_node, call, create_account, delete_lines, run_cli, start_server
from timberyard.archive.restore import BATCH_LINES

SETTLE_S = 1
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from archive_node(tmp_path_factory, SETTLE_S, TIMBERYARD_MAX_TIMESTAMP_SKEW_S=str(7 * 86_400))  # lines a day old keep their time


def archive(server: Server, service_key: str, ingestion_key: str, lines: list[dict[str, Any]], **settings: Any) -> str:
    """Configure the account's archive, send `lines`, archive them; the account id."""
    put = call(server, "PUT", "/api/v1/archive", service_key, json=settings)
    assert put.status_code == 200, put.text
    before = server.metric("timberyard_store_lines_total")
    sent = server.ingest(lines, key=ingestion_key)
    assert sent.status_code == 200, sent.text
    server.wait_stored(before + len(lines))
    time.sleep(SETTLE_S + 0.2)  # the settle delay is real time in a real node
    run = call(server, "POST", "/api/v1/archive/run", service_key)
    assert run.status_code == 200 and run.json()["lines"] == len(lines), run.text
    return str(run.json()["files"][0]["key"].split("/")[-1].split(".")[0])


def archived_search(server: Server, key: str, q: str, **params: Any) -> httpx.Response:
    return call(server, "GET", "/api/v1/archive/search", key, params={"q": q, **params})


def texts(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [line["line"] for line in answer.json()["lines"]]


def restore(server: Server, key: str, from_ms: int, to_ms: int) -> list[dict[str, Any]]:
    answer = call(server, "POST", "/api/v1/archive/restore", key, json={"from": from_ms, "to": to_ms})
    assert answer.status_code == 200, answer.text
    return [orjson.loads(line) for line in answer.text.splitlines()]


def test_search_over_plain_and_encrypted_local_archives_and_tenant_isolation(node: Server) -> None:
    now = int(time.time() * 1000)
    earlier = now - 2 * HOUR_MS
    plain = [{"line": f"plain checkout {n} order-{n}", "app": "shop", "timestamp": earlier + n, "meta": {"status": 500 if n % 5 == 0 else 200}}
             for n in range(40)]
    account = archive(node, node.service_key, node.ingestion_key, plain, destination={"type": "local", "path": "plain"})
    other = create_account(node, "archive-search-other")
    secret = [{"line": f"sealed payroll {n}", "app": "hr", "timestamp": earlier + n} for n in range(30)]
    other_id = archive(node, other["service_key"], other["ingestion_key"], secret, encryption=True,
                       destination={"type": "local", "path": "sealed"})
    assert other_id != account
    assert list((node.archive_root / "sealed").rglob("*.json.gz.enc"))  # type: ignore[attr-defined]
    window = {"from": earlier - HOUR_MS, "to": now}

    found = archived_search(node, node.service_key, "checkout", **window)
    lines = found.json()["lines"]
    assert texts(found) == [f"plain checkout {n} order-{n}" for n in reversed(range(40))]  # newest first
    assert all(line["archived"] is True and line["app"] == "shop" for line in lines)
    assert [line["ts"] for line in lines] == sorted((line["ts"] for line in lines), reverse=True)
    assert sorted(texts(archived_search(node, node.service_key, "status:500", **window))) == sorted(
        f"plain checkout {n} order-{n}" for n in range(0, 40, 5))
    assert texts(archived_search(node, node.service_key, "order-7", **window)) == ["plain checkout 7 order-7"]
    assert len(texts(archived_search(node, node.service_key, "checkout", limit=3, **window))) == 3
    assert texts(archived_search(node, node.service_key, "nothing-matches-this", **window)) == []
    assert texts(archived_search(node, node.service_key, "checkout", **{"from": now - 10 * HOUR_MS, "to": now - 8 * HOUR_MS})) == []

    sealed = archived_search(node, other["service_key"], "payroll", **window)
    assert sorted(texts(sealed)) == sorted(line["line"] for line in secret)  # opened from .enc files
    assert texts(archived_search(node, other["service_key"], "checkout", **window)) == []  # not the other tenant's
    assert texts(archived_search(node, node.service_key, "payroll", **window)) == []
    third = create_account(node, "archive-search-none")
    missing = archived_search(node, third["service_key"], "checkout", **window)
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound" and "not configured" in missing.json()["error"]

    bad = archived_search(node, node.service_key, 'status:"unclosed', **window)
    assert bad.status_code == 400 and bad.json()["code"] in ("QuerySyntaxError", "BadRequest"), bad.text
    backwards = archived_search(node, node.service_key, "checkout", **{"from": now, "to": earlier})
    assert backwards.status_code == 400 and "after" in backwards.json()["error"]
    too_many = archived_search(node, node.service_key, "checkout", limit=0, **window)
    assert too_many.status_code == 400 and "limit" in too_many.json()["error"]
    audit = call(node, "GET", "/api/v1/audit", node.service_key, params={"q": "action:archive.search"})
    assert audit.status_code == 200 and "order-7" in audit.text

    cli = run_cli("archive", "search", "order-7", "--from", str(earlier - HOUR_MS), "--to", "now", "--server", node.url,
                  "--key", node.service_key, "--json")
    assert [orjson.loads(line)["line"] for line in cli.stdout.splitlines()] == ["plain checkout 7 order-7"]


def test_search_pages_through_archived_lines_with_a_cursor_it_does_not_trust(node: Server) -> None:
    now = int(time.time() * 1000)
    recent, older = now - 2 * HOUR_MS, now - 26 * HOUR_MS  # 24 hours apart: two UTC days, so two stagings
    lines = [{"line": f"pageable {n}", "app": "pager", "timestamp": recent + n // 3} for n in range(12)]  # ts ties: id decides
    lines += [{"line": f"pageable {n}", "app": "pager", "timestamp": older + n} for n in range(12, 21)]
    archive(node, node.service_key, node.ingestion_key, lines, destination={"type": "local", "path": "plain"})
    window = {"from": older - HOUR_MS, "to": now}
    whole = archived_search(node, node.service_key, "pageable", limit=10_000, **window).json()
    assert len(whole["lines"]) == 21 and whole["next_cursor"] is None

    pages, cursor = [], None
    while True:
        params = {"limit": 5, "cursor": cursor} if cursor else {"limit": 5, **window}
        answer = archived_search(node, node.service_key, "pageable", **params)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            break
    assert [len(page["lines"]) for page in pages] == [5, 5, 5, 5, 1]
    assert [line["id"] for page in pages for line in page["lines"]] == [line["id"] for line in whole["lines"]]  # same order, once each
    assert all((page["from"], page["to"]) == (window["from"], window["to"]) for page in pages)  # the cursor keeps the range
    assert pages[-1]["files"] < pages[0]["files"]  # a later page reads only the hours up to its cursor's
    exact = archived_search(node, node.service_key, "pageable", limit=21, **window).json()
    assert len(exact["lines"]) == 21 and exact["next_cursor"] is None  # no empty page after an exact fit

    cli = ["archive", "search", "pageable", "--from", str(window["from"]), "--to", str(window["to"]), "--limit", "5",
           "--server", node.url, "--key", node.service_key, "--raw"]
    one = run_cli(*cli)
    assert one.stdout.decode().splitlines() == [line["line"] for line in whole["lines"][:5]]
    hint = one.stderr.decode()
    assert "--all prints them all" in hint
    following = run_cli(*cli, "--cursor", hint.split("--cursor ")[1].split()[0])
    assert following.stdout.decode().splitlines() == [line["line"] for line in whole["lines"][5:10]]
    everything = run_cli(*cli, "--all")
    assert everything.stdout.decode().splitlines() == [line["line"] for line in whole["lines"]] and everything.stderr == b""

    first = pages[0]["next_cursor"]
    other_q = archived_search(node, node.service_key, "checkout", cursor=first)
    assert other_q.status_code == 400 and "another q" in other_q.json()["error"]
    live = call(node, "GET", "/api/v1/search", node.service_key, params={"q": "pageable", "limit": 1, **window}).json()
    for bad in ("garbage!", "e30", live["next_cursor"] or "e30"):  # e30 is {}; the live search's cursor is not an archive one
        refused = archived_search(node, node.service_key, "pageable", cursor=bad)
        assert refused.status_code == 400 and refused.json()["code"] == "BadRequest" and "cursor" in refused.json()["error"], refused.text
    state = orjson.loads(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)))
    outside = base64.urlsafe_b64encode(orjson.dumps({**state, "ts": state["to"] + 1})).decode()
    assert archived_search(node, node.service_key, "pageable", cursor=outside).status_code == 400

    other = create_account(node, "archive-page-other")
    put = call(node, "PUT", "/api/v1/archive", other["service_key"], json={"destination": {"type": "local", "path": "plain"}})
    assert put.status_code == 200  # the same directory, yet another account's cursor reads only its own records' files
    stolen = archived_search(node, other["service_key"], "pageable", cursor=first)
    assert stolen.status_code == 200 and stolen.json()["lines"] == [] and stolen.json()["files"] == 0
    audit = call(node, "GET", "/api/v1/audit", node.service_key, params={"q": "action:archive.search"})
    assert audit.status_code == 200 and "after_ts" in audit.text and "pageable" in audit.text


def test_restore_puts_lines_back_once_and_only_the_accounts_own(node: Server) -> None:
    now = int(time.time() * 1000)
    # The start of a UTC hour no other test of this module's node has lines in: a restore's
    # `start` counts every line of the files it reads, and a file holds a whole hour. (With
    # now - 3 h, lines another test sent at now - 2 h shared its hour when they fell in that
    # hour's last minute, and the count was 40 over.)
    hour = now - now % HOUR_MS - 5 * HOUR_MS
    count = BATCH_LINES + 7  # more than one batch of the restore
    lines = [{"line": f"restorable refund {n}", "app": "billing", "timestamp": hour + n, "meta": {"amount": n}} for n in range(count)]
    account = archive(node, node.service_key, node.ingestion_key, lines, destination={"type": "local", "path": "plain"})
    window = (hour - 1, hour + count)
    live = restore(node, node.service_key, *window)
    assert live[0] == {"event": "start", "files": 1, "lines": count}
    assert live[-1]["event"] == "done" and live[-1]["restored"] == 0 and live[-1]["duplicates"] == count  # still in the store

    delete_lines(node, account, *window)
    gone = call(node, "GET", "/api/v1/search", node.service_key, params={"q": "refund", "from": window[0], "to": window[1]})
    assert gone.json()["lines"] == []
    cli = run_cli("archive", "restore", "--from", str(window[0]), "--to", str(window[1]), "--server", node.url, "--key", node.service_key)
    assert f"restored {count:,} lines".encode() in cli.stdout, cli.stdout
    again = restore(node, node.service_key, *window)
    assert again[-1]["restored"] == 0 and again[-1]["duplicates"] == count
    back = call(node, "GET", "/api/v1/search", node.service_key,
                params={"q": "_ingester:archive-restore refund", "from": window[0], "to": window[1], "limit": 10_000}).json()["lines"]
    assert sorted(line["line"] for line in back) == sorted(line["line"] for line in lines)  # each once
    assert sorted(line["ts"] for line in back) == [hour + n for n in range(count)]  # their own times
    assert {line["fields"]["amount"] for line in back} == set(range(count))
    assert {line["annotations"]["timberyard.archive_lid"] for line in back} == {
        line["id"] for line in archived_search(node, node.service_key, "refund", **{"from": window[0], "to": window[1], "limit": 10_000}).json()["lines"]}
    audit = call(node, "GET", "/api/v1/audit", node.service_key, params={"q": "action:archive.restore"})
    assert audit.status_code == 200 and "archive.restore" in audit.text

    other = create_account(node, "archive-restore-other")
    assert call(node, "POST", "/api/v1/archive/restore", other["service_key"], json={"from": window[0], "to": window[1]}).status_code == 404
    put = call(node, "PUT", "/api/v1/archive", other["service_key"], json={"destination": {"type": "local", "path": "plain"}})
    assert put.status_code == 200  # the same directory: still only its own records' files are read
    nothing = restore(node, other["service_key"], *window)
    assert nothing[0]["files"] == 0 and nothing[-1]["restored"] == 0
    assert call(node, "GET", "/api/v1/search", other["service_key"], params={"q": "refund", "from": window[0], "to": window[1]}).json()["lines"] == []

    readonly = call(node, "POST", "/api/v1/keys", node.service_key, json={"type": "service", "role": "readonly"}).json()["key"]
    denied = call(node, "POST", "/api/v1/archive/restore", readonly, json={"from": window[0], "to": window[1]})
    assert denied.status_code == 403 and denied.json()["code"] == "PermissionDenied"
    old = call(node, "POST", "/api/v1/archive/restore", node.service_key, json={"from": now - 400 * 86_400_000, "to": now})
    assert old.status_code == 400 and "retention" in old.json()["error"]
    missing = call(node, "POST", "/api/v1/archive/restore", node.service_key, json={"from": window[0]})
    assert missing.status_code == 400 and "to" in missing.json()["error"]
    garbage = call(node, "POST", "/api/v1/archive/restore", node.service_key, json={"from": "not a time", "to": "now"})
    assert garbage.status_code == 400 and garbage.json()["code"] == "BadRequest"


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.mark.parametrize(("encryption", "fmt"), [(False, "json"), (True, "json"), (True, "parquet")])
def test_search_over_an_s3_archive(tmp_path: Path, s3: str, encryption: bool, fmt: str) -> None:
    creds = {"aws_access_key_id": "AKIAEMULATOR", "aws_secret_access_key": "emulator-secret-key-0123456789"}
    bucket = f"search-{int(encryption)}-{fmt}"
    boto3.client("s3", endpoint_url=s3, region_name="us-east-1", **creds).create_bucket(Bucket=bucket)
    server = start_server(tmp_path / "node", TIMBERYARD_ARCHIVE_SETTLE_S=str(SETTLE_S),
                          TIMBERYARD_ALERTS_OUTBOUND_ALLOW="127.0.0.1")
    try:
        now = int(time.time() * 1000)
        lines = [{"line": f"bucket line {n} {'odd' if n % 2 else 'even'}", "app": "s3", "timestamp": now - HOUR_MS - n} for n in range(20)]
        archive(server, server.service_key, server.ingestion_key, lines, encryption=encryption, format=fmt, destination={
            "type": "s3", "bucket": bucket, "prefix": "t", "endpoint_url": s3, "region": "us-east-1",
            "access_key_id": creds["aws_access_key_id"], "secret_access_key": creds["aws_secret_access_key"]})
        found = archived_search(server, server.service_key, "odd", **{"from": now - 3 * HOUR_MS, "to": now})
        assert sorted(texts(found)) == sorted(line["line"] for line in lines if "odd" in line["line"])
        assert texts(archived_search(server, server.service_key, "absent-word", **{"from": now - 3 * HOUR_MS, "to": now})) == []
        assert creds["aws_secret_access_key"] not in server.log_path.read_text()
    finally:
        server.stop()


def test_what_a_killed_node_had_staged_is_removed_when_it_starts(node: Server) -> None:
    """A node killed in the middle of a search or restore leaves its staged files (decrypted
    lines among them) under the data directory; the next start removes them."""
    node.kill()
    left = node.data_dir / "archive-staging" / "acct.k1ll3d"
    left.mkdir(parents=True, exist_ok=True)
    (left / "000000.json.gz").write_bytes(b"decrypted lines of a search that never finished")
    (node.data_dir / "archive-staging" / "000001.json.gz.download").write_bytes(b"half a download")
    node.start()
    assert list((node.data_dir / "archive-staging").iterdir()) == []
    assert "removed archive files a stopped search or restore had staged" in node.log_path.read_text()
