"""Parquet archives against a real node process archiving to a local directory: each hour's
lines in a `.parquet` file holding the `/v1/export` fields (checked with pyarrow against the
node's own `/v1/export` of the same lines), sealed as `.parquet.enc` with encryption, verify
catching a modified, a deleted and an added Parquet file, a change of format applying to later
files only, and search and restore reading a range of both formats completely."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archive_files import export_lines
from servers import Server, archive_node, call, create_account, delete_lines, run_cli
from timberyard.archive import layout

SETTLE_S = 1
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from archive_node(tmp_path_factory, SETTLE_S)


def send_and_run(server: Server, keys: dict[str, str], lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Send `lines`, wait until they may be archived, run the archive; the run's answer."""
    before = server.metric("timberyard_store_lines_total")
    sent = server.ingest(lines, key=keys["ingestion_key"], params={"tags": "eu,blue"})
    assert sent.status_code == 200, sent.text
    server.wait_stored(before + len(lines))
    time.sleep(SETTLE_S + 0.2)  # the settle delay is real time in a real node
    run = call(server, "POST", "/api/v1/archive/run", keys["service_key"])
    assert run.status_code == 200 and run.json()["lines"] == len(lines), run.text
    return run.json()  # type: ignore[no-any-return]


def shop_lines(prefix: str, ts: int, count: int) -> list[dict[str, Any]]:
    return [{"line": f"{prefix} order-{n} \"quoted\" é", "app": "shop", "level": "ERROR" if n % 4 == 0 else "INFO", "env": "prod",
             "timestamp": ts + n, "meta": {"status": 500 if n % 4 == 0 else 200, "user": {"id": n, "name": f"u{n}"}, "big": 2**62 + n}}
            for n in range(count)]


def test_parquet_files_hold_the_export_fields_plain_and_sealed_and_verify_catches_tampering(node: Server, tmp_path: Path) -> None:
    keys = {"service_key": node.service_key, "ingestion_key": node.ingestion_key}
    put = call(node, "PUT", "/api/v1/archive", node.service_key, json={"destination": {"type": "local", "path": "columns"}, "format": "parquet"})
    assert put.status_code == 200 and put.json()["format"] == "parquet", put.text
    now = int(time.time() * 1000)
    earlier = now - 2 * HOUR_MS
    lines = shop_lines("columnar", earlier, 30)
    run = send_and_run(node, keys, lines)
    account = run["files"][0]["key"].split("/")[-1].split(".")[0]
    assert [f["key"] for f in run["files"]] == [layout.data_key(account, layout.hour_of(earlier), 0, False, "parquet")]
    root: Path = node.archive_root / "columns"  # type: ignore[attr-defined]
    data = (root / run["files"][0]["key"]).read_bytes()
    table = pq.read_table(io.BytesIO(data))
    assert table.schema.field("_ts").type == pa.timestamp("ms", tz="UTC") and table.schema.field("_tag").type == pa.list_(pa.string())
    assert table.schema.field("_label").type == pa.map_(pa.string(), pa.string()) and table.schema.field("_meta").type == pa.string()
    assert pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(0).compression == "ZSTD"
    archived = export_lines(data, "parquet")
    exported = [line for line in node.export(**{"from": earlier - 1, "to": earlier + 1000}) if line["_app"] == "shop"]
    assert sorted(archived, key=lambda line: line["_lid"]) == sorted(exported, key=lambda line: line["_lid"])  # the /v1/export fields
    assert [int(line["_lid"]) for line in archived] == sorted(int(line["_lid"]) for line in archived)  # id order, as JSON files
    assert {line["_line"] for line in archived} == {line["line"] for line in lines}
    for row, sent in zip(sorted(table.to_pylist(), key=lambda r: r["_ts"]), lines, strict=True):
        assert int(row["_ts"].timestamp() * 1000) == sent["timestamp"] and row["_tag"] == ["eu", "blue"] and row["_env"] == "prod"
        assert orjson.loads(row["_meta"]) == sent["meta"] and row["level"] == sent["level"]

    sealed = create_account(node, "parquet-sealed")
    put = call(node, "PUT", "/api/v1/archive", sealed["service_key"],
               json={"destination": {"type": "local", "path": "sealed-columns"}, "format": "parquet", "encryption": True})
    assert put.status_code == 200, put.text
    secret = shop_lines("sealed payroll", earlier, 10)
    sealed_run = send_and_run(node, sealed, secret)
    sealed_key = sealed_run["files"][0]["key"]
    assert sealed_key.endswith(".parquet.enc")
    sealed_bytes = (node.archive_root / "sealed-columns" / sealed_key).read_bytes()  # type: ignore[attr-defined]
    assert b"payroll" not in sealed_bytes and not sealed_bytes.startswith(b"PAR1")
    (tmp_path / "file.parquet.enc").write_bytes(sealed_bytes)
    sealed_account = sealed_key.split("/")[-1].split(".")[0]
    opened = run_cli("archive", "decrypt", "--data-dir", str(node.data_dir), "--account", sealed_account, str(tmp_path / "file.parquet.enc")).stdout
    assert sorted(line["_line"] for line in export_lines(opened, "parquet")) == sorted(line["line"] for line in secret)

    # A change of format applies to the files written from then on; an hour's numbering goes on across formats.
    assert call(node, "PUT", "/api/v1/archive", node.service_key, json={"format": "json"}).status_code == 200
    late = send_and_run(node, keys, shop_lines("late", earlier + 100, 3))
    assert [f["key"] for f in late["files"]] == [layout.data_key(account, layout.hour_of(earlier), 1, False, "json")]
    assert (root / run["files"][0]["key"]).read_bytes() == data

    pem = tmp_path / "node.pem"
    pem.write_bytes(run_cli("archive", "public-key", "--data-dir", str(node.data_dir)).stdout)
    verify = ["archive", "verify", "--account", account, "--dir", str(root), "--public-key", str(pem), "--from", "1d", "--to", "now"]
    assert b"archive intact" in run_cli(*verify).stdout
    sealed_verify = ["archive", "verify", "--account", sealed_account, "--dir", str(node.archive_root / "sealed-columns"),  # type: ignore[attr-defined]
                     "--public-key", str(pem), "--from", "1d", "--to", "now"]
    assert b"archive intact" in run_cli(*sealed_verify).stdout  # hashes of the sealed bytes: no archive key needed
    edited = pq.read_table(io.BytesIO(data)).slice(1)  # one line dropped, still a valid Parquet file
    sink = io.BytesIO()
    pq.write_table(edited, sink, compression="zstd")
    (root / run["files"][0]["key"]).write_bytes(sink.getvalue())
    (root / layout.data_key(account, layout.hour_of(earlier) - HOUR_MS, 0, False, "parquet")).write_bytes(sink.getvalue())
    (node.archive_root / "sealed-columns" / sealed_key).unlink()  # type: ignore[attr-defined]
    bad = run_cli(*verify, check=False)
    out = bad.stdout.decode()
    assert bad.returncode == 1 and f"modified: {run['files'][0]['key']}" in out and "added: " in out and ".parquet is listed in no digest" in out, out
    gone = run_cli(*sealed_verify, check=False)
    assert gone.returncode == 1 and f"deleted: {sealed_key}" in gone.stdout.decode(), gone.stdout.decode()


def test_search_and_restore_read_a_range_of_both_formats_completely(node: Server) -> None:
    keys = create_account(node, "parquet-mixed")
    now = int(time.time() * 1000)
    hour = now - now % HOUR_MS - 5 * HOUR_MS  # hours of this account's own: restore counts whole files
    json_lines = shop_lines("mixed json", hour, 20)
    parquet_lines = shop_lines("mixed parquet", hour + 1000, 15) + shop_lines("mixed parquet next", hour + HOUR_MS, 12)
    put = call(node, "PUT", "/api/v1/archive", keys["service_key"], json={"destination": {"type": "local", "path": "mixed"}})
    assert put.status_code == 200, put.text
    send_and_run(node, keys, json_lines)
    configured = run_cli("archive", "configure", "--format", "parquet", "--server", node.url, "--key", keys["service_key"])
    assert orjson.loads(configured.stdout)["format"] == "parquet"
    second = send_and_run(node, keys, parquet_lines)
    assert sorted(f["key"].rsplit(".", 1)[-1] for f in second["files"]) == ["parquet", "parquet"]
    everything = json_lines + parquet_lines
    window = {"from": hour - 1, "to": hour + 2 * HOUR_MS, "limit": 10_000}

    found = call(node, "GET", "/api/v1/archive/search", keys["service_key"], params={"q": "mixed", **window})
    assert found.status_code == 200, found.text
    assert found.json()["files"] == 3
    lines = found.json()["lines"]
    assert sorted(line["line"] for line in lines) == sorted(line["line"] for line in everything)  # each once, from both formats
    assert [(line["ts"], line["id"]) for line in lines] == sorted(((line["ts"], line["id"]) for line in lines), reverse=True)
    assert {line["env"] for line in lines} == {"prod"} and all(line["tags"] == ["eu", "blue"] for line in lines)
    errors = call(node, "GET", "/api/v1/archive/search", keys["service_key"], params={"q": "status:500 user.id:<8", **window}).json()["lines"]
    assert sorted(line["line"] for line in errors) == sorted(
        line["line"] for line in everything if line["meta"]["status"] == 500 and line["meta"]["user"]["id"] < 8)
    only_parquet = call(node, "GET", "/api/v1/archive/search", keys["service_key"],
                        params={"q": "next", "from": hour + HOUR_MS, "to": hour + 2 * HOUR_MS}).json()
    assert only_parquet["files"] == 1 and len(only_parquet["lines"]) == 12

    account = second["files"][0]["key"].split("/")[-1].split(".")[0]
    delete_lines(node, account, window["from"], window["to"])
    restored = call(node, "POST", "/api/v1/archive/restore", keys["service_key"], json={"from": window["from"], "to": window["to"]})
    assert restored.status_code == 200, restored.text
    events = [orjson.loads(line) for line in restored.text.splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["restored"] == len(everything) and events[-1]["duplicates"] == 0, events[-1]
    back = call(node, "GET", "/api/v1/search", keys["service_key"],
                params={"q": "_ingester:archive-restore mixed", **window}).json()["lines"]
    assert sorted(line["line"] for line in back) == sorted(line["line"] for line in everything)
    by_line = {line["line"]: line for line in back}
    for sent in everything:
        got = by_line[sent["line"]]
        assert got["ts"] == sent["timestamp"] and got["fields"]["user"] == sent["meta"]["user"] and got["fields"]["big"] == sent["meta"]["big"]
        assert got["level"] == sent["level"] and got["env"] == "prod" and got["tags"] == ["eu", "blue"]
    assert {line["annotations"]["timberyard.archive_lid"] for line in back} == {str(line["id"]) for line in lines}
    again = [orjson.loads(line) for line in call(node, "POST", "/api/v1/archive/restore", keys["service_key"],
                                                 json={"from": window["from"], "to": window["to"]}).text.splitlines()]
    assert again[-1]["restored"] == 0 and again[-1]["duplicates"] == len(everything)
