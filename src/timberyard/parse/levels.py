"""Log level detection: the level a line states, in the spelling users filter by.

Only lines that arrive without a level are scanned, and only their first 256 characters, where
levels sit. At ingest the store runs the same rule vectorised (`LEVEL_PATTERN`, in the insert's
SQL); this Python twin serves live tail and rules, and a conformance test keeps the two equal.
"""

from __future__ import annotations

import re

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


# The rule as an RE2 pattern for the store: group 1 is the earliest whole-word level. Case is
# spelled out per letter because RE2's (?i) folds Unicode too ("ſevere" would match SEVERE).
# A level may follow a colour escape ("\x1b[31mERROR") as well as a non-word character.
LEVEL_PATTERN = (
    r"(?:^|[^\w.-]|\x1b\[[0-9;]*m)("
    + "|".join(_any_ascii_case(word) for word in _ANY_CASE)
    + "|"
    + "|".join(_CAPITALS_ONLY)
    + r")(?:[^\w-]|$)"
)

_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_COLOUR_ESCAPE_END = re.compile(r"\x1b\[[0-9;]*m$")


def normalise_level(level: str) -> str:
    """A level given by the sender, in canonical spelling when we know it, else upper-cased."""
    upper = level.strip().upper()
    return CANONICAL.get(upper, upper)


def detect_level(line: str) -> str:
    """The earliest whole-word level within the first SCAN_CHARS characters, canonical; ""
    when there is none. A word cut by the end of that window does not count.

    str.find per keyword runs in C and beats a regex alternation by an order of magnitude here.
    """
    head = line[:SCAN_CHARS]
    upper = head.translate(_ASCII_UPPER)  # ASCII only, like the store, and length-preserving
    best_at, best = len(head) + 1, ""
    for words, text in ((_ANY_CASE, upper), (_CAPITALS_ONLY, head)):
        for word in words:
            at = text.find(word)
            while 0 <= at < best_at:
                end = at + len(word)
                if _starts_word(head, at) and _is_boundary(line, end, "_-"):
                    best_at, best = at, word
                    break
                at = text.find(word, at + 1)
    return CANONICAL[best] if best else ""


def _starts_word(text: str, at: int) -> bool:
    """A word starts at the beginning, after a non-word character, or after a colour escape."""
    if _is_boundary(text, at - 1, "_-."):
        return True
    return text[at - 1] == "m" and _COLOUR_ESCAPE_END.search(text, 0, at) is not None


def _is_boundary(text: str, index: int, joiners: str) -> bool:
    """True at either end of the text, or beside a character that cannot continue a word."""
    if index < 0 or index >= len(text):
        return True
    char = text[index]
    return not ((char.isascii() and char.isalnum()) or char in joiners)
