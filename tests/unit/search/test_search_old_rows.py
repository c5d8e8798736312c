"""Lines stored by the first release keep their fields as `meta` JSON text; the store computes
their `fields` from it on read (the column's DEFAULT). Searches find them as the predicate
finds the same rows with their meta text, including values ClickHouse types as dates there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from timberyard.search import compile_predicate, compile_sql, parse
from timberyard.search.fields import resolve_field
from timberyard.store.aggregates import select_facet
from timberyard.store.chdb import ChdbStore

ACCOUNT = "old-rows-" + uuid.uuid4().hex

METAS: list[dict[str, Any]] = [
    {"status": 200, "user": {"id": 42, "name": "Ada"}, "retry": False},
    {"status": "503", "user": {"id": "43"}, "ids": [1, 2], "retry": True},
    {"deep": {"a": {"b": {"c": "bottom"}}}, "ratio": 0.5, "gone": None, "empty": {}},
    {"day": "2024-01-01", "at": "2024-01-01 10:00:00", "status": "UP"},
    {"big": 18446744073709551615, "neg": -7},
]
# Row 4 again, converted to the JSON type as ClickHouse does for old rows when it infers dates.
DATED = 6

QUERIES = [
    "status:200", "status:503", "status:>=300", "status:up", "status:*", "-status:*", "user.id:42", "user.id:4",
    "user.id:[42,43]", "user.id:>42", "user:*", "user.name:ada", "retry:false", "retry:t", "ids:1", "ids:*",
    "deep.a.b.c:bottom", "deep.a.b:*", "ratio:0.5", "ratio:<1", "gone:*", "empty:*", "day:2024", "day:==2024-01-01",
    "day:>1", "day:*", "at:2024-01-01", 'at:"2024-01-01 10"', "at:<1", "big:>1e19", "big:18446744073709551615",
    "neg:-7", "neg:<0",
]  # fmt: skip


@pytest.fixture(scope="module")
def store(chdb_store: ChdbStore) -> Iterator[ChdbStore]:
    insert = (
        "INSERT INTO timberyard.logs (account, ts, id, line, meta, retention_days) "
        "SELECT {account:String}, now64(3), {id:UInt64}, 'old line', {meta:String}, 30"
    )
    for index, meta in enumerate(METAS, start=1):
        chdb_store.select(insert, {"account": ACCOUNT, "id": index, "meta": orjson.dumps(meta).decode()})
    chdb_store.select(
        "INSERT INTO timberyard.logs (account, ts, id, line, meta, fields, retention_days) "
        "SELECT {account:String}, now64(3), {id:UInt64}, 'old line', {meta:String}, {meta:String}::JSON, 30 "
        "SETTINGS input_format_try_infer_dates = 1, input_format_try_infer_datetimes = 1",
        {"account": ACCOUNT, "id": DATED, "meta": orjson.dumps(METAS[3]).decode()},
    )
    types = chdb_store.select(
        "SELECT dynamicType(fields.day) AS day, dynamicType(fields.at) AS at FROM timberyard.logs "
        "WHERE account = {account:String} AND id = {id:UInt64}",
        {"account": ACCOUNT, "id": DATED},
    )
    assert types == [{"day": "Date", "at": "DateTime"}]  # the quirk this module guards against
    yield chdb_store


ROWS = [{"id": index, "meta": orjson.dumps(meta).decode()} for index, meta in enumerate(METAS, start=1)]
ROWS.append({**ROWS[3], "id": DATED})


@pytest.mark.parametrize("query", QUERIES)
def test_old_rows_are_found_as_their_meta_reads(store: ChdbStore, query: str) -> None:
    fragment, params = compile_sql(parse(query))
    found = store.select(
        "SELECT id FROM timberyard.logs WHERE account = {account:String} AND " + fragment, {"account": ACCOUNT, **params}
    )
    predicate = compile_predicate(parse(query))
    assert {row["id"] for row in found} == {row["id"] for row in ROWS if predicate(row)}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("status", [("200", 1), ("503", 1), ("UP", 2)]),
        ("day", [("2024-01-01", 2)]),
        ("at", [("2024-01-01 10:00:00", 2)]),
        ("user.id", [("42", 1), ("43", 1)]),
        ("retry", [("false", 1), ("true", 1)]),
        ("ids", [("[1,2]", 1)]),
        ("deep.a.b.c", [("bottom", 1)]),
        ("user", []),
    ],
)
def test_facets_of_old_rows(store: ChdbStore, name: str, expected: list[tuple[str, int]]) -> None:
    sql, params = select_facet(ACCOUNT, 0, 2**42, None, resolve_field(name, 0), 10)
    assert sorted((str(row["value"]), row["count"]) for row in store.select(sql, params)) == expected
