"""The level rule in its two engines: Arrow's RE2, which decides every line's level in the ingest
pipeline (`parse.levels.detect_levels`), and ClickHouse's RE2 running the same pattern as SQL,
which is how the first release decided levels at insert. Every line must get the same level
from both, so the move of the rule into the pipeline changed no stored level.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.parse.levels import CANONICAL, LEVEL_PATTERN, SCAN_CHARS, detect_level, detect_levels
from timberyard.store.chdb import ChdbStore
from unit.parse.level_cases import ALL_CASES, level_lines, loghub_samples

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


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# The rule as the first release's insert SQL wrote it: the first SCAN_CHARS characters, the next
# character standing in as "x" (a word character) or " ", the earliest level word, canonical.
_WINDOW = (
    f"concat(substringUTF8(line, 1, {SCAN_CHARS}), multiIf(lengthUTF8(line) <= {SCAN_CHARS}, '', "
    f"match(substringUTF8(line, {SCAN_CHARS + 1}, 1), '^[\\\\w-]'), 'x', ' '))"
)
_SQL_LEVEL = (
    f"transform(upper(extract({_WINDOW}, {_quote(LEVEL_PATTERN)})), "
    f"[{', '.join(map(_quote, CANONICAL))}], [{', '.join(map(_quote, CANONICAL.values()))}], '')"
)


def _both(store: ChdbStore, lines: list[str]) -> list[tuple[str, str, str]]:
    """(line, level by SQL, level by the pipeline) for each line."""
    rows = pa.table({"n": list(range(len(lines))), "line": lines})  # noqa: F841 -- read by chDB's Python()
    found = store.select(f"SELECT n, {_SQL_LEVEL} AS level FROM Python(rows) ORDER BY n", {})
    pipeline = detect_levels(pa.array(lines, pa.string())).to_pylist()
    return [(line, row["level"], mine) for line, row, mine in zip(lines, found, pipeline)]


@pytest.fixture(scope="module")
def sql_levels(chdb_store: ChdbStore) -> dict[str, str]:
    """Every table line and Loghub sample: line -> the level the SQL rule gives."""
    non_ascii = [case.values[0] if hasattr(case, "values") else case for case in NON_ASCII]
    samples = [line for _, line, _ in loghub_samples(per_file=5)]
    lines = list(dict.fromkeys([line for line, _ in ALL_CASES] + samples + non_ascii + WINDOW_EDGES))
    return {line: sql for line, sql, _ in _both(chdb_store, lines)}


def test_the_table_is_large_enough() -> None:
    assert len(ALL_CASES) >= 60


@pytest.mark.parametrize(("line", "level"), ALL_CASES)
def test_both_engines_give_the_tables_level(sql_levels: dict[str, str], line: str, level: str) -> None:
    assert detect_level(line) == level
    assert sql_levels[line] == level


def test_both_engines_agree_on_loghub_samples(sql_levels: dict[str, str]) -> None:
    samples = loghub_samples(per_file=5)
    assert len(samples) > 30
    wrong = [(line, sql_levels[line], detect_level(line)) for _, line, _ in samples if sql_levels[line] != detect_level(line)]
    assert wrong == []


@pytest.mark.parametrize("line", NON_ASCII)
def test_both_engines_agree_next_to_non_ascii_letters(sql_levels: dict[str, str], line: str) -> None:
    assert sql_levels[line] == detect_level(line)


@pytest.mark.parametrize("line", WINDOW_EDGES, ids=["information", "ERRORS", "WARNING", "cjk-ERR", "latin1-ERROR"])
def test_both_engines_agree_where_the_window_ends(sql_levels: dict[str, str], line: str) -> None:
    assert sql_levels[line] == detect_level(line)


@given(st.lists(level_lines(), min_size=1, max_size=40))
@settings(max_examples=30, deadline=None)
def test_both_engines_agree_on_generated_lines(chdb_store: ChdbStore, lines: list[str]) -> None:
    assert [(line, sql) for line, sql, mine in _both(chdb_store, lines) if sql != mine] == []


@given(st.lists(st.text(alphabet=st.characters(max_codepoint=127), max_size=300), min_size=1, max_size=40))
@settings(max_examples=20, deadline=None)
def test_both_engines_agree_on_arbitrary_ascii(chdb_store: ChdbStore, lines: list[str]) -> None:
    assert [(line, sql) for line, sql, mine in _both(chdb_store, lines) if sql != mine] == []
