"""Reading query-string parameters shared by the read APIs, each failure a 400 naming the parameter.

Times are UNIX epoch seconds or milliseconds (values below 10^11 are seconds), or anything the
time parser reads (ISO 8601, `15m`, `yesterday 1pm`, ...; see timberyard.search.timeparse), in
UTC; cursors are opaque to clients: base64url of a small JSON object this server wrote.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

import orjson

from timberyard.auth.principal import Principal
from timberyard.core.errors import BadRequest
from timberyard.parse.timestamps import SECONDS_CUTOFF
from timberyard.search import compile_sql, parse
from timberyard.search.timeparse import TimeParseError, parse_time
from timberyard.store.queries import Compiled

MAX_EPOCH = 2**53
MAX_ID = 2**64 - 1
MAX_DIGITS = len(str(MAX_ID))  # longer is never a valid number here, and int() of 4,300+ digits raises
LATEST_DATETIME_MS = 253_402_214_400_000  # 9999-12-31T00:00Z: Python's datetime ends soon after


def integer(value: str) -> int | None:
    """`value` as a non-negative whole number of at most MAX_DIGITS ASCII digits, else None."""
    value = value.strip()
    if not value or len(value) > MAX_DIGITS or not (value.isascii() and value.isdigit()):
        return None
    return int(value)


def epoch_ms(params: Any, name: str, default: int | None = None) -> int:
    """An epoch time in ms; required unless a `default` is given (returned as is)."""
    value = params.get(name)
    if value is None or not value.strip():
        if default is not None:
            return default
        raise BadRequest(
            f"missing param {name}: a time as UNIX epoch seconds or milliseconds (1764316800), ISO 8601 "
            "(2026-11-28T10:00:00Z) or an expression (now, 15m, 2h ago, yesterday 1pm); both from and to are required here"
        )
    if value.isascii() and value.strip().isdigit():
        number = integer(value)
        ms = None if number is None else number * 1000 if number < SECONDS_CUTOFF else number
    else:
        try:
            ms = parse_time(value, now=datetime.now(UTC), end=name == "to")
        except TimeParseError as exc:
            raise BadRequest(f"{name}: {exc.message}") from None
    if ms is None or not 0 <= ms < MAX_EPOCH:
        raise BadRequest(f"{name} is out of range: {value[:40]!r}; a time is at most 2^53 - 1 epoch milliseconds")
    return ms


def utc(ms: int) -> datetime:
    """An epoch time as a datetime, times past datetime's range (year 9999) taken as its end:
    nothing happened after it, and Python cannot represent later times."""
    return datetime.fromtimestamp(min(ms, LATEST_DATETIME_MS) / 1000, UTC)


def time_range(params: Any, now_ms: int | None = None, default_span_ms: int = 3_600_000) -> tuple[int, int]:
    """`from`/`to`, inclusive. Without `now_ms` both are required (LogDNA's export); with it,
    `to` defaults to now and `from` to `default_span_ms` before `to`."""
    if now_ms is None:
        from_ms, to_ms = epoch_ms(params, "from"), epoch_ms(params, "to")
    else:
        to_ms = epoch_ms(params, "to", now_ms)
        from_ms = epoch_ms(params, "from", max(0, to_ms - default_span_ms))
    if from_ms > to_ms:
        raise BadRequest(f"from ({from_ms}) is after to ({to_ms})")
    return from_ms, to_ms


def whole_number(params: Any, name: str, default: int, maximum: int, minimum: int = 1) -> int:
    value = params.get(name)
    if value is None:
        return default
    number = integer(value)
    if number is None or not minimum <= number <= maximum:
        raise BadRequest(f"{name} must be a whole number from {minimum} to {maximum}, got {value[:20]!r}")
    return number


def choice(params: Any, name: str, choices: Collection[str], default: str | None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in choices:
        raise BadRequest(f"{name} must be one of {', '.join(choices)}, got {value[:20]!r}")
    return value


def text_list(params: Any, name: str) -> tuple[str, ...]:
    """Comma-separated and/or repeated values."""
    return tuple(item.strip() for value in params.getlist(name) for item in value.split(",") if item.strip())


def search(params: Any, name: str, principal: Principal) -> Compiled:
    """The compiled search in `name` (empty: everything) within what `principal` may read;
    a malformed one is the parser's 400."""
    return compile_sql(principal.restrict(parse(params.get(name, ""))))


def encode_cursor(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def decode_cursor(value: str, name: str, fields: dict[str, tuple[int, int]]) -> dict[str, int]:
    """A cursor made by encode_cursor holding integer `fields` (name → inclusive bounds)."""
    try:
        state = orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        state = None
    if not isinstance(state, dict) or not all(
        type(state.get(key)) is int and low <= state[key] <= high for key, (low, high) in fields.items()
    ):
        raise BadRequest(f"{name} is not one this server issued; start again without it")
    return {key: state[key] for key in fields}
