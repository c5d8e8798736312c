"""The AST as a ClickHouse WHERE fragment over `timberyard.logs`, user text only in parameters.

Every string of SQL here is a fixed template; whatever the user typed (terms, values, field
paths, label names) is bound as a `{qN:Type}` parameter, and term patterns are regular
expressions we build by escaping every character. The meaning of each node matches
`to_predicate` exactly; tests/unit/search/conformance_cases.py holds both to one table.
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
    Term,
)
from timberyard.search.text import NUMBER_PATTERN, ascii_lower, is_word_char, parse_number

WORD_START = "(^|[^0-9A-Za-z])"

# The expression the store's Bloom filter index `long_tokens` is built on (store/schema.py
# declares the index with this text; ClickHouse uses it only for this exact expression): the
# line's runs of 8 or more ASCII letters and digits, lower-cased.
LONG_TOKEN_CHARS = 8
LONG_TOKENS = f"extractAll(lower(line), '[0-9a-z]{{{LONG_TOKEN_CHARS},}}')"
_NUMERIC_TYPES = "('Int64', 'UInt64', 'Double')"


def compile_sql(node: Node, prefix: str = "q") -> tuple[str, dict[str, Any]]:
    """A parenthesised WHERE fragment and its parameters, named `{prefix}0`, `{prefix}1` ...
    (pick another prefix to combine two fragments in one statement)."""
    compiler = _Compiler(prefix)
    return f"({compiler.node(node)})", compiler.params


def term_pattern(text: str) -> str:
    """RE2 for a term: `text` with ASCII letters in either case and every other ASCII character
    escaped as `\\x{..}`, preceded by a word start when it begins with a word character."""
    parts = [WORD_START] if text and is_word_char(text[0]) else []
    for char in text:
        if char.isascii() and char.isalpha():
            parts.append(f"[{char.lower()}{char.upper()}]")
        elif char.isascii() and not char.isdigit():
            parts.append(f"\\x{{{ord(char):02X}}}")
        else:  # digits, and non-ASCII characters (never RE2 syntax) stand for themselves
            parts.append(char)
    return "".join(parts)


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
        """`cond` over the field's text. Meta numbers match by numeric equality with any of
        `numbers` (the query values that are numbers)."""
        if field.kind == "column":
            return cond(field.name)
        if field.kind == "tags":
            return f"arrayExists(t -> {cond('t')}, tags)"
        if field.kind == "label":
            return cond(f"labels[{self.bind(field.name, 'String')}]")
        path = self.path(field)
        kind = f"JSONType(meta, {path})"
        numeric = "0"
        if numbers:
            numeric = f"has({self.bind(numbers, 'Array(Float64)')}, JSONExtractFloat(meta, {path}))"
        return (
            f"multiIf({kind} = 'String', {cond(f'JSONExtractString(meta, {path})')}, "
            f"{kind} = 'Bool', {cond(f'if(JSONExtractBool(meta, {path}), {_TRUE}, {_FALSE})')}, "
            f"{kind} IN {_NUMERIC_TYPES}, {numeric}, 0)"
        )

    def path(self, field: Field) -> str:
        return ", ".join(self.bind(part, "String") for part in field.path)

    def exists(self, field: Field) -> str:
        if field.kind == "column":
            return f"{field.name} != ''"
        if field.kind == "tags":
            return "arrayExists(t -> t != '', tags)"
        if field.kind == "label":
            return f"labels[{self.bind(field.name, 'String')}] != ''"
        return f"JSONType(meta, {self.path(field)}) != 'Null'"

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
        path = self.path(field)
        kind = f"JSONType(meta, {path})"
        return (
            f"multiIf({kind} IN {_NUMERIC_TYPES}, JSONExtractFloat(meta, {path}) {sign} {bound}, "
            f"{kind} = 'String', {on_string(f'JSONExtractString(meta, {path})')}, 0)"
        )


_TRUE = "'true'"
_FALSE = "'false'"
# The number pattern has no quote or backslash, so it is a plain SQL string literal.
assert "'" not in NUMBER_PATTERN and "\\" not in NUMBER_PATTERN
_NUMBER = f"'{NUMBER_PATTERN}'"

# Every SQL string literal this module writes, for tests that check no user text leaks in.
FIXED_LITERALS = (f"'[0-9a-z]{{{LONG_TOKEN_CHARS},}}'", "'String'", "'Bool'", "'Int64'", "'UInt64'", "'Double'", "'Null'", "''", _TRUE, _FALSE, _NUMBER)
