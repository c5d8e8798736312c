"""The store's level detection at insert (RE2 `LEVEL_PATTERN` in `schema.insert_select`) and its
Python twin `detect_level` (live tail, rules) must give every line the same level.

Lines go into the real embedded store through `ChdbStore.insert` with no level, as the ingest
path sends them, and the level the store kept is compared with `detect_level`.
"""

from __future__ import annotations

import uuid

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.core.clock import now_ms
from timberyard.ingest.logdna import Limits, LineIn, RequestContext, build_batch
from timberyard.parse.levels import detect_level
from timberyard.store.chdb import ChdbStore
from unit.parse.level_cases import ALL_CASES, level_lines, loghub_samples

LIMITS = Limits(max_line_bytes=64 * 1024, max_timestamp_skew_ms=0)

# Non-ASCII letters beside or before level words: the two sides may read these differently
# (Unicode case mapping in Python's str.upper(), ASCII upper() and UTF-8 byte offsets in
# ClickHouse, RE2's Unicode case folding).
NON_ASCII = [
    "é info",
    "infoé",
    "éinfo",
    "info\u00a0x",
    "\u0301error",
    "error\U0001f600",
    "ERRORı",
    "warnıng: disk",
    "İNFO",
    "Straße: error",  # ß upper-cases to SS in Python
    "2024-01-01 12:00:00 Größe überschritten: WARN disk 93%",
    "ﬁle closed; INFO done",  # the ligature ﬁ upper-cases to FI in Python
    "ınfo: dotless i",  # ı upper-cases to I in Python; RE2 does not fold it to i
    "ſevere: long s",  # ſ upper-cases to S in Python; RE2 folds it to s, upper() keeps it
    "ſevere error",
    "Ошибка подключения к базе данных: ERROR",
    # the window is 256 characters; these levels sit before character 256 but after byte 256
    pytest.param("Ошибка " * 30 + "ERROR", id="cyrillic-210-chars-390-bytes-then-ERROR"),
    pytest.param("エラー " * 60 + "WARN", id="japanese-240-chars-600-bytes-then-WARN"),
]


# Where the 256-character window ends inside a word: both sides must still agree.
WINDOW_EDGES = [
    "x" * 251 + " information",
    "x" * 251 + " ERRORS",
    "x" * 252 + " WARNING",
    "日本語" * 84 + " ERROR",  # cut to "ERR" by a character window
    "é" * 200 + " ERROR",
]


def _insert(store: ChdbStore, lines: list[str]) -> dict[int, tuple[str, str]]:
    """Insert lines with no level under a fresh account; the stored (line, level) by id."""
    account = uuid.uuid4().hex
    context = RequestContext(account=account, hostname="conformance", received_ms=now_ms(), first_id=1)
    batch, problems = build_batch([LineIn(line=line) for line in lines], context, LIMITS)
    assert problems.truncated == 0
    store.insert(pa.Table.from_batches([batch]), dedup_token=uuid.uuid4().hex)
    rows = store.select(
        "SELECT id, line, level FROM timberyard.logs WHERE account = {account:String} ORDER BY id",
        {"account": account},
    )
    assert len(rows) == len(lines)
    return {row["id"]: (row["line"], row["level"]) for row in rows}


@pytest.fixture(scope="module")
def stored_levels(chdb_store: ChdbStore) -> dict[str, str]:
    """Every table line and Loghub sample, inserted once: line -> the level the store detected."""
    non_ascii = [case.values[0] if hasattr(case, "values") else case for case in NON_ASCII]
    samples = [line for _, line, _ in loghub_samples(per_file=5)]
    lines = list(dict.fromkeys([line for line, _ in ALL_CASES] + samples + non_ascii + WINDOW_EDGES))
    stored = _insert(chdb_store, lines)
    assert [stored[index + 1][0] for index in range(len(lines))] == lines
    return {line: level for line, level in stored.values()}


def test_the_table_is_large_enough() -> None:
    assert len(ALL_CASES) >= 60


@pytest.mark.parametrize(("line", "level"), ALL_CASES)
def test_store_detects_what_python_detects(stored_levels: dict[str, str], line: str, level: str) -> None:
    assert detect_level(line) == level
    assert stored_levels[line] == level


def test_store_matches_loghub_structured_levels(stored_levels: dict[str, str]) -> None:
    samples = loghub_samples(per_file=5)
    assert len(samples) > 30
    wrong = [(line, stored_levels[line], detect_level(line)) for _, line, _ in samples if stored_levels[line] != detect_level(line)]
    assert wrong == []


@pytest.mark.parametrize("line", NON_ASCII)
def test_store_and_python_agree_next_to_non_ascii_letters(stored_levels: dict[str, str], line: str) -> None:
    assert stored_levels[line] == detect_level(line)


@pytest.mark.parametrize("line", WINDOW_EDGES, ids=["information", "ERRORS", "WARNING", "cjk-ERR", "latin1-ERROR"])
def test_store_and_python_agree_where_the_window_ends(stored_levels: dict[str, str], line: str) -> None:
    assert stored_levels[line] == detect_level(line)


def test_a_sender_given_level_is_kept(chdb_store: ChdbStore) -> None:
    account = uuid.uuid4().hex
    context = RequestContext(account=account, hostname="h", received_ms=now_ms(), first_id=1)
    lines = [LineIn(line="ERROR in the text", level="debug"), LineIn(line="ERROR in the text")]
    batch, _ = build_batch(lines, context, LIMITS)
    chdb_store.insert(pa.Table.from_batches([batch]), dedup_token=uuid.uuid4().hex)
    rows = chdb_store.select(
        "SELECT level FROM timberyard.logs WHERE account = {account:String} ORDER BY id", {"account": account}
    )
    assert [row["level"] for row in rows] == ["DEBUG", "ERROR"]


@given(st.lists(level_lines(), min_size=1, max_size=40))
@settings(max_examples=15, deadline=None)
def test_store_and_python_agree_on_generated_lines(chdb_store: ChdbStore, lines: list[str]) -> None:
    stored = _insert(chdb_store, lines)
    disagree = [(line, level, detect_level(line)) for line, level in stored.values() if level != detect_level(line)]
    assert disagree == []


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127), max_size=300), min_size=1, max_size=40))
@settings(max_examples=10, deadline=None)
def test_store_and_python_agree_on_arbitrary_ascii(chdb_store: ChdbStore, lines: list[str]) -> None:
    stored = _insert(chdb_store, lines)
    disagree = [(line, level, detect_level(line)) for line, level in stored.values() if level != detect_level(line)]
    assert disagree == []
