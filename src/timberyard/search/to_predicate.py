"""The AST as a Python predicate over a row dict, for callers that test one line at a time.

A row has the store's columns (`line`, `host`, ..., `tags` list, `labels` dict) and its fields:
`fields` as nested objects (the shape the store and live tail give), or the first release's
`meta` JSON text. The meaning of each node matches `to_sql` and `to_arrow` exactly; see
tests/unit/search/conformance_cases.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson

from timberyard.search.ast import (
    And,
    Compare,
    Field,
    FieldExists,
    FieldIn,
    FieldMatch,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    TemplateIn,
    Term,
)
from timberyard.search.text import ascii_lower, is_word_char, parse_number

_MISSING = object()


class _Row:
    """One row being tested; meta JSON text is parsed at most once, when a field needs it."""

    __slots__ = ("_fields", "row")

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row
        self._fields: Any = _MISSING

    def text(self, column: str) -> str:
        return self.row.get(column) or ""

    def tags(self) -> list[str]:
        return list(self.row.get("tags") or ())

    def label(self, name: str) -> str:
        labels = self.row.get("labels") or {}
        if not isinstance(labels, Mapping):  # Arrow gives maps as lists of pairs
            labels = dict(labels)
        return labels.get(name) or ""

    def field(self, path: tuple[str, ...]) -> Any:
        """The value at `path`; an object there is not a value (its paths are the fields)."""
        if self._fields is _MISSING:
            self._fields = self.row.get("fields")
            if self._fields is None:
                try:
                    self._fields = orjson.loads(self.row.get("meta") or "")
                except orjson.JSONDecodeError:
                    self._fields = None
        value = self._fields
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return _MISSING
            value = value[key]
        return _MISSING if value is None or isinstance(value, dict) else value


Check = Callable[[_Row], bool]


def compile_predicate(node: Node) -> Callable[[Mapping[str, Any]], bool]:
    check = _compile(node)

    def predicate(row: Mapping[str, Any]) -> bool:
        return check(_Row(row))

    return predicate


def term_matches(text: str, line: str) -> bool:
    """`text` occurs in `line` ignoring ASCII case, at a word start if it begins with a word
    character (the same rule as to_sql.term_pattern)."""
    needle, haystack = ascii_lower(text), ascii_lower(line)
    bounded = bool(needle) and is_word_char(needle[0])
    start = haystack.find(needle)
    while start >= 0:
        if not bounded or start == 0 or not is_word_char(haystack[start - 1]):
            return True
        start = haystack.find(needle, start + 1)
    return False


def _compile(node: Node) -> Check:
    match node:
        case MatchAll():
            return lambda row: True
        case And(items):
            checks = [_compile(item) for item in items]
            return lambda row: all(check(row) for check in checks)
        case Or(items):
            checks = [_compile(item) for item in items]
            return lambda row: any(check(row) for check in checks)
        case Not(item):
            check = _compile(item)
            return lambda row: not check(row)
        case Term(text):
            return lambda row: term_matches(text, row.text("line"))
        case Phrase(text):
            needle = ascii_lower(text)
            return lambda row: needle in ascii_lower(row.text("line"))
        case FieldMatch(field, op, value):
            return _on_text(field, _string_test(op, value), _numbers([value]))
        case FieldIn(field, values):
            wanted = {ascii_lower(v) for v in values}
            return _on_text(field, lambda s: ascii_lower(s) in wanted, _numbers(values))
        case TemplateIn(ids):
            wanted = frozenset(ids)
            return lambda row: (row.row.get("template") or 0) in wanted
        case FieldExists(field):
            return _exists(field)
        case Compare(field, op, value):
            return _compare(field, _COMPARE[op], value)
    raise TypeError(f"not a search node: {node!r}")  # pragma: no cover


def _numbers(values: tuple[str, ...] | list[str]) -> frozenset[float]:
    return frozenset(n for v in values if (n := parse_number(v)) is not None)


def _string_test(op: str, value: str) -> Callable[[str], bool]:
    if op == "prefix":
        lowered = ascii_lower(value)
        return lambda s: ascii_lower(s).startswith(lowered)
    if op == "eq":
        lowered = ascii_lower(value)
        return lambda s: ascii_lower(s) == lowered
    if op == "prefix_cs":
        return lambda s: s.startswith(value)
    return lambda s: s == value


def _on_strings(field: Field, test: Callable[[str], bool]) -> Check | None:
    """`test` on a built-in column, any tag, or a label; None for a field path, whose values
    are typed JSON and need their own rule."""
    if field.kind == "column":
        return lambda row: test(row.text(field.name))
    if field.kind == "tags":
        return lambda row: any(test(tag) for tag in row.tags())
    if field.kind == "label":
        return lambda row: test(row.label(field.name))
    return None


def _on_text(field: Field, test: Callable[[str], bool], numbers: frozenset[float]) -> Check:
    """`test` on the field's text; numbers in fields match by numeric equality with `numbers`,
    booleans are the text true/false, arrays and absent values never match."""
    on_strings = _on_strings(field, test)
    if on_strings is not None:
        return on_strings

    def check(row: _Row) -> bool:
        value = row.field(field.path)
        if isinstance(value, bool):
            return test("true" if value else "false")
        if isinstance(value, str):
            return test(value)
        if isinstance(value, int | float):
            return float(value) in numbers
        return False

    return check


def _exists(field: Field) -> Check:
    return _on_strings(field, lambda text: text != "") or (lambda row: row.field(field.path) is not _MISSING)


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def _compare(field: Field, test: Callable[[float, float], bool], value: float) -> Check:
    def on_string(text: str) -> bool:
        number = parse_number(text)
        return number is not None and test(number, value)

    on_strings = _on_strings(field, on_string)
    if on_strings is not None:
        return on_strings

    def check(row: _Row) -> bool:
        number = row.field(field.path)
        if isinstance(number, str):
            return on_string(number)
        if isinstance(number, int | float) and not isinstance(number, bool):
            return test(float(number), value)
        return False

    return check
