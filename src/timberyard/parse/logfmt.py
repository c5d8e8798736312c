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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.fields import MAX_FIELDS_PER_LINE, MAX_KEY_CHARS, scatter_indices
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


# -- many lines at once ----------------------------------------------------------------------------

# A line of simple pairs: keys and bare values of printable ASCII without spaces, quoted values
# of anything but a quote, a backslash or a line break. Most logfmt in the wild
# (`level=info msg="user logged in" duration=12ms`, nginx's `rt=0.001 urt="0.001"` tails) is like
# this; `read_pairs` reads such lines vectorised and leaves the others to the scanner above.
# (ASCII outside quotes, because RE2's `\s` and `\w` are ASCII where Python's are Unicode.)
_KEY_CHAR = r"[!#-<>-\[\]-~]"  # printable, not space, `"`, `=` or backslash
_VALUE_CHAR = r"[!#-\[\]-~]"  # the same, `=` allowed
_QUOTED_CHAR = r'[^"\\\t\n\r\x01]'
_SIMPLE = rf'^[ \t]*(?:{_KEY_CHAR}+(?:=(?:"{_QUOTED_CHAR}*"|{_VALUE_CHAR}*))?(?:[ \t]+|$))+$'
_SPACE_STAND_IN = "\x01"  # a quoted value's spaces while the line is split at the others
_TOKEN_PARTS = r"^(?P<key>[^=]*)(?P<equals>=?)(?P<value>.*)$"
_KEY_RE2 = r"^[\w@$/-]+(?:\.[\w@$/-]+)*$"
_INTEGER_RE2 = r"^-?[0-9]{1,18}$"  # surely within 64 bits; longer ones go to the scanner
_LONG_INTEGER_RE2 = r"^-?[0-9]{19,}$"
_DECIMAL_RE2 = r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
_NO_VALUE = pa.array(["", "-"])


def read_pairs(texts: pa.Array, *, whole: bool) -> tuple[pa.BooleanArray, pa.BooleanArray, dict[str, dict[str, pa.Array]]]:
    """The pairs of the simple lines of `texts`, vectorised: which lines it decided (the others
    are for the scanner), which of those it read, and each key's values as full-length columns
    per kind (as core/fields.py `columns_by_kind` gives them). `whole=True` reads lines as
    `parse_logfmt` does (only lines that are all pairs); `whole=False` as `parse_pairs` (pairs
    anywhere, empty and `-` values skipped). The scanner's rules hold: a key is a field path,
    cut to MAX_KEY_CHARS; the first of a repeated key wins."""
    count = len(texts)
    simple = pc.fill_null(pc.match_substring_regex(texts, _SIMPLE), False).to_numpy(zero_copy_only=False)
    lines = np.flatnonzero(simple)
    if not len(lines):
        return pa.array(simple), pa.array(simple), {}
    simple_texts = _shield_quoted_spaces(pc.utf8_trim_whitespace(texts.take(pa.array(lines))))
    tokens = pc.split_pattern_regex(simple_texts, r"[ \t]+")
    parents = pc.list_parent_indices(tokens).to_numpy()
    parts = pc.extract_regex(pc.list_flatten(tokens), _TOKEN_PARTS)
    keys, values = pc.struct_field(parts, "key"), pc.struct_field(parts, "value")
    valued = _flags(pc.equal(pc.struct_field(parts, "equals"), "="))
    good_key = _flags(pc.match_substring_regex(keys, _KEY_RE2))
    quoted = pc.starts_with(values, '"')
    values = pc.if_else(quoted, pc.replace_substring(pc.utf8_slice_codeunits(values, 1, -1), _SPACE_STAND_IN, " "), values)
    per_line = len(lines)
    # Lines the scanner must decide: numbers too long to type here, more tokens than a line may have.
    unsure = np.bincount(parents, weights=_flags(pc.match_substring_regex(values, _LONG_INTEGER_RE2)), minlength=per_line) > 0
    unsure |= np.bincount(parents, minlength=per_line) > MAX_FIELDS_PER_LINE
    if whole:
        with_value = np.bincount(parents, weights=valued & good_key, minlength=per_line)
        flags = np.bincount(parents, weights=~valued & good_key, minlength=per_line)
        bad = np.bincount(parents, weights=~good_key, minlength=per_line)
        read = ~unsure & (bad == 0) & (with_value >= 2) & (with_value > flags)
        use = read[parents]
    else:
        read = ~unsure
        use = read[parents] & valued & good_key & ~_flags(pc.is_in(values, value_set=_NO_VALUE))
    keys = pc.utf8_slice_codeunits(keys, 0, MAX_KEY_CHARS)
    chosen = np.flatnonzero(use)
    chosen = chosen[_first_of_each_key(parents[chosen], keys.take(pa.array(chosen)))]
    rows = lines[parents[chosen]]
    taken = pa.array(chosen)
    keys, values, valued = keys.take(taken), values.take(taken), valued[chosen]
    kinds = _Kinds(values, ~valued)
    columns: dict[str, dict[str, pa.Array]] = {}
    for key in pc.unique(keys).to_pylist():
        of_key = _flags(pc.equal(keys, key))
        for kind, kind_values, where in kinds.of(of_key):
            columns.setdefault(key, {})[kind] = kind_values.filter(pa.array(where)).take(scatter_indices(count, rows[where]))
    simple[lines[unsure]] = False
    read_lines = np.zeros(count, dtype=bool)
    read_lines[lines[read]] = True
    return pa.array(simple), pa.array(read_lines), columns


def _shield_quoted_spaces(texts: pa.Array) -> pa.Array:
    """`texts` with the spaces inside quotes (every other part between quotes; a simple line's
    quotes pair up) as _SPACE_STAND_IN, so splitting at spaces splits only between pairs."""
    if not pc.any(pc.match_substring(texts, '"')).as_py():
        return texts
    parts = pc.split_pattern(texts, '"')
    offsets = parts.offsets.to_numpy()
    flat = pc.list_flatten(parts)
    position = np.arange(len(flat)) - offsets[pc.list_parent_indices(parts).to_numpy()]
    inside = pa.array(position % 2 == 1)
    flat = pc.if_else(inside, pc.replace_substring(flat, " ", _SPACE_STAND_IN), flat)
    return pc.binary_join(pa.ListArray.from_arrays(parts.offsets, flat), '"')


def _flags(mask: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, null as false."""
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)


def _first_of_each_key(parents: np.ndarray, keys: pa.Array) -> np.ndarray:
    """Positions of the tokens that are their line's first of their key."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    codes = pc.dictionary_encode(keys).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    pairs = parents.astype(np.int64) * (int(codes.max()) + 1) + codes
    _, first = np.unique(pairs, return_index=True)
    return np.sort(first)


class _Kinds:
    """Values typed by the scanner's rules (flags and true/false are booleans, numbers numbers,
    the rest text), worked out once for all keys."""

    def __init__(self, values: pa.Array, flag: np.ndarray) -> None:
        self.values = values
        self.booleans = flag | (_flags(pc.is_in(values, value_set=pa.array(["true", "false"]))) & ~flag)
        self.truth = pc.if_else(pa.array(flag), True, pc.equal(values, "true"))
        integers = _flags(pc.match_substring_regex(values, _INTEGER_RE2)) & ~flag
        decimals = _flags(pc.match_substring_regex(values, _DECIMAL_RE2)) & ~integers & ~flag
        floats = pc.cast(pc.if_else(pa.array(decimals), values, None), pa.float64())
        self.fractional = decimals & _flags(pc.is_finite(floats))
        self.whole = integers
        self.integers = pc.cast(pc.if_else(pa.array(integers), values, None), pa.int64())
        self.numbers = pc.coalesce(self.integers.cast(pa.float64(), safe=False), floats)
        self.texts = ~(self.booleans | self.whole | self.fractional)

    def of(self, key: np.ndarray) -> list[tuple[str, pa.Array, np.ndarray]]:
        """(kind, values, which) for the values where `key` is set; a key's numbers are whole
        unless one of them is fractional."""
        parts = []
        if (booleans := self.booleans & key).any():
            parts.append(("boolean", self.truth, booleans))
        if (numbers := (self.whole | self.fractional) & key).any():
            parts.append(("number", self.numbers if (self.fractional & key).any() else self.integers, numbers))
        if (texts := self.texts & key).any():
            parts.append(("string", self.values, texts))
        return parts
