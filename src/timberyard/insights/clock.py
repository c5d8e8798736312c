"""Which minutes a detector may judge: those the caller's clock has put behind it.

Detectors never read a clock or sleep: each call says what time it is (`now_ms`, epoch ms),
and a minute is judged once, when `now_ms` has passed its end. After a long pause only the
last `keep` minutes are judged (older ones are history, nobody is waiting on them).
"""

from __future__ import annotations

from timberyard.insights.columns import MINUTE_MS


class Closing:
    def __init__(self, keep: int = 60) -> None:
        self.keep = keep
        self.closed: int | None = None  # the last minute judged

    def advance(self, now_ms: int) -> range:
        """The minutes that became complete since the last call, oldest first."""
        last = now_ms // MINUTE_MS - 1
        if self.closed is None:
            self.closed = last
            return range(0)
        first = max(self.closed + 1, last - self.keep + 1)
        self.closed = max(self.closed, last)
        return range(first, last + 1)

    def resume(self, minute: int) -> None:
        """Judge nothing up to `minute` (the minutes a restart did not see, and the one it
        started in, which is partly seen)."""
        self.closed = max(self.closed if self.closed is not None else minute, minute)
