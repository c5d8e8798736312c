"""Timestamps as senders write them, to epoch milliseconds.

LogDNA clients send epoch milliseconds; people and other shippers send epoch seconds or
ISO 8601. A number below 10^11 cannot be a millisecond time after 1973, so it is read as seconds.
Times before 1970 or from 2100 on are not accepted: the store could not expire them correctly
(its retention arithmetic works on dates up to 2149), so they count as unreadable.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

SECONDS_CUTOFF = 100_000_000_000
MAX_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z, exclusive
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def parse_timestamp(value: object) -> int | None:
    """Epoch ms for a number or a string; None when the value is not a time we can read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_number(value)
    if isinstance(value, str):
        return _from_text(value.strip())
    return None


def in_range(millis: int) -> bool:
    return 0 <= millis < MAX_MS


def _from_text(text: str) -> int | None:
    if not text.isascii():  # "²" is a digit and "١٢" a float to Python; neither is a time
        return None
    if text.isdigit():
        return _from_number(int(text)) if len(text) <= 20 else None
    try:
        return _from_number(float(text))
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        millis = (parsed - _EPOCH) // _MILLISECOND
    except OverflowError:
        return None
    return millis if in_range(millis) else None


def _from_number(number: float) -> int | None:
    if isinstance(number, float) and not math.isfinite(number):
        return None
    if number < SECONDS_CUTOFF:
        # Seconds: round to the nearest ms, since 1720515920.978 * 1000 is 1720515920977.9998.
        millis = round(number * 1000) if isinstance(number, float) else number * 1000
    else:
        millis = int(number)
    return millis if in_range(millis) else None
