"""Hostile and random input: parse raises only QuerySyntaxError, never hangs, and the SQL it
compiles to is made of our fixed templates and placeholders alone."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from timberyard.search import QuerySyntaxError, compile_predicate, compile_sql, parse
from timberyard.search.to_arrow import compile_filter
from timberyard.search.to_sql import FIXED_LITERALS
from unit.search.conformance_rows import BATCHES, TAIL_ROWS

_PLACEHOLDER = re.compile(r"\{q[0-9]+:(String|Identifier|Float64|Array\(String\)|Array\(Float64\))\}")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SQL_WORDS = {
    "AND", "OR", "NOT", "IN", "match", "line", "positionCaseInsensitive", "startsWith", "lower", "has", "extractAll",
    "arrayExists", "t", "tags", "labels", "multiIf", "dynamicType", "dynamicElement", "coalesce", "toFloat64", "toString", "if",
    "toFloat64OrZero", "host", "app", "level", "env", "file", "k8s_namespace", "k8s_pod", "k8s_container", "k8s_node",
    "ingester", "format",
}  # fmt: skip

# Characters that make query syntax, over-represented so random text reaches every branch.
QUERY_TEXT = st.lists(
    st.sampled_from([*" ()\"'\\-:=<>[],*.", "OR", "AND", "NOT", "a", "B", "1", "é", "host", "status", "\t"])
    | st.characters(),
    max_size=40,
).map("".join)


def assert_only_templates(sql: str) -> None:
    rest = _PLACEHOLDER.sub(" ? ", sql)
    for literal in FIXED_LITERALS:
        rest = rest.replace(literal, " ")
    assert not set(rest) & set("'\"\\{};`#"), rest
    assert "--" not in rest and "/*" not in rest
    assert set(_IDENTIFIER.findall(rest)) <= _SQL_WORDS, rest


def user_strings(node: object) -> list[str]:
    out: list[str] = []
    for name in getattr(node, "__slots__", ()):
        value = getattr(node, name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, tuple):
            for item in value:
                out.extend([item] if isinstance(item, str) else user_strings(item))
        else:
            out.extend(user_strings(value))
    return out


@settings(deadline=None, max_examples=500)
@given(QUERY_TEXT)
@example("\ud800")  # a lone surrogate (argv's surrogateescape) must be a syntax error, not a crash
def test_random_text_parses_or_raises_syntax_error(text: str) -> None:
    try:
        node = parse(text)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(text)
        return
    sql, params = compile_sql(node)
    assert_only_templates(sql)
    for value in user_strings(node):
        if len(value) >= 2 and re.search(r"['\"\\{}]", value):
            assert value not in sql
    predicate = compile_predicate(node)
    for row in TAIL_ROWS:
        assert isinstance(predicate(row), bool)
    matches = compile_filter(node)
    for batch in BATCHES:
        assert not matches(batch).null_count


INJECTIONS = [
    "') OR 1=1 --",
    "\"; DROP TABLE x; --",
    "{x:String}",
    "{account:String}",
    "\\\\",
    "/* */",
    "' OR ''='",
    "host:') OR 1=1 --",
    "host:\"'; DROP TABLE timberyard.logs; --\"",
    "user.id:{q0:String}",
    "a\\'b",
    "status:>1e400",
    "status:>99999999999999999999999",
    "status:99999999999999999999999",
    "status:[1e400, 2]",
    "label.x\\y:1",
    "f:(>1 OR ') --)",
    "'; SELECT 1 --'",
    "\\x00 \x00 \n \r",
    "é' OR 1 --",
]


@pytest.mark.parametrize("query", INJECTIONS)
def test_injections_compile_to_templates(query: str) -> None:
    try:
        node = parse(query)
    except QuerySyntaxError:
        return
    sql, _ = compile_sql(node)
    assert_only_templates(sql)
