"""Group scopes: search queries whose field values match whole values, never by accident a prefix.

In a search, `app:web` also finds `app:webhooks` (LogDNA's prefix rule, handy when looking for
lines). In a scope that would grant more than the owner meant, so a scope's field values match
the whole value: `app:web` (case-insensitive, as in search), `app:=web` (case-sensitive). A
value ending in `*` asks for the prefix explicitly: `app:web*`. Free-text words and phrases
keep their search meaning. The rewrite happens on the AST, before any back end sees it, so
the SQL of reads and the predicate of live tail agree by construction.
"""

from __future__ import annotations

from timberyard.search import parse
from timberyard.search.ast import And, FieldMatch, MatchAll, Node, Not, Or

NOTHING: Node = Not(MatchAll())
_WHOLE = {"prefix": "eq", "prefix_cs": "eq_cs"}


def parse_scope(text: str) -> Node:
    """The lines a scope lets through; raises QuerySyntaxError like `parse`."""
    return _whole_values(parse(text))


def union_of_scopes(scopes: list[str]) -> Node:
    """The lines any of `scopes` lets through; an empty scope lets nothing through."""
    nodes = [parse_scope(scope) for scope in scopes if scope.strip()]
    if not nodes:
        return NOTHING
    return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))


def _whole_values(node: Node) -> Node:
    match node:
        case FieldMatch(field, op, value) if op in _WHOLE:
            if value.endswith("*") and len(value) > 1:
                return FieldMatch(field, op, value[:-1])
            return FieldMatch(field, _WHOLE[op], value)  # type: ignore[arg-type]
        case And(items):
            return And(tuple(_whole_values(item) for item in items))
        case Or(items):
            return Or(tuple(_whole_values(item) for item in items))
        case Not(item):
            return Not(_whole_values(item))
    return node
