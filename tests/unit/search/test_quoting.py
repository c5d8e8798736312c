"""Values written into queries by code read back exactly, whatever they hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from timberyard.search import parse
from timberyard.search.ast import FieldIn, FieldMatch
from timberyard.search.quoting import any_of, exact_field, quoted

# Lone surrogates are not text a query may hold (the lexer refuses them).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(TEXT)
def test_an_exact_field_reads_back_as_its_value(value: str) -> None:
    node = parse(exact_field("app", value))
    assert isinstance(node, FieldMatch) and (node.op, node.value) == ("eq_cs", value)


@given(st.lists(TEXT.filter(lambda v: v.strip() != ""), min_size=1, max_size=4))
def test_a_list_reads_back_as_its_values(values: list[str]) -> None:
    node = parse(any_of("host", values))
    assert isinstance(node, FieldIn) and list(node.values) == values


def test_quotes_and_backslashes_are_escaped() -> None:
    assert quoted('a "b" \\c') == '"a \\"b\\" \\\\c"'
