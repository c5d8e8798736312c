"""Text rules both back ends share, defined once so SQL and Python cannot drift apart.

Case folding is ASCII-only everywhere (ClickHouse's `lower`/`positionCaseInsensitive` fold only
ASCII; Python's `str.lower` folds all of Unicode, so it is not used). A "word character" is an
ASCII letter or digit, as ClickHouse's `splitByNonAlpha` tokenizer sees it.
"""

from __future__ import annotations

import re

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# A number as users and log values spell it. Anchored for RE2; Python uses fullmatch.
NUMBER_PATTERN = "^-?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$"
_NUMBER = re.compile(NUMBER_PATTERN[1:-1])


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def parse_number(text: str) -> float | None:
    """The value of `text` if it is a number by `NUMBER_PATTERN` (which the store checks with
    the same pattern), else None. Overflow gives ±inf on both sides."""
    if _NUMBER.fullmatch(text) is None:
        return None
    return float(text)
