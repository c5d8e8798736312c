"""Both lowerings against one table: the Python predicate over the row dicts, and the SQL
fragment run by the real embedded store over the same rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.core.records import LOG_SCHEMA
from timberyard.search import QuerySyntaxError, compile_predicate, compile_sql, parse
from timberyard.store.chdb import ChdbStore
from unit.search.conformance_cases import CASES
from unit.search.conformance_rows import ROWS
from unit.search.test_search_safety import INJECTIONS


def test_table_is_large_and_queries_are_unique() -> None:
    assert len(CASES) >= 150
    assert len({query for query, _ in CASES}) == len(CASES)


def _ids(cases: list[tuple[str, set[int] | frozenset[int]]]) -> list[object]:
    return [pytest.param(query, expected, id=f"{i}:{query}") for i, (query, expected) in enumerate(cases)]


@pytest.mark.parametrize(("query", "expected"), _ids(CASES))
def test_predicate(query: str, expected: set[int]) -> None:
    predicate = compile_predicate(parse(query))
    assert {row["id"] for row in ROWS if predicate(row)} == set(expected)


def _arrow(account: str) -> pa.Table:
    now = datetime.now(UTC)
    columns: dict[str, list[object]] = {name: [] for name in LOG_SCHEMA.names}
    for row in ROWS:
        values = {
            **row,
            "account": account,
            "ts": now,
            "ip": "",
            "mac": "",
            "labels": list(row["labels"].items()),
            "annotations": [],
            "retention_days": 30,
        }
        for name in LOG_SCHEMA.names:
            columns[name].append(values[name])
    return pa.Table.from_pydict(columns, schema=LOG_SCHEMA)


@pytest.fixture(scope="module")
def account(chdb_store: ChdbStore) -> Iterator[str]:
    """The rows, inserted once under a fresh account; checks the store kept them as given."""
    account = "search-" + uuid.uuid4().hex
    chdb_store.insert(_arrow(account), uuid.uuid4().hex)
    stored = chdb_store.select(
        "SELECT id, line, level, meta FROM timberyard.logs WHERE account = {account:String} ORDER BY id",
        {"account": account},
    )
    assert [(r["id"], r["line"], r["level"], r["meta"]) for r in stored] == [
        (row["id"], row["line"], row["level"], row["meta"]) for row in ROWS
    ]
    yield account


def run_sql(store: ChdbStore, account: str, query: str) -> set[int]:
    fragment, params = compile_sql(parse(query))
    rows = store.select(
        "SELECT id FROM timberyard.logs WHERE account = {account:String} AND " + fragment,
        {"account": account, **params},
    )
    return {row["id"] for row in rows}


@pytest.mark.parametrize(("query", "expected"), _ids(CASES))
def test_sql(chdb_store: ChdbStore, account: str, query: str, expected: set[int]) -> None:
    assert run_sql(chdb_store, account, query) == set(expected)


@pytest.mark.parametrize("query", INJECTIONS)
def test_injections_run_safely(chdb_store: ChdbStore, account: str, query: str) -> None:
    """Hostile queries either fail to parse or run and find what the predicate finds."""
    try:
        node = parse(query)
    except QuerySyntaxError:
        return
    predicate = compile_predicate(node)
    assert run_sql(chdb_store, account, query) == {row["id"] for row in ROWS if predicate(row)}


_WORDS = ["payment", "GET", "lin", "10.0.0", "error", "é", "Zoë", "api", "-", "/", "_", "'x'"]
_FIELDS = ["host", "app", "level", "tag", "status", "user.id", "amount", "label.team", "cpu.load", "retry", "nope"]
_VALUES = ["web", "=web", "==web-01", "[nginx,sshd]", "*", ">=400", "<1", "42", "true", "(>1 -404)", '"a b"']


@st.composite
def _queries(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.integers(0, 5 if depth < 3 else 1))
    if kind == 0:
        return draw(st.sampled_from(_WORDS)).replace("-", "a-b")
    if kind == 1:
        return f"{draw(st.sampled_from(_FIELDS))}:{draw(st.sampled_from(_VALUES))}"
    left, right = draw(_queries(depth + 1)), draw(_queries(depth + 1))
    return [f"{left} {right}", f"{left} OR {right}", f"-({left})", f"({left} AND {right})"][kind - 2]


@settings(deadline=None, max_examples=150)
@given(_queries())
def test_random_queries_agree(chdb_store: ChdbStore, account: str, query: str) -> None:
    """Beyond the table: generated queries give the same rows from both back ends."""
    try:
        node = parse(query)
    except QuerySyntaxError:
        return
    predicate = compile_predicate(node)
    assert run_sql(chdb_store, account, query) == {row["id"] for row in ROWS if predicate(row)}


@pytest.mark.parametrize("query", ["b4dd622d-976f-4a3c-9d1e-0123456789ab", '"req_7f3a9c1e5d2b_end"'])
def test_long_tokens_are_looked_up_in_the_bloom_index(chdb_store: ChdbStore, account: str, query: str) -> None:
    """ClickHouse refuses to run with force_data_skipping_indices when the query cannot use the
    index, so this fails if the lowering and the index definition stop matching."""
    fragment, params = compile_sql(parse(query))
    rows = chdb_store.select(
        "SELECT id FROM timberyard.logs WHERE account = {account:String} AND " + fragment
        + " SETTINGS force_data_skipping_indices = 'long_tokens'",
        {"account": account, **params},
    )
    assert len(rows) == 1
