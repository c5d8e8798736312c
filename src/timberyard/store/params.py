"""Bound query parameters in ClickHouse's text form.

User text reaches ClickHouse only as the value of a `{name:Type}` placeholder, never spliced
into SQL. ClickHouse parses those values in its "escaped" text format, so backslashes and
control characters must be escaped, and array elements quoted, for a value to arrive intact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0", "'": "\\'", "\b": "\\b", "\f": "\\f"}
)


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    return {name: _encode(value, top_level=True) for name, value in params.items()}


def _encode(value: Any, *, top_level: bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.translate(_ESCAPES)
        return escaped if top_level else f"'{escaped}'"
    if isinstance(value, Sequence):
        return "[" + ",".join(_encode(item, top_level=False) for item in value) + "]"
    raise TypeError(f"cannot bind a {type(value).__name__} as a query parameter")
