"""A durable-feed consumer's inbox: batches queued by the WAL's flusher, taken by the consumer's thread.

The feed's callback must not block (it runs on the WAL flusher thread right after an fsync), so
`put` never waits: when the inbox is full, the lines are counted in `dropped_lines` (the
consumer's gauge) and logged, and ingestion goes on. `take` waits up to a tick for work, then
takes what else is waiting too, up to `coalesce_lines`: one pass over many lines costs little
more than over one request's, so a backlog shrinks instead of growing under load. With
`gather_s`, a take comes at least that long after the one before (the first after a quiet
spell at once): under steady load the consumer then takes a few large batches a second instead
of each request's as it comes, which for a consumer whose every pass has a fixed cost (an alert
engine with a thousand alerts) is most of its CPU.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from timberyard.core.records import DurableBatch

log = logging.getLogger(__name__)

QUEUE_BATCHES = 10_000
COALESCE_LINES = 50_000


class Inbox:
    def __init__(
        self, who: str, what: str, capacity: int = QUEUE_BATCHES, coalesce_lines: int = COALESCE_LINES, gather_s: float = 0.0
    ) -> None:
        self.who, self.what = who, what  # for the log: "alert evaluation" fell behind, lines not "evaluated"
        self.coalesce_lines = coalesce_lines
        self.gather_s = gather_s
        self._last_take = -gather_s
        self.dropped_lines = 0
        self._queue: queue.Queue[list[DurableBatch] | None] = queue.Queue(capacity)
        self._thread: threading.Thread | None = None

    def put(self, batches: list[DurableBatch]) -> None:
        """The durable feed's callback: queue and return."""
        try:
            self._queue.put_nowait(batches)
        except queue.Full:
            self.dropped_lines += sum(batch.lines for batch in batches)
            log.error("%s fell behind; lines were not %s", self.who, self.what, extra={"lines": self.dropped_lines})

    def start(self, work: Callable[[list[DurableBatch]], None], tick_s: float, name: str) -> None:
        """Run the consumer's thread: `work` gets what `take` takes (nothing after a quiet tick,
        so time-driven work happens too) until `stop`. A failure is logged; the thread goes on."""
        self._thread = threading.Thread(target=self._serve, args=(work, tick_s), name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Let the thread do what was queued before this, then end it."""
        if self._thread is not None:
            self.close()
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        """Tell the consumer's thread to stop once it has taken what is queued before this."""
        self._queue.put(None)

    def _serve(self, work: Callable[[list[DurableBatch]], None], tick_s: float) -> None:
        while True:
            batches, stopping = self.take(tick_s)
            if stopping and not batches:
                return
            try:
                work(batches)
            except Exception:
                log.exception("%s failed", self.who)
            if stopping:
                return

    def take(self, timeout: float) -> tuple[list[DurableBatch], bool]:
        """The batches waiting (none after `timeout` without any), and whether the inbox was closed."""
        try:
            batches = self._queue.get(timeout=timeout)
        except queue.Empty:
            return [], False
        if batches is None:
            return [], True
        if (wait := self._last_take + self.gather_s - time.monotonic()) > 0:
            time.sleep(wait)  # what arrives meanwhile is taken with it
        self._last_take = time.monotonic()
        while sum(batch.lines for batch in batches) < self.coalesce_lines:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                break
            if more is None:
                return batches, True
            batches = batches + more
        return batches, False
