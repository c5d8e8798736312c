"""The export-shaped JSON line the store builds (store/export.py `EXPORT_JSON`, what archive
files hold) is `export_line` of the same stored row (what /v1/export and alert notifications
give): equal when parsed, with the same key order at every level (LogDNA clients diff them),
on rows with the odd cases. The same fields in columns (`EXPORT_COLUMNS_SQL`, what Parquet
archives hold) give the same line back."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from timberyard.store.chdb import ChdbStore
from timberyard.store.export import RESERVED, export_line
from archive_files import export_lines
from timberyard.archive.parquet import ParquetHourFile
from timberyard.store.queries import EXPORT_COLUMNS, ExportPage, select_export_columns, select_export_page
from timberyard.store.schema import LOG_TABLE

ACCOUNT = "export-shape-" + uuid.uuid4().hex
HOUR_MS = 3_600_000
ODD = "quote \" backslash \\ slash / nul \x00 bell \x07 tab \t newline \n cr \r u2028 \u2028 é 漢字 😀"

# (fields as JSON text or None for a first-release row, other columns)
CASES: list[tuple[str | None, dict[str, Any]]] = [
    ("{}", {}),  # nothing optional: no meta, no env, no tags, template 0
    ("{}", {"line": ODD, "host": ODD, "app": "app \"x\"", "file": "/var/log/é.log", "tags": ["t\"1", ODD, ""],
            "env": "prod \\ env", "ip": "10.0.0.1", "mac": "aa:bb:cc:dd:ee:ff", "level": "WARN"}),
    (json.dumps({"big": 18446744073709551615, "min": -9223372036854775808, "huge": 2**70, "f": 0.1, "e": 1e100,
                   "tiny": -2.5e-300, "zero": 0, "neg": -7, "yes": True, "no": False, "nothing": None, "empty": {},
                   "list": [1, 2.5, "three", None, {"k": "v"}], "nested": {"a": {"b": {"c": [1, 2]}}, "s": ODD},
                   "dot.key": 1, "ключ": "значение", "q\"k\\ey": "v/1"}), {"template": 18446744073709551557}),
    (orjson.dumps({"_ts": 5, "level": "x", "_meta": {"m": 1}, "_lid": "fake", "_other": "kept", "z": 1, "_tag": ["t"],
                   "_line": "not the line", "a": {"_ts": "nested reserved stays"}}).decode(), {"template": 7}),
    (orjson.dumps({"_line": "only reserved", "level": "debug"}).decode(), {}),
    (orjson.dumps({"msg": "\"_ts\": not a key", "note": "\"level\""}).decode(), {"env": "staging"}),
    ("{}", {"labels": {"team": "a\"b", "é": ODD}, "annotations": {"k": "v", "x": ""}, "template": 1}),
    ("{}", {"labels": {}, "annotations": {}, "env": "", "tags": []}),
    (None, {"meta": orjson.dumps({"status": 200, "user": {"id": 42}, "level": "old"}).decode()}),  # first release: meta text
    (None, {"meta": "not json at all \" \\"}),  # unreadable meta, kept as _unparsed
    (None, {"meta": ""}),
]


@pytest.fixture(scope="module")
def store(chdb_store: ChdbStore) -> Iterator[ChdbStore]:
    now = int(time.time() * 1000)
    for index, (fields, columns) in enumerate(CASES, start=1):
        row = {"host": "h", "app": "a", "level": "INFO", "env": "", "file": "", "ip": "", "mac": "", "tags": [], "line": f"line {index}",
               "template": 0, "labels": {}, "annotations": {}, "meta": "", **columns}
        labels, annotations = row.pop("labels"), row.pop("annotations")
        params = {**row, "account": ACCOUNT, "ts": now - index * 1000, "id": index, "fields": fields or "{}",
                  "label_keys": list(labels), "label_values": list(labels.values()),
                  "annotation_keys": list(annotations), "annotation_values": list(annotations.values())}
        chdb_store.select(
            f"INSERT INTO {LOG_TABLE} (account, ts, id, host, app, level, env, file, ip, mac, tags, line, template, meta, "
            f"{'fields, ' if fields is not None else ''}labels, annotations, retention_days) "
            "SELECT {account:String}, fromUnixTimestamp64Milli({ts:Int64}), {id:UInt64}, {host:String}, {app:String}, "
            "{level:String}, {env:String}, {file:String}, {ip:String}, {mac:String}, {tags:Array(String)}, {line:String}, "
            f"{{template:UInt64}}, {{meta:String}}, {'{fields:String}::JSON, ' if fields is not None else ''}"
            "mapFromArrays({label_keys:Array(String)}, {label_values:Array(String)}), "
            "mapFromArrays({annotation_keys:Array(String)}, {annotation_values:Array(String)}), 30",
            params,
        )
    yield chdb_store


def built_lines(store: ChdbStore) -> dict[int, tuple[int, bytes]]:
    """id → (bucket, the store-built JSON line) for every case, through the archive's page query."""
    table = store.select_arrow(*select_export_page(ExportPage(ACCOUNT, 0, 2**64 - 1, 0, 2**62, 1000, HOUR_MS)))
    return {row["id"]: (row["bucket"], row["json"].encode()) for row in table.to_pylist()}


def test_the_store_builds_export_line_of_every_odd_row(store: ChdbStore) -> None:
    rows = store.select(f"SELECT {EXPORT_COLUMNS} FROM {LOG_TABLE} WHERE account = {{account:String}}", {"account": ACCOUNT})
    built = built_lines(store)
    assert sorted(built) == sorted(row["id"] for row in rows) == list(range(1, len(CASES) + 1))
    for row in rows:
        bucket, text = built[row["id"]]
        assert text.endswith(b"\n") and b"\n" not in text[:-1] and bucket == row["ts_ms"] - row["ts_ms"] % HOUR_MS
        parsed, expected = orjson.loads(text), export_line(row)
        assert parsed == expected, row["id"]
        assert orjson.dumps(parsed) == orjson.dumps(expected), row["id"]  # the same key order at every level


def test_the_cases_cover_what_they_claim(store: ChdbStore) -> None:
    lines = {line_id: orjson.loads(text) for line_id, (_, text) in built_lines(store).items()}
    assert list(lines[1]) == ["_ts", "_host", "_app", "_line", "level", "_file", "_tag", "_lid", "_ip", "_mac"]
    assert lines[2]["_line"] == ODD and lines[2]["_env"] == "prod \\ env"
    assert lines[3]["big"] == 18446744073709551615 and lines[3]["min"] == -9223372036854775808 and lines[3]["e"] == 1e100
    assert lines[3]["_template"] == "18446744073709551557" and "nothing" not in lines[3]
    assert [k for k in lines[4] if k in RESERVED] == list(lines[4])[-12:] and lines[4]["_other"] == "kept"
    assert lines[4]["_line"] == "line 4" and lines[4]["_meta"]["_line"] == "not the line"
    assert list(lines[5])[0] == "_ts" and lines[5]["_meta"] == {"_line": "only reserved", "level": "debug"}
    assert lines[6]["msg"] == "\"_ts\": not a key" and lines[6]["_env"] == "staging"
    assert lines[7]["_label"] == {"team": "a\"b", "é": ODD} and lines[7]["_annotation"] == {"k": "v", "x": ""}
    assert not {"_env", "_label", "_annotation", "_template", "_meta"} & set(lines[8])
    assert lines[9]["status"] == 200 and lines[9]["level"] == "INFO" and lines[9]["_meta"]["level"] == "old"
    assert lines[10]["_unparsed"] == "not json at all \" \\" and "_meta" not in lines[11]


def test_the_store_builds_the_same_lines_in_parquet_columns(store: ChdbStore) -> None:
    rows = {row["id"]: row for row in store.select(f"SELECT {EXPORT_COLUMNS} FROM {LOG_TABLE} WHERE account = {{account:String}}",
                                                   {"account": ACCOUNT})}
    table = store.select_arrow(*select_export_columns(ExportPage(ACCOUNT, 0, 2**64 - 1, 0, 2**62, 1000, HOUR_MS)))
    file = ParquetHourFile()
    file.add(table)
    lines = export_lines(file.finish(), "parquet")
    assert [int(line["_lid"]) for line in lines] == sorted(rows, key=lambda i: (rows[i]["ts_ms"] - rows[i]["ts_ms"] % HOUR_MS, i))
    for line in lines:
        assert line == export_line(rows[int(line["_lid"])]), line["_lid"]
