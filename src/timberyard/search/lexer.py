"""Query text to tokens, with every escape and quote resolved here so the parser sees values.

After `name:` the lexer reads the field's operator and value itself (`=v`, `>=3`, `[a,b]`,
`*`, `"quoted"`); after `name:(` it reads a field group, where words are values for that field
(`f:(>=400 <500 -404)`) rather than terms or fields.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from timberyard.search.errors import QuerySyntaxError
from timberyard.search.text import parse_number

MAX_QUERY_CHARS = 4096
_SURROGATE = re.compile("[\ud800-\udfff]")

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*:")
_QUOTES = "\"'"
_OPERATORS = {"AND", "OR", "NOT"}
# Longest first, so `>=` is not read as `>` then `=`.
_VALUE_OPS = (("===", "eq_cs"), ("==", "eq"), ("=", "prefix_cs"), (">=", ">="), ("<=", "<="), (">", ">"), ("<", "<"))
COMPARISONS = (">", ">=", "<", "<=")

_ESCAPE_HINT = "put a backslash before it (\\\\ for a backslash itself)"


@dataclass(frozen=True, slots=True)
class Token:
    """`kind`: LPAREN RPAREN AND OR NOT NEG TERM PHRASE FIELD VALUE EOF. FIELD carries the field
    `text` (its name); FIELD and VALUE carry `op` (prefix, prefix_cs, eq, eq_cs, in, exists,
    group, >, >=, <, <=) and `values`."""

    kind: str
    pos: int
    text: str = ""
    op: str = ""
    values: tuple[str, ...] = ()


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"query is longer than {MAX_QUERY_CHARS} characters",
            MAX_QUERY_CHARS,
            "shorten the query or split it into several searches",
        )
    surrogate = _SURROGATE.search(text)
    if surrogate:  # a lone surrogate (from argv's surrogateescape, say) is not text any store can hold
        raise QuerySyntaxError(
            "the query is not valid Unicode text",
            surrogate.start(),
            "send the query as UTF-8; the character at this position is half of a surrogate pair",
        )
    return _Lexer(text).run()


def _ends_value(text: str, pos: int) -> bool:
    return pos >= len(text) or text[pos].isspace() or text[pos] in "()"


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.tokens: list[Token] = []
        self.group_depth = 0  # > 0 inside a field group `f:( ... )`
        self.group_pending = False

    def run(self) -> list[Token]:
        text = self.text
        while True:
            while self.pos < len(text) and text[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(text):
                self.tokens.append(Token("EOF", self.pos))
                return self.tokens
            start = self.pos
            char = text[start]
            if char == "(":
                self.tokens.append(Token("LPAREN", start))
                if self.group_pending or self.group_depth:
                    self.group_depth += 1
                self.group_pending = False
                self.pos += 1
            elif char == ")":
                self.tokens.append(Token("RPAREN", start))
                self.group_depth = max(0, self.group_depth - 1)
                self.pos += 1
            elif char == "-":
                if _ends_value(text, start + 1) and not text.startswith("(", start + 1):
                    raise QuerySyntaxError(
                        "'-' has nothing to exclude after it",
                        start,
                        "write -word to exclude a word, or quote the hyphen to search for it: \"-\"",
                    )
                self.tokens.append(Token("NEG", start))
                self.pos += 1
            elif char in _QUOTES:
                value, self.pos = self._quoted(start)
                if self.group_depth:
                    self.tokens.append(Token("VALUE", start, op="prefix", values=(value,)))
                else:
                    self.tokens.append(Token("PHRASE", start, text=value))
            else:
                self._word(start)

    def _word(self, start: int) -> None:
        end = self._bare_end(start)
        raw = self.text[start:end]
        if raw in _OPERATORS:
            self.tokens.append(Token(raw, start))
            self.pos = end
        elif self.group_depth:
            op, values, self.pos = self._value(start, "")
            self.tokens.append(Token("VALUE", start, op=op, values=values))
        elif field := _FIELD_NAME.match(self.text, start):
            name = field.group()[:-1]
            op, values, self.pos = self._value(field.end(), name)
            self.group_pending = op == "group"
            self.tokens.append(Token("FIELD", start, text=name, op=op, values=values))
        else:
            self.tokens.append(Token("TERM", start, text=self._unescape(start, end)))
            self.pos = end

    def _bare_end(self, pos: int, stops: str = "()") -> int:
        """End of an unquoted run: whitespace or a stop character ends it unless escaped."""
        text = self.text
        while pos < len(text):
            char = text[pos]
            if char == "\\":
                if pos + 1 >= len(text):
                    raise QuerySyntaxError("the query ends with a lone backslash", pos, _ESCAPE_HINT)
                pos += 2
            elif char.isspace() or char in stops:
                break
            else:
                pos += 1
        return pos

    def _unescape(self, start: int, end: int) -> str:
        out: list[str] = []
        pos = start
        while pos < end:
            if self.text[pos] == "\\":
                pos += 1
            out.append(self.text[pos])
            pos += 1
        return "".join(out)

    def _quoted(self, start: int) -> tuple[str, int]:
        """A '...' or "..." string starting at `start`; returns its text and the index after it."""
        text = self.text
        quote = text[start]
        out: list[str] = []
        pos = start + 1
        while pos < len(text):
            char = text[pos]
            if char == "\\" and pos + 1 < len(text):
                out.append(text[pos + 1])
                pos += 2
            elif char == quote:
                return "".join(out), pos + 1
            else:
                out.append(char)
                pos += 1
        raise QuerySyntaxError(
            f"the quote {quote} is never closed",
            start,
            f"close it with another {quote}, or write \\{quote} to search for the quote character",
        )

    def _value(self, pos: int, name: str) -> tuple[str, tuple[str, ...], int]:
        """Operator and value(s) of a field at `pos` (just after `name:`, or a word in a group)."""
        text = self.text
        op, symbol = "prefix", ""
        for candidate, op_name in _VALUE_OPS:
            if text.startswith(candidate, pos):
                op, symbol = op_name, candidate
                pos += len(candidate)
                break
        where = f"{name}:{symbol}" if name else (symbol or "the field group")
        if pos < len(text) and op == "prefix":
            if text[pos] == "(" and not self.group_depth:
                return "group", (), pos
            if text[pos] == "[":
                values, end = self._list(pos, name)
                return "in", values, end
        if pos < len(text) and op == "prefix" and text[pos] == "*" and _ends_value(text, pos + 1):
            return "exists", (), pos + 1
        if _ends_value(text, pos):
            raise QuerySyntaxError(
                f"{where} has no value",
                pos,
                f"write a value after it, like {name or 'field'}:{symbol}value, or {name or 'field'}:* for any value",
            )
        if text[pos] in _QUOTES:
            value, end = self._quoted(pos)
        else:
            end = self._bare_end(pos)
            value = self._unescape(pos, end)
        if op in COMPARISONS:
            number = parse_number(value)
            if number is None:
                raise QuerySyntaxError(
                    f"{where} needs a number, not {value!r}", pos, f"compare with a number, like {where}400"
                )
            if not math.isfinite(number):
                raise QuerySyntaxError(f"the number {value!r} is too large", pos, "use a number below 1e308")
        return op, (value,), end

    def _list(self, start: int, name: str) -> tuple[tuple[str, ...], int]:
        """`[a, b, "c d"]` starting at `start`; returns the items and the index after `]`."""
        text = self.text
        items: list[str] = []
        pos = start + 1
        unclosed = QuerySyntaxError(
            f"the list after {name}: is never closed", start, f"close it with ], like {name}:[a,b]"
        )
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                raise unclosed
            item_start = pos
            if text[pos] in _QUOTES:
                item, pos = self._quoted(pos)
                while pos < len(text) and text[pos].isspace():
                    pos += 1
            else:
                end = self._bare_end_list(pos)
                item = self._unescape(pos, end).strip()
                pos = end
                if item == "" or text[item_start:end].isspace():
                    if pos < len(text) and text[pos] == "]" and not items:
                        raise QuerySyntaxError(
                            f"the list after {name}: is empty", start, f"list values, like {name}:[a,b]"
                        )
                    raise QuerySyntaxError("the list has an empty item", item_start, "remove the extra comma")
            if pos >= len(text):
                raise unclosed
            if text[pos] == "]":
                items.append(item)
                return tuple(items), pos + 1
            if text[pos] != ",":
                raise QuerySyntaxError(
                    "expected , or ] in the list", pos, "separate list values with commas; quote values with spaces"
                )
            items.append(item)
            pos += 1

    def _bare_end_list(self, pos: int) -> int:
        text = self.text
        while pos < len(text):
            char = text[pos]
            if char == "\\":
                if pos + 1 >= len(text):
                    raise QuerySyntaxError("the query ends with a lone backslash", pos, _ESCAPE_HINT)
                pos += 2
            elif char in ",]":
                break
            else:
                pos += 1
        return pos
