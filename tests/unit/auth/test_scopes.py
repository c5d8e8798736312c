"""Group scopes grant whole field values (auth/scopes.py), in both back ends: the SQL every read
runs and the predicate live tail runs, over the search conformance rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pyarrow as pa
import pytest
from unit.search.conformance_rows import BATCHES, ROWS, TAIL_ROWS

from timberyard.auth.scopes import NOTHING, parse_scope, union_of_scopes
from timberyard.search import compile_predicate, compile_sql, parse
from timberyard.search.ast import Node
from timberyard.store import schema
from timberyard.store.chdb import ChdbStore

ACCOUNT = "scopes-" + uuid.uuid4().hex


def ids_where(test) -> set[int]:  # type: ignore[no-untyped-def]
    return {row["id"] for row in ROWS if test(row)}


BILLING = ids_where(lambda row: row["app"] == "billing-api")
WEB_01 = ids_where(lambda row: row["host"] == "web-01")
CASES = [
    ("app:billing", set()),  # a search finds billing-api by prefix; a scope does not
    ("app:billing*", BILLING),
    ("app:billing-api", BILLING),
    ("app:BILLING-API", BILLING),  # case-insensitive, as in search
    ("app:=BILLING-API", set()),  # = is case-sensitive
    ("app:=billing-api", BILLING),
    ("host:web", set()),
    ("host:web-01", WEB_01),
    ("host:(web OR web-01)", WEB_01),
    ("-app:billing", ids_where(lambda row: True)),
    ("app:[billing-api]", BILLING),
    ("host:web-01 OR app:billing", WEB_01),
]


@pytest.fixture(scope="module")
def store(chdb_store: ChdbStore) -> Iterator[ChdbStore]:
    """The conformance batches under an account of this module's own."""
    for batch in BATCHES:
        index = batch.schema.get_field_index("account")
        batch = batch.set_column(index, "account", pa.array([ACCOUNT] * batch.num_rows, batch.schema.field(index).type))
        chdb_store.insert(schema.insert_rows(batch), uuid.uuid4().hex)
    yield chdb_store


def sql_ids(store: ChdbStore, node: Node) -> set[int]:
    fragment, params = compile_sql(node)
    rows = store.select("SELECT id FROM timberyard.logs WHERE account = {account:String} AND " + fragment, {"account": ACCOUNT, **params})
    return {row["id"] for row in rows}


def predicate_ids(node: Node) -> set[int]:
    predicate = compile_predicate(node)
    return {row["id"] for row in TAIL_ROWS if predicate(row)}


def test_the_rows_hold_what_the_cases_need() -> None:
    assert BILLING and WEB_01 and predicate_ids(parse("app:billing")) == BILLING  # the search's prefix rule


@pytest.mark.parametrize(("scope", "expected"), CASES, ids=[scope for scope, _ in CASES])
def test_a_scope_grants_whole_values_in_sql(store: ChdbStore, scope: str, expected: set[int]) -> None:
    assert sql_ids(store, parse_scope(scope)) == expected


@pytest.mark.parametrize(("scope", "expected"), CASES, ids=[scope for scope, _ in CASES])
def test_a_scope_grants_whole_values_in_live_tail(scope: str, expected: set[int]) -> None:
    assert predicate_ids(parse_scope(scope)) == expected


def test_several_scopes_grant_their_union_and_none_grants_nothing(store: ChdbStore) -> None:
    union = union_of_scopes(["app:billing-api", "", "host:web-01"])
    assert sql_ids(store, union) == predicate_ids(union) == BILLING | WEB_01
    assert union_of_scopes(["", "  "]) == NOTHING
    assert sql_ids(store, NOTHING) == predicate_ids(NOTHING) == set()
