"""The built-in line formats (parse.formats): what each reads from real lines, and which format
claims a line when all are tried in order, as the parse stage tries them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from timberyard.parse.format import Extracted, extract
from timberyard.parse.formats import FORMATS, KINDS
from timberyard.parse.levels import CANONICAL, canonical_levels
from timberyard.parse.logfmt import parse_pairs
from timberyard.parse.timestamps import MAX_MS
from unit.parse.format_cases import CASES, PROSE, RECEIVED_MS

BY_NAME = {fmt.name: fmt for fmt in FORMATS}
ALL_LINES = [case.line for cases in CASES.values() for case in cases]


def _iso(millis: int | None) -> str | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def _read(found: Extracted, row: int) -> tuple[str | None, str | None, dict[str, Any]]:
    """A row of what a format read, as a Case states it: time, canonical level, fields with the
    `rest` pairs (the format's own fields win, as in the parse stage)."""
    fields = {path: values[row].as_py() for path, values in found.fields.items() if values[row].is_valid}
    rest = found.rest[row].as_py() if found.rest is not None else None
    for key, value in parse_pairs(rest or "").items():
        fields.setdefault(key, value)
    time = _iso(found.times[row].as_py()) if found.times is not None else None
    level = canonical_levels(found.levels)[row].as_py() if found.levels is not None else None
    return time, level, fields


def _claims(lines: list[str]) -> tuple[list[str | None], list[tuple[str | None, str | None, dict[str, Any]]]]:
    """Each line's format and what it read, trying FORMATS in order on the lines not yet claimed."""
    column = pa.array(lines, pa.string())
    names: list[str | None] = [None] * len(lines)
    read: list[Any] = [None] * len(lines)
    for fmt in FORMATS:
        unclaimed = [index for index, name in enumerate(names) if name is None]
        found = extract(fmt, column.take(pa.array(unclaimed, pa.int64())), RECEIVED_MS)
        for row, index in enumerate(unclaimed):
            if found.matched[row].as_py():
                names[index] = fmt.name
                read[index] = _read(found, row)
    return names, read


def test_every_format_has_its_cases() -> None:
    assert set(CASES) == set(BY_NAME)
    assert len(BY_NAME) == len(FORMATS)  # names are unique
    for name, cases in CASES.items():
        assert len(cases) >= 20, name


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_format_reads_its_lines(name: str) -> None:
    cases = CASES[name]
    found = extract(BY_NAME[name], pa.array([case.line for case in cases], pa.string()), RECEIVED_MS)
    for row, case in enumerate(cases):
        assert found.matched[row].as_py(), case.line
        assert _read(found, row) == (case.time, case.level, case.fields), case.line


def test_each_line_is_claimed_by_its_own_format_and_prose_by_none() -> None:
    expected = [name for name, cases in CASES.items() for _ in cases] + [None] * len(PROSE)
    names, read = _claims(ALL_LINES + PROSE)
    wrong = [(line, want, got) for line, want, got in zip(ALL_LINES + PROSE, expected, names) if want != got]
    assert wrong == []
    cases = [case for name in CASES for case in CASES[name]]
    assert read[: len(cases)] == [(case.time, case.level, case.fields) for case in cases]


def test_patterns_are_anchored() -> None:
    for fmt in FORMATS:
        assert fmt.pattern.startswith("^"), fmt.name


def test_a_path_has_one_kind_in_every_format() -> None:
    """(Pairs from a `rest` group are what the sender wrote: nginx's `urt` is a number, or a
    list of them as text.)"""
    paths = {fmt.field_name(group) for fmt in FORMATS for group in re.findall(r"\(\?P<(\w+)>", fmt.pattern)}
    kinds: dict[str, set[type]] = {}
    for cases in CASES.values():
        for case in cases:
            for path, value in case.fields.items():
                if path in paths:
                    kinds.setdefault(path, set()).add(type(value))
    mixed = {path: found for path, found in kinds.items() if len(found) > 1}
    assert mixed == {}
    for fmt in FORMATS:
        for group, kind in fmt.kinds.items():
            assert KINDS[group] == kind, (fmt.name, group)


def test_typed_groups_are_typed_in_every_format_that_has_them() -> None:
    for fmt in FORMATS:
        groups = set(re.findall(r"\(\?P<(\w+)>", fmt.pattern))
        assert {group for group in groups if group in KINDS} == set(fmt.kinds), fmt.name


def test_format_level_codes_map_to_canonical_levels() -> None:
    canonical = set(CANONICAL.values())
    for fmt in FORMATS:
        assert set(fmt.levels.values()) <= canonical, fmt.name
        for case in CASES[fmt.name]:
            assert case.level is None or case.level in canonical, case.line


def test_every_format_with_a_time_group_reads_it() -> None:
    for fmt in FORMATS:
        assert fmt.time is not None and fmt.read_time is not None, fmt.name


def test_a_pri_beyond_191_is_not_syslog() -> None:
    names, _ = _claims(["<192>Oct 11 22:14:15 host app: x", "<191>Oct 11 22:14:15 host app: x"])
    assert names == [None, "rfc3164"]


def test_syslog_level_is_the_pri_severity() -> None:
    pris = [facility * 8 + severity for facility in (0, 4, 23) for severity in range(8)]
    lines = [f"<{pri}>1 2025-05-31T04:12:38Z h a - - - m" for pri in pris]
    names, read = _claims(lines)
    assert set(names) == {"rfc5424"}
    levels = [level for _, level, _ in read]
    expected = ["EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG"] * 3
    assert levels == expected


# -- robustness ----------------------------------------------------------------------------------

def _check(found: Extracted, length: int) -> None:
    assert len(found.matched) == length and found.matched.null_count == 0
    for values in found.fields.values():
        assert len(values) == length
    if found.times is not None:
        assert found.times.type == pa.int64()
        assert pc.all(pc.and_(pc.greater_equal(found.times, 0), pc.less(found.times, MAX_MS))).as_py() in (True, None)


@given(st.lists(st.text(max_size=300), max_size=20))
@example(["<0>", "[", '"', "\\", "2025-02-29T00:00:00Z x y: z", "Feb 30 00:00:00 h a: x"])
@example(["0229 12:00:00.000000 1 a.go:1] x", "<191>Feb 29 00:00:00 x", "[Sat Feb 29 00:00:00 2025] [error] x"])
@settings(max_examples=200, deadline=None)
def test_extract_never_raises_on_any_text(lines: list[str]) -> None:
    column = pa.array(lines, pa.string())
    for fmt in FORMATS:
        _check(extract(fmt, column, RECEIVED_MS), len(lines))


def _mutations(line: str) -> st.SearchStrategy[str]:
    position = st.integers(0, len(line))
    return st.one_of(
        st.tuples(position, position).map(lambda ab: line[: min(ab)] + line[max(ab) :]),  # cut a slice
        st.tuples(position, st.text(max_size=8)).map(lambda pt: line[: pt[0]] + pt[1] + line[pt[0] :]),  # insert
        st.tuples(position, st.sampled_from(' "[]<>:/-0912\\=\x00é')).map(
            lambda pt: line[: pt[0]] + pt[1] + line[pt[0] + 1 :]
        ),  # replace a character with one that matters to the patterns
        position.map(lambda p: line[:p]),  # truncated
        position.map(lambda p: line[:p] + line[p:] * 3),  # repeated tail
    )


@given(st.sampled_from(ALL_LINES).flatmap(lambda line: st.lists(_mutations(line), min_size=1, max_size=8)))
@settings(max_examples=300, deadline=None)
def test_extract_never_raises_on_mutated_real_lines(lines: list[str]) -> None:
    column = pa.array(lines, pa.string())
    for fmt in FORMATS:
        _check(extract(fmt, column, RECEIVED_MS), len(lines))


def test_extract_handles_nulls_and_empty_columns() -> None:
    for fmt in FORMATS:
        _check(extract(fmt, pa.array([None, "", None], pa.string()), RECEIVED_MS), 3)
        _check(extract(fmt, pa.array([], pa.string()), RECEIVED_MS), 0)


def test_every_format_has_a_signature() -> None:
    assert [fmt.name for fmt in FORMATS if not fmt.signature] == []


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_formats_signature_matches_all_of_its_lines(name: str) -> None:
    """`extract` offers a format only the lines its signature matches: a signature that missed
    some of the format's lines would silently leave them unparsed."""
    lines = pa.array([case.line for case in CASES[name]], pa.string())
    assert pc.all(pc.match_substring_regex(lines, BY_NAME[name].signature)).as_py()


@given(st.sampled_from(ALL_LINES).flatmap(lambda line: st.lists(_mutations(line), min_size=1, max_size=8)))
@settings(max_examples=300, deadline=None)
def test_a_line_a_pattern_matches_is_matched_by_its_signature(lines: list[str]) -> None:
    column = pa.array(lines, pa.string())
    for fmt in FORMATS:
        full = pc.match_substring_regex(column, fmt.pattern)
        assert not pc.any(pc.and_not(full, pc.match_substring_regex(column, fmt.signature))).as_py(), fmt.name
