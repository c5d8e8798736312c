"""Live tail: durable lines fanned out to the subscribers of their account.

The WAL flusher hands every durable batch to `TailHub.publish` (a cheap call: no per-line
work there). Each subscriber has a bounded queue of whole batches on the event loop; its own
task filters its account's rows and runs the query's Python predicate, so the cost of tailing
is paid only by tailers. A subscriber that falls more than `max_pending_lines` behind is cut
off with a reason instead of growing the server's memory.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.errors import TimberyardError
from timberyard.parse.levels import detect_level

Predicate = Callable[[Mapping[str, Any]], bool]
TAIL_COLUMNS = (
    "ts", "id", "host", "app", "level", "env", "file", "tags", "line", "meta", "labels", "annotations",
    "k8s_namespace", "k8s_pod", "k8s_container", "k8s_node",
)


class TailEnded(TimberyardError):
    """The server ended a subscription: the client fell too far behind, or the node is stopping."""

    code = "TooSlow"

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(eq=False)
class Subscription:
    account: str
    predicate: Predicate
    max_pending_lines: int
    queue: asyncio.Queue[pa.Table | None] = field(default_factory=asyncio.Queue)
    pending_lines: int = 0
    ended: TailEnded | None = None

    def offer(self, table: pa.Table) -> None:
        """On the event loop: queue a batch, or cut the subscriber off if it is too far behind."""
        if self.ended is not None:
            return
        if self.pending_lines + table.num_rows > self.max_pending_lines:
            self.end(
                f"the client fell more than {self.max_pending_lines} lines behind the live stream; "
                "narrow the query or reconnect",
                "TooSlow",
            )
            return
        self.pending_lines += table.num_rows
        self.queue.put_nowait(table)

    def end(self, reason: str, code: str) -> None:
        if self.ended is None:
            self.ended = TailEnded(reason, code)
            self.queue.put_nowait(None)

    async def next_lines(self, timeout: float) -> list[dict[str, Any]] | None:
        """The next matching lines; None when nothing arrived within `timeout` seconds (so the
        caller can send a keep-alive); TailEnded once the server has ended the subscription."""
        while True:
            try:
                table = await asyncio.wait_for(self.queue.get(), timeout)
            except TimeoutError:
                return None
            if table is None:
                raise self.ended or TailEnded("the live stream ended", "Ended")
            self.pending_lines -= table.num_rows
            matching = [row for row in _rows(table) if self.predicate(row)]
            if matching:
                return matching


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as the predicate and the API's line objects expect them: the time as `ts_ms` (epoch
    ms), the level detected when the sender gave none (the store does the same at insert)."""
    table = table.select(list(TAIL_COLUMNS))
    table = table.set_column(0, "ts_ms", table["ts"].cast(pa.int64()))
    rows = table.to_pylist()
    for row in rows:
        if not row["level"]:
            row["level"] = detect_level(row["line"])
        row["labels"] = dict(row["labels"] or ())
        row["annotations"] = dict(row["annotations"] or ())
    return rows


class TailHub:
    def __init__(self, max_pending_lines: int = 50_000) -> None:
        self.max_pending_lines = max_pending_lines
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def subscribe(self, account: str, predicate: Predicate) -> Subscription:
        self._loop = asyncio.get_running_loop()
        subscription = Subscription(account, predicate, self.max_pending_lines)
        with self._lock:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def publish(self, tables: list[pa.Table]) -> None:
        """From the WAL flusher thread: hand durable batches to the loop, if anyone listens."""
        if not self._subscriptions or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._fan_out, tables)

    def close_all(self) -> None:
        """From any thread, at shutdown: end every stream so no connection holds the node open."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._end_all)

    def _end_all(self) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.end("the server is shutting down; reconnect shortly", "ShuttingDown")

    def _fan_out(self, tables: list[pa.Table]) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        by_account: dict[str, pa.Table] = {}
        for subscription in subscriptions:
            if subscription.account not in by_account:
                parts = [t.filter(pc.equal(t["account"], subscription.account)) for t in tables]
                by_account[subscription.account] = pa.concat_tables(parts)
            table = by_account[subscription.account]
            if table.num_rows:
                subscription.offer(table)
