"""Every lowering against one table: the Arrow filter over the rows' batches as the pipeline
writes them, the SQL fragment run by the real embedded store over the same batches, and the
Python predicate over the same rows as live tail hands them over (fields as nested objects)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.core.fields import CONFLICTS, FieldColumns, column_kind
from timberyard.core.records import FIELDS
from timberyard.search import QuerySyntaxError, compile_predicate, compile_sql, parse
from timberyard.search.to_arrow import compile_filter
from timberyard.store import schema
from timberyard.store.chdb import ChdbStore
from unit.search.conformance_cases import CASES
from unit.search.conformance_rows import ACCOUNT, BATCHES, ROWS, TAIL_ROWS
from unit.search.test_search_safety import INJECTIONS

def arrow_ids(query: str) -> set[int]:
    matches = compile_filter(parse(query))
    found: set[int] = set()
    for batch in BATCHES:
        mask = matches(batch)
        assert isinstance(mask, pa.BooleanArray) and len(mask) == batch.num_rows and not mask.null_count
        found.update(batch.column("id").filter(mask).to_pylist())
    return found


def predicate_ids(query: str) -> set[int]:
    predicate = compile_predicate(parse(query))
    return {row["id"] for row in TAIL_ROWS if predicate(row)}


def sql_ids(store: ChdbStore, query: str) -> set[int]:
    fragment, params = compile_sql(parse(query))
    rows = store.select(
        "SELECT id FROM timberyard.logs WHERE account = {account:String} AND " + fragment,
        {"account": ACCOUNT, **params},
    )
    return {row["id"] for row in rows}


def test_table_is_large_and_queries_are_unique() -> None:
    assert len(CASES) >= 150
    assert len({query for query, _ in CASES}) == len(CASES)


def test_batches_mix_kinds_as_the_store_does() -> None:
    """The rows reach every case they are meant for: one path of four kinds across batches,
    and a conflict within a batch kept under `_conflicts`."""
    kinds = set()
    for batch in BATCHES:
        fields = FieldColumns.from_struct(batch.column(FIELDS))
        if "mixed" in fields:
            kinds.add(column_kind(fields.get("mixed")))  # type: ignore[arg-type]
    assert kinds == {"string", "boolean", "number", "json"}
    assert sum(f"{CONFLICTS}.port" in FieldColumns.from_struct(batch.column(FIELDS)) for batch in BATCHES) == 1
    assert sorted(row["id"] for row in TAIL_ROWS) == sorted(row["id"] for row in ROWS)


def _ids(cases: list[tuple[str, set[int] | frozenset[int]]]) -> list[object]:
    return [pytest.param(query, expected, id=f"{i}:{query}") for i, (query, expected) in enumerate(cases)]


@pytest.mark.parametrize(("query", "expected"), _ids(CASES))
def test_arrow(query: str, expected: set[int]) -> None:
    assert arrow_ids(query) == set(expected)


@pytest.mark.parametrize(("query", "expected"), _ids(CASES))
def test_predicate(query: str, expected: set[int]) -> None:
    assert predicate_ids(query) == set(expected)


@pytest.fixture(scope="module")
def store(chdb_store: ChdbStore) -> Iterator[ChdbStore]:
    """The batches, inserted once as the store batcher does; checks the store kept them as given."""
    for batch in BATCHES:
        chdb_store.insert(schema.insert_rows(batch), uuid.uuid4().hex)
    stored = chdb_store.select(
        "SELECT id, line, level, ingester, format, fields FROM timberyard.logs "
        "WHERE account = {account:String} ORDER BY id",
        {"account": ACCOUNT},
    )
    assert stored == sorted(
        ({name: row[name] for name in ("id", "line", "level", "ingester", "format", "fields")} for row in TAIL_ROWS),
        key=lambda row: row["id"],
    )
    yield chdb_store


@pytest.mark.parametrize(("query", "expected"), _ids(CASES))
def test_sql(store: ChdbStore, query: str, expected: set[int]) -> None:
    assert sql_ids(store, query) == set(expected)


def _agree(store: ChdbStore, query: str) -> None:
    try:
        parse(query)
    except QuerySyntaxError:
        return
    expected = predicate_ids(query)
    assert arrow_ids(query) == expected
    assert sql_ids(store, query) == expected


@pytest.mark.parametrize("query", INJECTIONS)
def test_injections_run_safely(store: ChdbStore, query: str) -> None:
    """Hostile queries either fail to parse or run and find the same lines in every engine."""
    _agree(store, query)


_WORDS = ["payment", "GET", "lin", "10.0.0", "error", "é", "Zoë", "api", "-", "/", "_", "'x'"]
_FIELDS = [
    "host", "app", "level", "tag", "status", "user.id", "amount", "label.team", "cpu.load", "retry", "nope", "_ingester",
    "_format", "template", "mixed", "port", "_conflicts.port", "ids", "user", "http.request.method", "http.request.headers",
]  # fmt: skip
_VALUES = [
    "web", "=web", "==web-01", "[nginx,sshd]", "*", ">=400", "<1", "42", "true", "(>1 -404)", '"a b"', "warning", "1",
    "[true,1]", "==json", "ht", "'{\"ua\"'",
]  # fmt: skip


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
def test_random_queries_agree(store: ChdbStore, query: str) -> None:
    """Beyond the table: generated queries find the same lines in every engine."""
    _agree(store, query)


@pytest.mark.parametrize("query", ["b4dd622d-976f-4a3c-9d1e-0123456789ab", '"req_7f3a9c1e5d2b_end"'])
def test_long_tokens_are_looked_up_in_the_bloom_index(store: ChdbStore, query: str) -> None:
    """ClickHouse refuses to run with force_data_skipping_indices when the query cannot use the
    index, so this fails if the lowering and the index definition stop matching."""
    fragment, params = compile_sql(parse(query))
    rows = store.select(
        "SELECT id FROM timberyard.logs WHERE account = {account:String} AND " + fragment
        + " SETTINGS force_data_skipping_indices = 'long_tokens'",
        {"account": ACCOUNT, **params},
    )
    assert len(rows) == 1
