"""Line ids: unique per node, roughly time-ordered, assigned before the write-ahead log.

An id is the receive time in ms shifted left 20 bits plus a counter, so one node can number a
million lines per millisecond before borrowing from the next. Ids are written into the WAL with
the line, so a replay after a crash inserts the same ids again (and dedup recognises them).
The receive time is not stored apart: it is `id >> COUNTER_BITS` (the store's `received` column
is that expression), which saves the store a column that compressed worse than the ids.
"""

from __future__ import annotations

import threading

from timberyard.core.clock import now_ms
from timberyard.core.records import ID_COUNTER_BITS

COUNTER_BITS = ID_COUNTER_BITS


class IdAllocator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0

    def allocate(self, count: int) -> int:
        """Reserve `count` consecutive ids; return the first."""
        with self._lock:
            first = max(self._next, now_ms() << COUNTER_BITS)
            self._next = first + count
            return first


def received_ms(line_id: int) -> int:
    """The receive time (epoch ms) a line id carries."""
    return line_id >> COUNTER_BITS
