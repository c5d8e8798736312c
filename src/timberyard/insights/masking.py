"""Masking: the variable parts of a log line replaced by `<*>` before it is mined.

A template miner compares lines token by token, so every value that differs from one
occurrence of an event to the next (a number, an address, an id, a path) should already be a
`<*>` when the miner sees it; the miner then only has to find the variables that look like
words (user names, states).

One compiled pattern, run on each token that is not all letters. Its alternatives are tried in
this order at each position, so a value is masked whole by the most specific rule before a
looser one could cut it up. Every rule starts only where a value can start (after a space or
a delimiter), so a long line costs linear time, not quadratic:

1. UUIDs                  `3f2b6c1e-9a4d-4c7e-8b1a-0c2d3e4f5a6b`
2. URLs                   `https://host:8443/a/b?c=1`
3. paths                  `/var/log/app.log`, `~/x`, `./x`, `C:\\dir\\file` (a `/` that starts a
                          token or follows `=:([{"'`, so `HTTP/1.1` and `read/write` are not)
4. host names             `db-7.example.com`, `ns.corp.local` (ending in a common top-level
                          domain or `local`/`internal`/`corp`/`lan`/`arpa`, so that a Java class
                          `org.apache.Foo` is not one)
5. IPv6 addresses         `fe80::1`, `2001:db8::8a2e:370:7334` (needs a digit and two colons)
6. IPv4 addresses         `10.0.0.1` (a port after it is a number of its own: `<*>:<*>`)
7. hex ids                `0x7f3a`, `deadbeef42` (8+ hex digits with a digit among them)
8. durations              `12ms`, `3.5s`, `250us`, `2h`
9. dotted numbers         `3.14`, `1.2.3` (one value, not three)
10. words holding a number: `42`, `-1`, `blk_-1608999687919862906`, `node-17`, `R02`,
   `appattempt_1445144423722_0020_000001`. A word is a run of letters, digits and `_-+#@%`;
   `.`, `:`, `=`, `/`, `,`, brackets and quotes end it, so `HWID=3180` keeps its key
   (`HWID=<*>`), `host:8080` its separator and `core.1234` its stem (`core.<*>`). A number is
   two or more digits, or a digit that does not follow a letter: a single digit after
   letters is part of a name (`ssh2`, `eth0`, `jk2_init`, `log4j`), not a value.
11. day and month names: the English three-letter abbreviations with a capital (`Sat`, `May`,
   `Jun`), a word of their own, as timestamps spell them (`[Sat May 31 10:00:01 2025]`,
   `Jun  1 10:00:00`): else every template of a line that starts with its date is new each
   day and each month.

A second, cheaper pass turns a run of non-delimiters holding a `<*>` into one `<*>`
(`\\<*>\\<*>` or `user<*>` is one value, not a constant glued to a variable), where the
delimiters are whitespace and `.:=,;|"'()[]{}`.
"""

from __future__ import annotations

import re

SLOT = "<*>"

_H16 = r"[0-9A-Fa-f]{1,4}"
_TLDS = "com|net|org|edu|gov|mil|io|co|uk|de|fr|nl|jp|cn|ru|local|localdomain|internal|lan|corp|arpa"
_WORD = r"[^\W]|[-+#@%]"  # a letter, digit or underscore, or one of -+#@%
_DATE_WORDS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
               "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RULES = (
    r"\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b",
    r"(?<![\w+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>()\[\]{}]+",
    r"(?:(?<=[\s=:(\[{\"'])|^)(?:~|\.{1,2})?(?:/[^\s/\"'<>()\[\]{},;:=]+)+/?",
    r"\b[A-Za-z]:\\[^\s\"'<>]*",
    rf"(?<![\w.-])(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+(?:{_TLDS})(?![\w-]|\.\w)",
    rf"(?<![\w:.])(?=[0-9A-Fa-f:]*\d)(?=(?:[0-9A-Fa-f]*:){{2}})(?:{_H16})?(?::(?:{_H16})?){{2,7}}(?![\w:])",
    r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w.])",
    r"\b0[xX][0-9A-Fa-f]+\b|\b(?=[A-Fa-f]*\d)[0-9A-Fa-f]{8,}\b",
    r"(?<![\w.])\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d)\b",
    r"(?<![\w.])\d+(?:\.\d+)+(?!\w|\.\w)",
    rf"(?<!{_WORD})(?=(?:{_WORD})*?(?:(?<![A-Za-z])\d|\d\d))(?:{_WORD})+",
    rf"(?<!{_WORD})(?:{'|'.join(_DATE_WORDS)})(?!{_WORD})",
)
_DATES = frozenset(_DATE_WORDS)
_VALUES = re.compile("|".join(f"(?:{rule})" for rule in _RULES))
_GLUED = re.compile(r"(?<![^\s.:=,;|\"'()\[\]{}])[^\s.:=,;|\"'()\[\]{}]*<\*>[^\s.:=,;|\"'()\[\]{}]*")


_TOKENS_MAX = 65536
_tokens: dict[str, str] = {}  # token -> masked: most tokens come back, value or not
_shapes: dict[str, str] = {}  # token with its digits as 5s -> masked, where that holds no digit
_SHAPE = str.maketrans("0123456789", "5555555555")
_DIGIT = re.compile(r"\d")
_LONG = 32  # a token longer than this is masked in parts, if it can be


def mask_tokens(text: str) -> list[str]:
    """The whitespace tokens of `text`, each with its values replaced by `<*>`.

    No rule spans whitespace, so masking token by token is masking the line; a token of
    letters only cannot hold a value unless it is a day or month name. The rules' regular expression is most of the cost, so a
    token masked before is answered from a table, and so is one that differs from a token
    masked before only in its digits (`rt=0.022` after `rt=0.003`): which digit a digit is never
    matters to the rules (`0x` hex is a value either way), only where digits are, except in
    what a rule leaves alone (`ssh2`), so only masked forms without digits are kept by shape.
    A long token holding quotes is masked part by part (`_mask_token`).
    """
    tokens = text.split()
    known = _tokens.get
    for index, token in enumerate(tokens):
        if token.isalpha():
            if token in _DATES:
                tokens[index] = SLOT
        else:
            found = known(token)
            if found is None:
                found = _mask_token(token)
                if len(token) <= _LONG or '"' not in token:  # a long quoted token hardly repeats; its parts do
                    if len(_tokens) >= _TOKENS_MAX:
                        _tokens.clear()
                    _tokens[token] = found
            tokens[index] = found
    return tokens


def _mask_token(token: str) -> str:
    if len(token) > _LONG and '"' in token:
        # No rule's match or look-around crosses a `"` (none lets one in), so the parts between
        # quotes mask alone: a compact JSON line is one long token that never repeats, but its
        # keys and most of its values do.
        parts = token.split('"')
        for index, part in enumerate(parts):
            found = _tokens.get(part)
            if found is None:
                found = _tokens[part] = _mask_token(part)
            parts[index] = found
        return '"'.join(parts)
    shape = token.translate(_SHAPE)
    found = _shapes.get(shape)
    if found is not None:
        return found
    found = _VALUES.sub(SLOT, token)
    if SLOT in found:
        found = _GLUED.sub(SLOT, found)
    if found == token or _DIGIT.search(found):
        return found
    if len(_shapes) >= _TOKENS_MAX:
        _shapes.clear()
    _shapes[shape] = found
    return found


def mask(text: str) -> str:
    """`text` with every value the rules find replaced by `<*>` and whitespace runs made one space."""
    return " ".join(mask_tokens(text))
