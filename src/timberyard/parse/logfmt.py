"""`key=value` pairs: logfmt lines, and the tails some formats end with.

logfmt (Heroku's router, logrus, go-kit, slog's text handler) writes `key=value` and
`key="quoted \\" value"` pairs separated by spaces; a bare `key` is a flag meaning true.
`parse_logfmt` takes a line only when it is nothing but pairs: at least two with a value, and
more of those than flags, so prose with an `=` in it ("set x=5 and retry") stays prose.
`parse_pairs` reads the `rest` group of a format (nginx's `rt=0.001 urt="0.001"`): the pairs
it finds, whatever lies between them.

Values that are numbers (finite; whole ones within 64 bits, else as floats) become numbers,
`true` and `false` booleans, others stay strings. A key is a field path: its dots nest.
Both run in time linear in the line (each regex below consumes what it scans, and a quote
that never closes is scanned once), and never raise.
"""

from __future__ import annotations

import math
import re
from typing import Any

from timberyard.core.fields import MAX_FIELDS_PER_LINE, MAX_KEY_CHARS
from timberyard.parse.jsonline import limit_fields

_INT64 = (-(2**63), 2**63 - 1)

# One token: a key, then `=` and a quoted or bare value, or no `=` (a flag); or a run of the
# characters that cannot start a key (a stray quote, a lone `=`). A bare value that runs into
# a quote is no value: `pods=["a"]` is no pair (its key is a flag, the rest junk). Possessive,
# so nothing is scanned twice: a quoted value runs to the next unescaped quote, and any `="`
# after a quote that never closes would have closed it, so such a scan to the end happens once.
_TOKEN = re.compile(
    r'\s*+(?:(?P<key>[^\s="]++)(?:(?P<equals>=)(?:"(?P<quoted>[^"\\]*+(?:\\.[^"\\]*+)*+)"|(?P<bare>[^\s"]*+)(?!")))?'
    r'|(?P<junk>[="]++))',
    re.DOTALL,
)
# A key is a field path: names of word characters (and @ $ / -) joined by single dots.
_KEY = re.compile(r"[\w@$/-]++(?:\.[\w@$/-]++)*+")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPED = {"n": "\n", "t": "\t", "r": "\r"}
_INTEGER = re.compile(r"-?[0-9]++")
_DECIMAL = re.compile(r"-?(?:[0-9]++(?:\.[0-9]*+)?|\.[0-9]++)(?:[eE][-+]?[0-9]++)?")


def parse_logfmt(text: str) -> dict[str, Any] | None:
    """The line's pairs when the whole line is logfmt, else None."""
    pairs: dict[str, Any] = {}
    valued = flags = 0
    for token in _TOKEN.finditer(text.rstrip()):  # (trailing spaces would be scanned from each one)
        key = token["key"]
        if key is None or not _KEY.fullmatch(key):
            return None
        if token["equals"] is None:
            flags += 1
            pairs.setdefault(key[:MAX_KEY_CHARS], True)
        else:
            valued += 1
            pairs.setdefault(key[:MAX_KEY_CHARS], _value(token))
    if valued < 2 or valued <= flags:
        return None
    return limit_fields(pairs) if len(pairs) > MAX_FIELDS_PER_LINE else pairs


def parse_pairs(text: str) -> dict[str, Any]:
    """The `key=value` pairs in `text`, skipping whatever is not one. An empty value and `-`
    are no value, as in the formats whose tails this reads."""
    pairs: dict[str, Any] = {}
    for token in _TOKEN.finditer(text.rstrip()):
        key = token["key"]
        if token["equals"] is None or not _KEY.fullmatch(key):
            continue
        value = _value(token)
        if value not in ("", "-"):
            pairs.setdefault(key[:MAX_KEY_CHARS], value)
    return limit_fields(pairs) if len(pairs) > MAX_FIELDS_PER_LINE else pairs


def _value(token: re.Match[str]) -> Any:
    """A value as the number or boolean it spells, else its text (quotes and escapes removed)."""
    text = token["quoted"]
    if text is None:
        text = token["bare"]
    elif "\\" in text:
        text = _ESCAPE.sub(_unescape, text)
    if text in ("true", "false"):
        return text == "true"
    if _INTEGER.fullmatch(text) and len(text) <= 20 and _INT64[0] <= (whole := int(text)) <= _INT64[1]:
        return whole
    if _DECIMAL.fullmatch(text) and math.isfinite(number := float(text)):
        return number
    return text


def _unescape(match: re.Match[str]) -> str:
    return _ESCAPED.get(match[1], match[1])
