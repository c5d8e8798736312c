"""Tokens to the AST, by recursive descent over LogDNA's precedence.

Tightest first: parentheses, then `-`/NOT, then OR, then AND (explicit or implied by
whitespace), so `me myself OR I` reads `me AND (myself OR I)`. Nesting is capped so a hostile
query cannot exhaust the stack.
"""

from __future__ import annotations

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
from timberyard.search.errors import QuerySyntaxError
from timberyard.search.fields import field_value, resolve_field
from timberyard.search.lexer import COMPARISONS, Token, tokenize

MAX_DEPTH = 64
MAX_TEMPLATE_ID = 2**64 - 1

_STARTS = {"LPAREN", "NEG", "NOT", "TERM", "PHRASE", "FIELD", "VALUE"}
_FOLDED = {"prefix_cs": "prefix", "eq_cs": "eq"}


def parse(text: str) -> Node:
    """The AST of `text`; the empty query matches everything. Raises only QuerySyntaxError."""
    tokens = tokenize(text)
    if tokens[0].kind == "EOF":
        return MatchAll()
    return _Parser(tokens).parse()


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def parse(self) -> Node:
        node = self._and(None)
        token = self._peek()
        if token.kind == "RPAREN":
            raise QuerySyntaxError("')' has no matching '('", token.pos, "remove it, or escape it as \\)")
        if token.kind != "EOF":  # pragma: no cover - every other token starts or joins a search
            raise QuerySyntaxError("unexpected text", token.pos, "")
        return node

    def _peek(self) -> Token:
        return self.tokens[self.index]

    def _next(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "EOF":
            self.index += 1
        return token

    def _enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(
                f"the query nests deeper than {MAX_DEPTH} levels", token.pos, "remove redundant parentheses or negations"
            )

    def _operand_follows(self, operator: Token) -> None:
        if self._peek().kind not in _STARTS:
            raise QuerySyntaxError(
                f"{operator.kind} needs a search on both sides",
                operator.pos,
                f"write a {operator.kind} b; to search for the word, write it in lowercase or quote it",
            )

    def _and(self, field: Field | None) -> Node:
        items = [self._or(field)]
        while True:
            token = self._peek()
            if token.kind == "AND":
                self._next()
                self._operand_follows(token)
            elif token.kind not in _STARTS:
                break
            items.append(self._or(field))
        return items[0] if len(items) == 1 else And(tuple(items))

    def _or(self, field: Field | None) -> Node:
        items = [self._unary(field)]
        while self._peek().kind == "OR":
            token = self._next()
            self._operand_follows(token)
            items.append(self._unary(field))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def _unary(self, field: Field | None) -> Node:
        token = self._peek()
        if token.kind not in ("NEG", "NOT"):
            return self._primary(field)
        self._next()
        if self._peek().kind not in _STARTS:
            raise QuerySyntaxError(
                f"{'NOT' if token.kind == 'NOT' else '-'} has nothing to exclude after it",
                token.pos,
                "follow it with a word, a phrase, a field or a group in parentheses",
            )
        self._enter(token)
        node = Not(self._unary(field))
        self.depth -= 1
        return node

    def _primary(self, field: Field | None) -> Node:
        token = self._next()
        kind = token.kind
        if kind == "LPAREN":
            return self._group(token, field)
        if kind == "TERM":
            return Term(token.text)
        if kind == "PHRASE":
            return Phrase(token.text)
        if kind == "FIELD":
            resolved = resolve_field(token.text, token.pos)
            if token.op == "group":
                return self._group(self._next(), resolved)
            return _field_node(resolved, token)
        if kind == "VALUE" and field is not None:
            return _field_node(field, token)
        if kind == "RPAREN":
            raise QuerySyntaxError("')' has no matching '('", token.pos, "remove it, or escape it as \\)")
        if kind in ("AND", "OR"):
            raise QuerySyntaxError(
                f"{kind} needs a search on both sides",
                token.pos,
                f"write a {kind} b; to search for the word, write it in lowercase or quote it",
            )
        raise QuerySyntaxError("the query ends where a search was expected", token.pos, "complete or remove the last part")

    def _group(self, opening: Token, field: Field | None) -> Node:
        self._enter(opening)
        if self._peek().kind == "EOF":
            raise QuerySyntaxError("'(' is never closed", opening.pos, "add a ')', or escape it as \\(")
        if self._peek().kind == "RPAREN":
            raise QuerySyntaxError("empty parentheses", opening.pos, "put a search inside, or remove them")
        node = self._and(field)
        if self._peek().kind != "RPAREN":
            raise QuerySyntaxError("'(' is never closed", opening.pos, "add a ')', or escape it as \\(")
        self._next()
        self.depth -= 1
        return node


def _field_node(field: Field, token: Token) -> Node:
    op = token.op
    if field.kind == "template":
        return _template_node(token)
    if op == "exists":
        return FieldExists(field)
    if op in COMPARISONS:
        return Compare(field, op, float(token.values[0]))  # type: ignore[arg-type]
    values = tuple(field_value(field, value) for value in token.values)
    if op == "in":
        return FieldIn(field, values)
    if field.fold_case:
        op = _FOLDED.get(op, op)
    return FieldMatch(field, op, values[0])  # type: ignore[arg-type]


def _template_node(token: Token) -> TemplateIn:
    """`template:ID`, `template:[ID,ID]`: ids are whole numbers matched exactly, so prefixes,
    comparisons and `*` are refused rather than given a meaning text would have."""
    hint = "write template:ID with the id a search result gives, like template:4242, or template:[ID,ID]"
    if token.op not in ("prefix", "prefix_cs", "eq", "eq_cs", "in"):
        raise QuerySyntaxError("template takes a template id, not a comparison or *", token.pos, hint)
    ids = []
    for value in token.values:
        if not (value.isascii() and value.isdigit()) or len(value) > 20 or int(value) > MAX_TEMPLATE_ID:
            raise QuerySyntaxError(
                f"template id {value[:40]!r} is not a whole number from 0 to {MAX_TEMPLATE_ID}", token.pos, hint
            )
        ids.append(int(value))
    return TemplateIn(tuple(dict.fromkeys(ids)))
