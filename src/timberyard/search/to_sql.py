"""The AST as a ClickHouse WHERE fragment over `timberyard.logs`, user text only in parameters.

Every string of SQL here is a fixed template; whatever the user typed (terms, values, field
paths, label names) is bound as a `{qN:Type}` parameter, and term patterns are regular
expressions we build by escaping every character. A field path is bound as an `Identifier`
naming the subcolumn `fields.<path>` of the JSON column, so ClickHouse reads that one path's
values; `getSubcolumn(fields, {p:String})` reads the whole column, 3-5x slower on 1M lines.
The meaning of each node matches `to_arrow` and `to_predicate` exactly;
tests/unit/search/conformance_cases.py holds all three to one table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

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
from timberyard.search.text import NUMBER_PATTERN, ascii_lower, parse_number, term_pattern

# The expression the store's Bloom filter index `long_tokens` is built on (store/schema.py
# declares the index with this text; ClickHouse uses it only for this exact expression): the
# line's runs of 8 or more ASCII letters and digits, lower-cased.
LONG_TOKEN_CHARS = 8
LONG_TOKENS = f"extractAll(lower(line), '[0-9a-z]{{{LONG_TOKEN_CHARS},}}')"
_NUMERIC_TYPES = "('Int64', 'UInt64', 'Float64')"


def compile_sql(node: Node, prefix: str = "q") -> tuple[str, dict[str, Any]]:
    """A parenthesised WHERE fragment and its parameters, named `{prefix}0`, `{prefix}1` ...
    (pick another prefix to combine two fragments in one statement)."""
    compiler = _Compiler(prefix)
    return f"({compiler.node(node)})", compiler.params


def path_identifier(path: tuple[str, ...]) -> str:
    """The subcolumn of the `fields` JSON column holding a path's values (a Dynamic), to bind as
    an `Identifier`: ClickHouse takes the parameter's text as the name, never as SQL."""
    return ".".join(("fields", *path))


def whole_tokens(text: str, word_start: bool) -> list[str]:
    """The lower-cased tokens (runs of ASCII letters and digits) that every line matching `text`
    contains whole: a run of the text bounded on both sides inside it, or at its start when the
    match must begin at a word start (a term; a phrase may begin inside a word), never the last
    run unless the text ends with a separator (a term's last word is a prefix). Non-ASCII text
    gives none, since the store's tokenizer and ours could disagree on it."""
    if not text.isascii():
        return []
    runs = re.split(r"[^0-9A-Za-z]+", text)
    whole = runs[1:-1]
    if word_start and len(runs) > 1:
        whole.insert(0, runs[0])
    return [ascii_lower(run) for run in whole if run]


_COMPARE_SQL = {">": ">", ">=": ">=", "<": "<", "<=": "<="}


class _Compiler:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.params: dict[str, Any] = {}

    def indexed(self, tokens: list[str], scan: str) -> str:
        """`scan`, narrowed by the long-token Bloom index when the text holds a whole long token
        (the longest: it is the rarest). The index only picks granules; `scan` decides. The
        `has` comes second because ClickHouse evaluates it only where `scan` matched: lower-
        casing and tokenising every line of the picked granules first took twice as long."""
        long = [token for token in tokens if len(token) >= LONG_TOKEN_CHARS]
        if not long:
            return scan
        token = max(long, key=len)
        return f"{scan} AND has({LONG_TOKENS}, {self.bind(token, 'String')})"

    def bind(self, value: Any, type_: str) -> str:
        name = f"{self.prefix}{len(self.params)}"
        self.params[name] = value
        return f"{{{name}:{type_}}}"

    def node(self, node: Node) -> str:
        match node:
            case MatchAll():
                return "1"
            case And(items):
                return " AND ".join(f"({self.node(item)})" for item in items)
            case Or(items):
                return " OR ".join(f"({self.node(item)})" for item in items)
            case Not(item):
                return f"NOT ({self.node(item)})"
            case Term(text):
                return self.indexed(whole_tokens(text, word_start=True), f"match(line, {self.bind(term_pattern(text), 'String')})")
            case Phrase(text):
                return self.indexed(
                    whole_tokens(text, word_start=False), f"positionCaseInsensitive(line, {self.bind(text, 'String')}) > 0"
                )
            case FieldMatch(field, op, value):
                return self.field_match(field, op, value)
            case FieldIn(field, values):
                return self.field_in(field, values)
            case TemplateIn(ids):
                if len(ids) == 1:
                    return f"template = {self.bind(ids[0], 'UInt64')}"
                return f"has({self.bind(list(ids), 'Array(UInt64)')}, template)"
            case FieldExists(field):
                return self.exists(field)
            case Compare(field, op, value):
                return self.compare(field, op, value)
        raise TypeError(f"not a search node: {node!r}")  # pragma: no cover

    # -- string matches: `cond` turns a string expression into a condition on it

    def field_match(self, field: Field, op: str, value: str) -> str:
        number = parse_number(value)
        numbers = [] if number is None else [number]
        if op in ("prefix", "eq"):
            bound = self.bind(ascii_lower(value), "String")
            if op == "prefix":
                return self.on_text(field, lambda e: f"startsWith(lower({e}), {bound})", numbers)
            return self.on_text(field, lambda e: f"lower({e}) = {bound}", numbers)
        bound = self.bind(value, "String")
        if op == "prefix_cs":
            return self.on_text(field, lambda e: f"startsWith({e}, {bound})", numbers)
        return self.on_text(field, lambda e: f"{e} = {bound}", numbers)

    def field_in(self, field: Field, values: tuple[str, ...]) -> str:
        bound = self.bind([ascii_lower(v) for v in values], "Array(String)")
        numbers = [n for v in values if (n := parse_number(v)) is not None]
        return self.on_text(field, lambda e: f"has({bound}, lower({e}))", numbers)

    def on_text(self, field: Field, cond: Callable[[str], str], numbers: list[float]) -> str:
        """`cond` over the field's text. Numbers in fields match by numeric equality with any
        of `numbers` (the query values that are numbers)."""
        if field.kind == "column":
            return cond(field.name)
        if field.kind == "tags":
            return f"arrayExists(t -> {cond('t')}, tags)"
        if field.kind == "label":
            return cond(f"labels[{self.bind(field.name, 'String')}]")
        if not numbers:
            return self.on_path(field, cond, lambda number: "0", booleans=True)
        bound = self.bind(numbers, "Array(Float64)")
        return self.on_path(field, cond, lambda number: f"has({bound}, {number})", booleans=True)

    def on_path(self, field: Field, text: Callable[[str], str], number: Callable[[str], str], booleans: bool) -> str:
        """Dispatch on the type of the path's value: strings by `text`, numbers by `number` of
        the value as a Float64, booleans as the text true/false (when `booleans`), arrays and
        absent values never. Any other type is taken as text: fields that old rows compute
        from `meta` can come back as Date or DateTime, which ClickHouse infers there."""
        value = self.path(field)
        kind = f"dynamicType({value})"
        boolean = text(f"if(dynamicElement({value}, {_BOOL}), {_TRUE}, {_FALSE})") if booleans else "0"
        return (
            f"multiIf({kind} = {_STRING}, {text(f'dynamicElement({value}, {_STRING})')}, "
            f"{kind} IN {_NUMERIC_TYPES}, {number(_as_float(value))}, "
            f"{kind} = {_BOOL}, {boolean}, "
            f"{kind} = {_NONE} OR startsWith({kind}, {_ARRAY}), 0, "
            f"{text(f'toString({value})')})"
        )

    def path(self, field: Field) -> str:
        return self.bind(path_identifier(field.path), "Identifier")

    def exists(self, field: Field) -> str:
        if field.kind == "column":
            return f"{field.name} != ''"
        if field.kind == "tags":
            return "arrayExists(t -> t != '', tags)"
        if field.kind == "label":
            return f"labels[{self.bind(field.name, 'String')}] != ''"
        return f"dynamicType({self.path(field)}) != {_NONE}"

    def compare(self, field: Field, op: str, value: float) -> str:
        sign = _COMPARE_SQL[op]
        bound = self.bind(value, "Float64")

        def on_string(expr: str) -> str:
            return f"(match({expr}, {_NUMBER}) AND toFloat64OrZero({expr}) {sign} {bound})"

        if field.kind == "column":
            return on_string(field.name)
        if field.kind == "tags":
            return f"arrayExists(t -> {on_string('t')}, tags)"
        if field.kind == "label":
            return on_string(f"labels[{self.bind(field.name, 'String')}]")
        return self.on_path(field, on_string, lambda number: f"{number} {sign} {bound}", booleans=False)


def _as_float(value: str) -> str:
    """A Dynamic number as Float64; NULL, never an error, whatever the value's type (a CAST
    throws on an array when ClickHouse evaluates the branch for every row)."""
    return (
        f"coalesce(toFloat64(dynamicElement({value}, 'Int64')), toFloat64(dynamicElement({value}, 'UInt64')), "
        f"dynamicElement({value}, 'Float64'))"
    )


_STRING = "'String'"
_BOOL = "'Bool'"
_NONE = "'None'"
_ARRAY = "'Array'"
_TRUE = "'true'"
_FALSE = "'false'"
# The number pattern has no quote or backslash, so it is a plain SQL string literal.
assert "'" not in NUMBER_PATTERN and "\\" not in NUMBER_PATTERN
_NUMBER = f"'{NUMBER_PATTERN}'"

# Every SQL string literal this module writes, for tests that check no user text leaks in.
FIXED_LITERALS = (
    f"'[0-9a-z]{{{LONG_TOKEN_CHARS},}}'", _STRING, _BOOL, _NONE, _ARRAY, "'Int64'", "'UInt64'", "'Float64'",
    "''", _TRUE, _FALSE, _NUMBER,
)
