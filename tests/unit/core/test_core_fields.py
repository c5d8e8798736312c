"""Columnar fields (core/fields.py): flattening, kinds, merging, and the JSON text the store gets."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.core.fields import (
    BOOLEAN,
    JSON,
    MAX_DEPTH,
    NUMBER,
    STRING,
    FieldColumns,
    flatten,
    nest,
)


def flat(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    flatten(value, out)
    return out


def test_flatten_nests_to_the_depth_limit_and_keeps_deeper_objects_as_text() -> None:
    found = flat({"a": 1, "user": {"id": 7, "geo": {"city": "Oslo", "pos": {"lat": 1.5}}}})
    assert found == {"a": 1, "user.id": 7, "user.geo.city": "Oslo", "user.geo.pos": '{"lat":1.5}'}
    assert all(path.count(".") < MAX_DEPTH for path in found)


def test_flatten_drops_nulls_and_empty_objects_and_keeps_arrays_as_json() -> None:
    found = flat({"n": None, "e": {}, "arr": [1, "x", None], "b": False})
    assert found == {"arr": '[1,"x",null]', "b": False}
    columns = FieldColumns.from_rows(1, [(0, found)])
    assert columns.kind("arr") == JSON
    assert columns.kind("b") == BOOLEAN


def test_whole_numbers_beyond_64_bits_become_floats() -> None:
    found = flat({"big": 2**64, "max": 2**63 - 1, "min": -(2**63)})
    assert found == {"big": float(2**64), "max": 2**63 - 1, "min": -(2**63)}


def test_from_rows_builds_sparse_typed_columns() -> None:
    columns = FieldColumns.from_rows(4, [(0, {"s": "x", "n": 1}), (2, {"n": 2.5}), (3, {"s": "y"})])
    assert columns.get("s").to_pylist() == ["x", None, None, "y"]
    assert columns.get("n").to_pylist() == [1.0, None, 2.5, None]
    assert (columns.kind("s"), columns.kind("n")) == (STRING, NUMBER)


def test_within_a_batch_the_first_kind_wins_and_others_are_kept_apart() -> None:
    columns = FieldColumns.from_rows(3, [(0, {"status": 200}), (1, {"status": "oops"}), (2, {"status": True})])
    assert columns.get("status").to_pylist() == [200, None, None]
    assert columns.get("_conflicts.status").to_pylist() == [None, "oops", "true"]


def test_add_fills_gaps_and_keeps_existing_values() -> None:
    columns = FieldColumns(3, {"a": pa.array(["x", None, None])})
    columns.add("a", pa.array(["ignored", "y", None]))
    assert columns.get("a").to_pylist() == ["x", "y", None]


def test_add_merges_integer_and_float_numbers() -> None:
    columns = FieldColumns(2, {"n": pa.array([1, None], pa.int64())})
    columns.add("n", pa.array([None, 2.5], pa.float64()))
    assert columns.get("n").to_pylist() == [1.0, 2.5]


def test_add_merges_whole_numbers_past_float_precision_by_rounding() -> None:
    columns = FieldColumns(2, {"n": pa.array([2**62 + 1, None], pa.int64())})
    columns.add("n", pa.array([None, 2.5], pa.float64()))
    assert columns.get("n").to_pylist() == [float(2**62), 2.5]


def test_add_moves_a_value_of_another_kind_to_conflicts() -> None:
    columns = FieldColumns(2, {"n": pa.array([1, None], pa.int64())})
    columns.add("n", pa.array([None, "two"]))
    assert columns.get("n").to_pylist() == [1, None]
    assert columns.get("_conflicts.n").to_pylist() == [None, "two"]


def test_to_json_writes_one_valid_object_per_line_even_for_lines_without_fields() -> None:
    # Arrow 26's binary_join_element_wise(null_handling="skip") drops rows whose inputs are all
    # null; lines without fields sit between lines with them here on purpose.
    columns = FieldColumns.from_rows(4, [(1, {"a": 'q"uote\\back\nslash\x00', "b": 1}), (3, {"c": [1, {"d": 2}]})])
    texts = columns.to_json().to_pylist()
    assert len(texts) == 4
    assert [orjson.loads(text) for text in texts] == [{}, {"a": 'q"uote\\back\nslash\x00', "b": 1}, {}, {"c": [1, {"d": 2}]}]


def test_no_fields_is_an_empty_object_per_line() -> None:
    assert FieldColumns(3).to_json().to_pylist() == ["{}"] * 3


def test_the_struct_survives_arrow_ipc_with_kinds() -> None:
    columns = FieldColumns.from_rows(2, [(0, {"arr": flat({"x": [1, 2]})["x"], "s": "t", "n": 1.5, "b": True})])
    table = pa.table({"fields": columns.to_struct()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    read = FieldColumns.from_struct(pa.ipc.open_stream(sink.getvalue()).read_all().column("fields"))
    assert {path: read.kind(path) for path in read} == {"arr": JSON, "s": STRING, "n": NUMBER, "b": BOOLEAN}
    assert read.rows([0, 1]) == [{"arr": [1, 2], "b": True, "n": 1.5, "s": "t"}, {}]


def test_filter_keeps_only_columns_with_values_left() -> None:
    columns = FieldColumns.from_rows(3, [(0, {"a": 1}), (2, {"b": "x"})])
    kept = columns.filter(pa.array([False, True, True]))
    assert kept.length == 2
    assert list(kept) == ["b"]


def test_nest_builds_objects_sorted_like_the_store() -> None:
    assert nest({"b.y": 2, "a": 1, "b.x": 1}) == {"a": 1, "b": {"x": 1, "y": 2}}
    assert list(nest({"z": 1, "a": 2})) == ["a", "z"]


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)  # what orjson decodes
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON_OBJECTS = st.recursive(
    st.dictionaries(st.text(min_size=1, max_size=6).filter(lambda k: "." not in k), JSON_SCALARS, max_size=4),
    lambda children: st.dictionaries(
        st.text(min_size=1, max_size=6).filter(lambda k: "." not in k), children | JSON_SCALARS | st.lists(JSON_SCALARS, max_size=3), max_size=4
    ),
    max_leaves=15,
)


@given(st.lists(JSON_OBJECTS, min_size=1, max_size=5))
@settings(max_examples=200, deadline=None)
def test_any_objects_become_json_text_that_reads_back_as_their_fields(objects: list[dict[str, Any]]) -> None:
    rows = [(index, flat(obj)) for index, obj in enumerate(objects)]
    columns = FieldColumns.from_rows(len(objects), rows)
    texts = columns.to_json().to_pylist()
    assert len(texts) == len(objects)
    for (index, fields), text in zip(rows, texts):
        read = flat_read(orjson.loads(text))
        for path, value in fields.items():
            if path in read:
                assert same(read[path], value), (path, read[path], value)
            else:  # a value of another kind than the path's first: kept as text
                assert f"_conflicts.{path}" in read


def flat_read(obj: dict[str, Any]) -> dict[str, Any]:
    """The dotted keys to_json writes, read back (arrays come back decoded)."""
    return {key: orjson.dumps(value).decode() if isinstance(value, list) else value for key, value in obj.items()}


def same(read: Any, written: Any) -> bool:
    if isinstance(written, float) or isinstance(read, float):
        return math.isclose(float(read), float(written), rel_tol=1e-15, abs_tol=0)
    return read == written


def test_conflict_text_of_every_kind_is_valid_json() -> None:
    columns = FieldColumns.from_rows(3, [(0, {"x": "s"}), (1, {"x": 1.5}), (2, {"x": flat({"v": [1]})["v"]})])
    for text in columns.to_json().to_pylist():
        orjson.loads(text)
    assert pc.sum(columns.get("_conflicts.x").is_valid()).as_py() == 2


@pytest.mark.parametrize("value", ["\u2028", "é", "😀", "\x7f", "tab\there"])
def test_strings_that_need_no_escape_or_some_round_trip(value: str) -> None:
    columns = FieldColumns.from_rows(1, [(0, {"v": value})])
    assert orjson.loads(columns.to_json()[0].as_py()) == {"v": value}
