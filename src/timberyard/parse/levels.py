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

# The rule as an RE2 pattern for the store: group 1 is the earliest whole-word level.
LEVEL_PATTERN = (
    r"(?:^|[^\w.-])((?i:emergency|emerg|alert|fatal|panic|critical|severe|error|warning|warn|notice|info|debug|trace)"
    r"|ERR|CRIT)(?:[^\w-]|$)"
)

# Words matched case-insensitively, and short forms that count only in capitals (as lowercase
# words "err" and "crit" are usually prose).
_ANY_CASE = tuple(sorted((k for k in CANONICAL if k not in ("ERR", "CRIT")), key=len, reverse=True))
_CAPITALS_ONLY = ("ERR", "CRIT")


def normalise_level(level: str) -> str:
    """A level given by the sender, in canonical spelling when we know it, else upper-cased."""
    upper = level.strip().upper()
    return CANONICAL.get(upper, upper)


def detect_level(line: str) -> str:
    """The earliest whole-word level in the line, canonical; "" when the line names none.

    str.find per keyword runs in C and beats a regex alternation by an order of magnitude here.
    """
    head = line[:SCAN_CHARS]
    upper = head.upper()
    best_at, best = len(head) + 1, ""
    for words, text in ((_ANY_CASE, upper), (_CAPITALS_ONLY, head)):
        for word in words:
            at = text.find(word)
            while 0 <= at < best_at:
                end = at + len(word)
                if _is_boundary(head, at - 1, "_-.") and _is_boundary(head, end, "_-"):
                    best_at, best = at, word
                    break
                at = text.find(word, at + 1)
    return CANONICAL[best] if best else ""


def _is_boundary(text: str, index: int, joiners: str) -> bool:
    """True at either end of the text, or beside a character that cannot continue a word."""
    if index < 0 or index >= len(text):
        return True
    char = text[index]
    return not ((char.isascii() and char.isalnum()) or char in joiners)
