"""The Arrow back end on the shapes batches come in: tables of many chunks, record batches,
slices, missing columns, nulls, empty batches. (Its meaning is held to the conformance table.)"""

from __future__ import annotations

import pyarrow as pa
import pytest

from timberyard.core.fields import FieldColumns
from timberyard.search import parse
from timberyard.search.to_arrow import compile_filter
from unit.search.conformance_cases import CASES
from unit.search.conformance_rows import BATCHES

QUERIES = [query for query, _ in CASES[::7]]


def mask(query: str, batch: pa.Table | pa.RecordBatch) -> list[bool]:
    found = compile_filter(parse(query))(batch)
    assert isinstance(found, pa.BooleanArray) and len(found) == batch.num_rows and not found.null_count
    return found.to_pylist()  # type: ignore[no-any-return]


@pytest.mark.parametrize("query", QUERIES)
def test_chunks_batches_and_slices_give_the_same_answer(query: str) -> None:
    table = BATCHES[0]
    whole = mask(query, table)
    assert mask(query, pa.Table.from_batches(table.to_batches(max_chunksize=3))) == whole
    assert mask(query, table.combine_chunks().to_batches()[0]) == whole
    assert mask(query, table.slice(2, 5)) == whole[2:7]
    assert mask(query, table.slice(3, 0)) == []


LINES_ONLY = pa.table({"line": ["error one", "two"]})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("error", [True, False]),
        ("host:*", [False, False]),
        ("-host:*", [True, True]),
        ('host:==""', [True, True]),
        ("app:x", [False, False]),
        ("tag:*", [False, False]),
        ("-tag:x", [True, True]),
        ("label.team:*", [False, False]),
        ("label.team:>1", [False, False]),
        ("status:*", [False, False]),
        ("-status:200", [True, True]),
        ("status:>1", [False, False]),
        ("_format:*", [False, False]),
    ],
)
def test_missing_columns_count_as_empty(query: str, expected: list[bool]) -> None:
    assert mask(query, LINES_ONLY) == expected


def test_nulls_count_as_empty() -> None:
    fields = FieldColumns(3, {"status": pa.array([200, None, None], pa.int64()), "void": pa.nulls(3)})
    batch = pa.table(
        {
            "line": pa.array(["error", None, "x"], pa.string()),
            "host": pa.array([None, "web", None], pa.string()),
            "tags": pa.array([["a"], None, [None, "b"]], pa.list_(pa.string())),
            "labels": pa.array([[("team", "x")], None, []], pa.map_(pa.string(), pa.string())),
            "fields": fields.to_struct(),
        }
    )
    assert mask("error", batch) == [True, False, False]
    assert mask("-host:*", batch) == [True, False, True]
    assert mask("tag:*", batch) == [True, False, True]
    assert mask("tag:b", batch) == [False, False, True]
    assert mask("label.team:x", batch) == [True, False, False]
    assert mask("status:*", batch) == [True, False, False]
    assert mask("-status:200", batch) == [False, True, True]
    assert mask("void:*", batch) == [False, False, False]


def test_fields_without_paths() -> None:
    batch = pa.table({"line": ["a", "b"], "fields": FieldColumns(2).to_struct()})
    assert mask("user.id:*", batch) == [False, False]
    assert mask("-user.id:1", batch) == [True, True]


# One line in twenty holds each case below, so the text search of a term or phrase leaves few candidates and
# the exact pattern runs on those only (a larger share runs it over the whole batch instead).
@pytest.mark.parametrize(
    ("query", "line", "expected"),
    [
        ("error", "ERROR at boot", True),  # any ASCII case
        ("error", "terror in the logs", False),  # inside a word: the text matches, the term does not
        ("kelvin", "\u212aelvin", False),  # KELVIN SIGN folds to k for Unicode, not for the term's ASCII rule
        ("stop", "\u017ftop", False),  # LONG S folds to s likewise
        ("stop", "kelvin stop", True),
        ('"AT BOOT"', "error at boot", True),  # a phrase folds ASCII case
        ('"kelvin"', "\u212aelvin", False),  # and only ASCII case
    ],
)
def test_a_term_checks_its_few_candidate_lines_exactly(query: str, line: str, expected: bool) -> None:
    batch = pa.table({"line": [line] + [f"filler {i}" for i in range(19)]})
    assert mask(query, batch) == [expected] + [False] * 19
