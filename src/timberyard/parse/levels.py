"""Log levels: one rule set for the level a line states, in the spelling users filter by.

A level the sender gives is put in canonical spelling (`normalise_level`, `canonical_levels`).
A line sent without one is scanned in its first 256 characters for a level word
(`detect_levels`). Both run vectorised on Arrow columns in the ingest pipeline, with RE2 (the
same regex engine the store uses), so what live tail, rules and the store see is decided once,
before the write-ahead log. Search canonicalises level values in queries with the same table,
and the web UI's levels.js is held to it by tests/conformance/levels.json.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

SCAN_CHARS = 256

# Canonical names, most severe first; the aliases map to them.
CANONICAL = {
    "EMERG": "EMERGENCY",
    "EMERGENCY": "EMERGENCY",
    "ALERT": "ALERT",
    "FATAL": "FATAL",
    "PANIC": "FATAL",
    "CRIT": "CRITICAL",
    "CRITICAL": "CRITICAL",
    "SEVERE": "ERROR",
    "ERR": "ERROR",
    "ERROR": "ERROR",
    "WARN": "WARN",
    "WARNING": "WARN",
    "NOTICE": "NOTICE",
    "INFO": "INFO",
    "DEBUG": "DEBUG",
    "TRACE": "TRACE",
}

# Words matched in any ASCII case, and short forms that count only in capitals (as lowercase
# words "err" and "crit" are usually prose).
_ANY_CASE = tuple(sorted((k for k in CANONICAL if k not in ("ERR", "CRIT")), key=len, reverse=True))
_CAPITALS_ONLY = ("ERR", "CRIT")


def _any_ascii_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


# The rule as an RE2 pattern: the group `level` is the earliest whole-word level. Case is
# spelled out per letter because RE2's (?i) folds Unicode too ("ſevere" would match SEVERE).
# A level may follow a colour escape ("\x1b[31mERROR") as well as a non-word character.
LEVEL_PATTERN = (
    r"(?:^|[^\w.-]|\x1b\[[0-9;]*m)(?P<level>"
    + "|".join(_any_ascii_case(word) for word in _ANY_CASE)
    + "|"
    + "|".join(_CAPITALS_ONLY)
    + r")(?:[^\w-]|$)"
)

_ALIASES = pa.array(list(CANONICAL), pa.string())
_CANONICAL_NAMES = pa.array(list(CANONICAL.values()), pa.string())
_WORD_CHAR = r"^[\w-]"


def normalise_level(level: str) -> str:
    """A level given by the sender (or typed in a query), in canonical spelling when we know
    it, else upper-cased: `canonical_levels` for one value."""
    return canonical_levels(pa.array([level], pa.string()))[0].as_py()  # type: ignore[no-any-return]


def canonical_levels(levels: pa.Array) -> pa.Array:
    """`normalise_level` of every value, vectorised ("" stays "")."""
    upper = pc.utf8_upper(pc.utf8_trim_whitespace(levels))
    position = pc.index_in(upper, value_set=_ALIASES)
    return pc.coalesce(pc.take(_CANONICAL_NAMES, position), upper)


def detect_levels(lines: pa.Array) -> pa.Array:
    """The earliest whole-word level within the first SCAN_CHARS characters of each line,
    canonical; "" where there is none. A word cut by the end of that window does not count:
    the character after the window decides, standing in as "x" (a word character) or " "."""
    head = pc.utf8_slice_codeunits(lines, 0, SCAN_CHARS)
    after = pc.utf8_slice_codeunits(lines, SCAN_CHARS, SCAN_CHARS + 1)
    stand_in = pc.if_else(
        pc.equal(after, ""), "", pc.if_else(pc.match_substring_regex(after, _WORD_CHAR), "x", " ")
    )
    window = pc.binary_join_element_wise(head, stand_in, "")
    found = pc.struct_field(pc.extract_regex(window, LEVEL_PATTERN), "level")
    return pc.fill_null(canonical_levels(found), "")


def detect_level(line: str) -> str:
    """`detect_levels` for one line."""
    return detect_levels(pa.array([line], pa.string()))[0].as_py()  # type: ignore[no-any-return]
