"""Wall-clock time in the unit the store uses (epoch milliseconds)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def datetime_of(ms: int) -> datetime:
    """An epoch-ms time as an aware UTC datetime (how the metadata database keeps times)."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def ms_of(at: datetime) -> int:
    """An aware datetime as epoch ms."""
    return int(at.timestamp() * 1000)
