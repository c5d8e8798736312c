"""One line of a format, as the format should read it."""

from __future__ import annotations

from typing import Any, NamedTuple


class Case(NamedTuple):
    line: str
    time: str | None  # ISO 8601 UTC to the millisecond, as the line's time is read
    level: str | None  # canonical (parse/levels.py), or None when the format states none
    fields: dict[str, Any]  # every field the format reads, `rest` pairs included
