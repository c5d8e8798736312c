"""The parsed query: small frozen nodes every back end walks.

Fields are resolved at parse time into a `Field` so back ends never interpret user names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal["column", "tags", "path", "label", "template"]
MatchOp = Literal["prefix", "prefix_cs", "eq", "eq_cs"]
CompareOp = Literal[">", ">=", "<", "<="]


@dataclass(frozen=True, slots=True)
class Field:
    """Where a field's value lives: a built-in `column` (name), any element of `tags`, a dotted
    `path` of the line's fields (parts), one `label` (name), or the line's `template` id (read
    by `TemplateIn` only). `fold_case` forces case-insensitive matching."""

    kind: FieldKind
    name: str = ""
    path: tuple[str, ...] = ()
    fold_case: bool = False


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty query."""


@dataclass(frozen=True, slots=True)
class Term:
    """A word prefix (or, with punctuation, a substring starting at a word boundary)."""

    text: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """A quoted, case-insensitive substring of the line."""

    text: str


@dataclass(frozen=True, slots=True)
class FieldMatch:
    field: Field
    op: MatchOp
    value: str


@dataclass(frozen=True, slots=True)
class FieldIn:
    """Whole value equal (case-insensitively) to any of `values`."""

    field: Field
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TemplateIn:
    """The line's template id (0: none) is one of `ids`: exact, as ids are numbers, not text."""

    ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FieldExists:
    field: Field


@dataclass(frozen=True, slots=True)
class Compare:
    field: Field
    op: CompareOp
    value: float


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = MatchAll | Term | Phrase | FieldMatch | FieldIn | TemplateIn | FieldExists | Compare | And | Or | Not
