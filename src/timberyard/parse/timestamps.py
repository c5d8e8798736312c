"""Timestamps as senders write them, to epoch milliseconds.

LogDNA clients send epoch milliseconds; people and other shippers send epoch seconds or
ISO 8601. A number below 10^11 cannot be a millisecond time after 1973, so it is read as seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime

SECONDS_CUTOFF = 100_000_000_000


def parse_timestamp(value: object) -> int | None:
    """Epoch ms for a number or a string; None when the value is not a time we can read."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_number(value)
    if isinstance(value, str):
        text = value.strip()
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
        return int(parsed.timestamp() * 1000)
    return None


def _from_number(number: float) -> int | None:
    if number != number or number in (float("inf"), float("-inf")) or number < 0:
        return None
    millis = number * 1000 if number < SECONDS_CUTOFF else number
    return int(millis) if millis < 2**62 else None
