"""Text rules every back end shares, defined once so SQL, Arrow and Python cannot drift apart.

Case folding is ASCII-only everywhere (ClickHouse's `lower`/`positionCaseInsensitive` and
Arrow's `ascii_lower` fold only ASCII; Python's `str.lower` folds all of Unicode, so it is not
used). A "word character" is an ASCII letter or digit, as ClickHouse's `splitByNonAlpha`
tokenizer sees it. Patterns here are RE2, the engine of both ClickHouse and Arrow.
"""

from __future__ import annotations

import re

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

# A number as users and log values spell it. Anchored for RE2; Python uses fullmatch.
NUMBER_PATTERN = "^-?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$"
_NUMBER = re.compile(NUMBER_PATTERN[1:-1])

WORD_START = "(^|[^0-9A-Za-z])"


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def ascii_upper(text: str) -> str:
    return text.translate(_ASCII_UPPER)


def is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def parse_number(text: str) -> float | None:
    """The value of `text` if it is a number by `NUMBER_PATTERN` (which the store checks with
    the same pattern), else None. Overflow gives ±inf on both sides."""
    if _NUMBER.fullmatch(text) is None:
        return None
    return float(text)


def term_pattern(text: str) -> str:
    """RE2 for a term: `text` with ASCII letters in either case and every other ASCII character
    escaped as `\\x{..}`, preceded by a word start when it begins with a word character."""
    parts = [WORD_START] if text and is_word_char(text[0]) else []
    for char in text:
        if char.isascii() and char.isalpha():
            parts.append(f"[{char.lower()}{char.upper()}]")
        elif char.isascii() and not char.isdigit():
            parts.append(f"\\x{{{ord(char):02X}}}")
        else:  # digits, and non-ASCII characters (never RE2 syntax) stand for themselves
            parts.append(char)
    return "".join(parts)
