"""Top values of a field (store/aggregates.select_facet) over the conformance rows: built-in
columns by their text, field paths from the JSON column with strings as themselves and numbers,
booleans and arrays as their JSON text."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest

from timberyard.search import compile_sql, parse
from timberyard.search.fields import resolve_field
from timberyard.store import schema
from timberyard.store.aggregates import select_facet
from timberyard.store.chdb import ChdbStore
from unit.search.conformance_rows import BATCHES

ACCOUNT = "facets-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def store(chdb_store: ChdbStore) -> Iterator[ChdbStore]:
    for batch in BATCHES:
        mine = batch.set_column(0, "account", pa.array([ACCOUNT] * batch.num_rows, pa.string()))
        chdb_store.insert(schema.insert_rows(mine), uuid.uuid4().hex)
    yield chdb_store


def facet(store: ChdbStore, name: str, query: str = "", limit: int = 20) -> list[tuple[str, int]]:
    search = compile_sql(parse(query)) if query else None
    sql, params = select_facet(ACCOUNT, 0, 2**42, search, resolve_field(name, 0), limit)
    return [(row["value"], row["count"]) for row in store.select(sql, params)]


@pytest.mark.parametrize(
    ("name", "query", "expected"),
    [
        ("_ingester", "", [("http", 35), ("syslog-udp", 4), ("agent", 4), ("syslog-tcp", 2)]),
        ("_format", "", [("json", 10), ("nginx", 4), ("logfmt", 4), ("syslog", 5)]),
        ("_format", "app:mix", [("json", 4), ("logfmt", 3)]),
        ("level", "level:warning", [("WARN", 5)]),
        ("status", "", [("200", 1), ("404", 1), ("503", 1), ("500", 1), ("UP", 1), ("OK", 1)]),
        ("mixed", "", [("true", 2), ("1", 1), ("[true]", 1)]),
        ("ids", "", [("[1,2,3]", 1)]),
        ("amount", "", [("99.95", 1), ("12.50", 1)]),
        ("retry", "", [("false", 1), ("true", 1)]),
        ("deep.a.b", "", [('{"c":"bottom"}', 1)]),
        ("http.request.method", "", [("GET", 1)]),
        ("user.name", "", [("Ada Lovelace", 1), ("Grace Hopper", 1)]),
        ("user", "", []),
        ("_conflicts.port", "", [("443", 1)]),
    ],
)
def test_facets(store: ChdbStore, name: str, query: str, expected: list[tuple[str, int]]) -> None:
    found = facet(store, name, query)
    assert sorted(found) == sorted(expected)
    assert [count for _, count in found] == sorted((count for _, count in found), reverse=True)


def test_facets_limit(store: ChdbStore) -> None:
    assert facet(store, "_ingester", limit=1) == [("http", 35)]
