"""Bound query parameters (store.params) reach ClickHouse intact, through the real embedded store,
and user text never becomes SQL."""

from __future__ import annotations

import math
import struct
import uuid

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from timberyard.core.clock import now_ms
from records import record
from timberyard.store.schema import insert_rows
from timberyard.store.chdb import ChdbStore
from timberyard.store.params import encode_params
from timberyard.store.queries import LineQuery, select_lines

# ClickHouse Strings are bytes; Python text that is valid UTF-8 has no surrogates.
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)))
NASTY = [
    "",
    "'",
    "\\",
    "\\'",
    "'\\",
    "\\\\'",
    '"',
    "`",
    "{v:String}",
    "{",
    "}",
    "}}{{",
    "\x00",
    "a\x00b",
    "\t\n\r\b\f\v\a\x1b",
    "\\N",
    "NULL",
    "-- comment",
    "/* comment */",
    "'; DROP TABLE timberyard.logs; --",
    "' OR 1=1 --",
    "\\' OR '1'='1",
    "é日本😀",
    "\u2028\u2029",
    "\x7f\x80",
    "\\x41",
    "\\0",
    "\\t",
]

INJECTIONS = [
    "'; DROP TABLE timberyard.logs; --",
    "' OR '1'='1",
    "x' OR account != '' --",
    "\\'; SELECT 1; --",
    "x{account:String}y",
    "') OR 1=1 /*",
    "evil-host\n' UNION ALL SELECT * FROM system.tables --",
]

SETTINGS = settings(max_examples=200, deadline=None)


@given(TEXT)
@SETTINGS
def test_string_values_round_trip(chdb_store: ChdbStore, text: str) -> None:
    assert chdb_store.select("SELECT {v:String} AS v", {"v": text})[0]["v"] == text


@pytest.mark.parametrize("text", NASTY)
def test_nasty_strings_round_trip(chdb_store: ChdbStore, text: str) -> None:
    rows = chdb_store.select("SELECT {v:String} AS v, length({v:String}) AS n", {"v": text})
    assert rows == [{"v": text, "n": len(text.encode())}]


@given(st.lists(TEXT, max_size=6))
@example(NASTY)
@SETTINGS
def test_string_arrays_round_trip(chdb_store: ChdbStore, items: list[str]) -> None:
    assert chdb_store.select("SELECT {v:Array(String)} AS v", {"v": items})[0]["v"] == items


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
@example(-(2**63))
@example(2**63 - 1)
@example(0)
@SETTINGS
def test_int64_values_round_trip(chdb_store: ChdbStore, number: int) -> None:
    assert chdb_store.select("SELECT {v:Int64} AS v", {"v": number})[0]["v"] == number


@given(st.floats(allow_nan=False, allow_infinity=False))
@example(0.1)
@example(-0.0)
@example(5e-324)
@example(1.7976931348623157e308)
@example(1e16)
@example(123456789.123456789)
@SETTINGS
def test_float64_values_round_trip(chdb_store: ChdbStore, number: float) -> None:
    # Compare the bits: JSON output writes 6.1e16 as the integer 61405587867870670, which
    # reads back as an int that differs from the float it stands for.
    rows = chdb_store.select("SELECT reinterpretAsUInt64({v:Float64}) AS bits, {v:Float64} AS v", {"v": number})
    assert rows[0]["bits"] == struct.unpack("<Q", struct.pack("<d", number))[0]
    assert float(rows[0]["v"]) == number


def test_float64_specials(chdb_store: ChdbStore) -> None:
    rows = chdb_store.select(
        "SELECT isNaN({nan:Float64}) AS nan, {inf:Float64} > 0 AND isInfinite({inf:Float64}) AS inf, "
        "{ninf:Float64} < 0 AND isInfinite({ninf:Float64}) AS ninf",
        {"nan": math.nan, "inf": math.inf, "ninf": -math.inf},
    )
    assert rows == [{"nan": 1, "inf": 1, "ninf": 1}]


def test_booleans_bind_as_numbers(chdb_store: ChdbStore) -> None:
    assert chdb_store.select("SELECT {t:UInt8} AS t, {f:UInt8} AS f", {"t": True, "f": False}) == [{"t": 1, "f": 0}]


def test_unbindable_values_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot bind a dict"):
        encode_params({"v": {"a": 1}})
    with pytest.raises(TypeError, match="cannot bind a NoneType"):
        encode_params({"v": None})


def _query(**filters: tuple[str, ...]) -> LineQuery:
    return LineQuery(account=uuid.uuid4().hex, from_ms=0, to_ms=now_ms() + 60_000, limit=100, **filters)


@pytest.mark.parametrize("field", ["hosts", "apps", "levels", "tags"])
def test_user_text_never_appears_in_the_sql(field: str) -> None:
    sql, params = select_lines(_query(**{field: tuple(INJECTIONS)}))
    for value in INJECTIONS:
        assert value not in sql
    assert "DROP" not in sql and "UNION" not in sql
    flattened = [v for p in params.values() for v in (p if isinstance(p, list) else [p])]
    assert set(INJECTIONS) <= set(flattened)


@given(
    st.lists(TEXT, max_size=3),
    st.lists(TEXT, max_size=3),
    st.lists(TEXT, max_size=3),
)
@settings(max_examples=100, deadline=None)
def test_the_sql_depends_only_on_the_shape_of_the_query(apps: list[str], hosts: list[str], tags: list[str]) -> None:
    """Same filters -> the same SQL text, whatever the values (search queries have their own
    tests in tests/unit/search)."""
    sql, _ = select_lines(_query(apps=tuple(apps), hosts=tuple(hosts), tags=tuple(tags)))
    placeholder, _ = select_lines(
        _query(apps=("a",) * len(apps), hosts=("h",) * len(hosts), tags=("g",) * len(tags))
    )
    assert sql == placeholder


@pytest.fixture(scope="module")
def evil_account(chdb_store: ChdbStore) -> str:
    """One line per injection string, stored as its host, app, tag and text."""
    account = uuid.uuid4().hex
    table = record(
        account,
        [f"line {index}: {value}" for index, value in enumerate(INJECTIONS)],
        host=list(INJECTIONS),
        app=list(INJECTIONS),
        tags=[[value] for value in INJECTIONS],
        level=["INFO"] * len(INJECTIONS),
    )
    chdb_store.insert(insert_rows(table), dedup_token=uuid.uuid4().hex)
    return account


def _run(store: ChdbStore, query: LineQuery) -> list[dict]:
    sql, params = select_lines(query)
    return store.select(sql, params)


@pytest.mark.parametrize("field", ["hosts", "apps", "tags"])
def test_injection_strings_filter_as_plain_values(chdb_store: ChdbStore, evil_account: str, field: str) -> None:
    base = _query()
    for index, value in enumerate(INJECTIONS):
        query = LineQuery(account=evil_account, from_ms=base.from_ms, to_ms=base.to_ms, limit=100, **{field: (value,)})
        rows = _run(chdb_store, query)
        assert [row["id"] for row in rows] == [index + 1], value


@pytest.mark.parametrize("field", ["hosts", "apps", "levels", "tags"])
def test_injection_strings_match_nothing_in_another_account(chdb_store: ChdbStore, evil_account: str, field: str) -> None:
    assert _run(chdb_store, _query(**{field: tuple(INJECTIONS)})) == []
    # the table is still there, with every line
    count = chdb_store.select(
        "SELECT count() AS n FROM timberyard.logs WHERE account = {a:String}", {"a": evil_account}
    )
    assert count == [{"n": len(INJECTIONS)}]


def test_an_injection_string_as_the_account_matches_nothing(chdb_store: ChdbStore, evil_account: str) -> None:
    for value in INJECTIONS:
        query = LineQuery(account=value, from_ms=0, to_ms=now_ms() + 60_000, limit=100)
        sql, _ = select_lines(query)
        assert value not in sql
        assert _run(chdb_store, query) == []
