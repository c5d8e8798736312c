"""Live tail: durable lines matched against every open tail's query, off the event loop.

The hub subscribes to the durable feed. Its matcher thread takes each durable batch, splits it
by account once, and evaluates each subscriber's compiled query on the account's rows as one
vectorised Arrow expression (search/to_arrow.py); only matching lines become Python objects,
and they are handed to the subscriber's queue on its event loop. So the cost of a tail grows
with what it receives, not with the ingest rate times the number of tails.

A subscriber that falls more than `max_pending_lines` behind is ended with a reason instead of
growing the server's memory; a principal may hold at most `max_per_principal` open tails; and
`revalidate` (a periodic chore) ends tails whose caller may no longer read: a revoked key, a
disabled or signed-out user, a changed scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.errors import TimberyardError, TooManyRequests
from timberyard.core.fields import FieldColumns
from timberyard.core.records import FIELDS, DurableBatch

log = logging.getLogger(__name__)

Filter = Callable[[pa.Table], pa.BooleanArray]
TAIL_COLUMNS = (
    "id", "ingester", "host", "app", "level", "env", "file", "tags", "line", "format", "template", "labels", "annotations",
    "k8s_namespace", "k8s_pod", "k8s_container", "k8s_node",
)
MATCHER_QUEUE = 1000  # durable batches waiting for the matcher; beyond that, tails are cut off


class TailEnded(TimberyardError):
    """The server ended a subscription: the client fell too far behind, its access ended, or
    the node is stopping."""

    code = "TooSlow"

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(eq=False)
class Subscription:
    account: str
    owner: str  # who opened it ("key:<id>", "user:<id>"), for the per-principal cap
    matches: Filter
    still_allowed: Callable[[], bool]  # re-checks the caller's access; run on a worker thread
    max_pending_lines: int
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[list[dict[str, Any]] | None] = field(default_factory=asyncio.Queue)
    pending_lines: int = 0
    ended: TailEnded | None = None

    def offer(self, rows: list[dict[str, Any]]) -> None:
        """On the event loop: queue matching rows, or end the tail if it is too far behind."""
        if self.ended is not None:
            return
        if self.pending_lines + len(rows) > self.max_pending_lines:
            self.end(
                f"the client fell more than {self.max_pending_lines} lines behind the live stream; "
                "narrow the query or reconnect",
                "TooSlow",
            )
            return
        self.pending_lines += len(rows)
        self.queue.put_nowait(rows)

    def end(self, reason: str, code: str) -> None:
        """On the event loop."""
        if self.ended is None:
            self.ended = TailEnded(reason, code)
            self.queue.put_nowait(None)

    def end_from_thread(self, reason: str, code: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the tail is gone anyway
            self.loop.call_soon_threadsafe(self.end, reason, code)

    async def next_lines(self, timeout: float) -> list[dict[str, Any]] | None:
        """The next matching rows; None when nothing arrived within `timeout` seconds (so the
        caller can send a keep-alive); TailEnded once the server has ended the subscription."""
        try:
            rows = await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None
        if rows is None:
            raise self.ended or TailEnded("the live stream ended", "Ended")
        self.pending_lines -= len(rows)
        return rows


class TailHub:
    def __init__(self, max_pending_lines: int = 50_000, max_per_principal: int = 10) -> None:
        self.max_pending_lines = max_pending_lines
        self.max_per_principal = max_per_principal
        self._subscriptions: set[Subscription] = set()
        self._lock = threading.Lock()
        self._batches: queue.Queue[list[DurableBatch] | None] = queue.Queue(MATCHER_QUEUE)
        self._thread = threading.Thread(target=self._match_forever, name="tail-matcher", daemon=True)
        self._thread.start()

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, account: str, owner: str, matches: Filter, still_allowed: Callable[[], bool]) -> Subscription:
        """On the event loop of the connection that will read it."""
        subscription = Subscription(
            account, owner, matches, still_allowed, self.max_pending_lines, asyncio.get_running_loop()
        )
        with self._lock:
            if sum(1 for s in self._subscriptions if s.owner == owner) >= self.max_per_principal:
                raise TooManyRequests(
                    f"you have {self.max_per_principal} live tails open, the most one key or user may hold "
                    "(tail_max_per_principal); close one first",
                    retry_after=5,
                )
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def publish(self, batches: list[DurableBatch]) -> None:
        """A subscriber of the durable feed (the WAL flusher thread): hand over and return."""
        if not self._subscriptions:
            return
        try:
            self._batches.put_nowait(batches)
        except queue.Full:
            self._end_all("live tail fell behind the ingest rate; reconnect", "TooSlow")

    def revalidate(self) -> None:
        """End every tail whose caller may no longer read (a periodic chore, on a worker thread)."""
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            try:
                allowed = subscription.still_allowed()
            except Exception:
                log.exception("checking a live tail's access failed; ending it")
                allowed = False
            if not allowed:
                subscription.end_from_thread("your access to these logs has ended (key revoked, signed out, or scope changed)", "AccessEnded")

    def close_all(self) -> None:
        """From any thread, at shutdown: end every stream so no connection holds the node open."""
        self._end_all("the server is shutting down; reconnect shortly", "ShuttingDown")

    def _end_all(self, reason: str, code: str) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.end_from_thread(reason, code)

    def _match_forever(self) -> None:
        while True:
            batches = self._batches.get()
            try:
                self._match(batches)
            except Exception:
                log.exception("live tail could not match a durable batch")

    def _match(self, batches: list[DurableBatch]) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        if not subscriptions:
            return
        by_account: dict[str, list[Subscription]] = {}
        for subscription in subscriptions:
            by_account.setdefault(subscription.account, []).append(subscription)
        for batch in batches:
            accounts = batch.table.column("account")
            for account, listeners in by_account.items():
                rows = batch.table.filter(pc.equal(accounts, account))
                if not rows.num_rows:
                    continue
                for subscription in listeners:
                    if subscription.ended is not None:
                        continue
                    mask = subscription.matches(rows)
                    if pc.any(mask).as_py():
                        found = _row_dicts(rows.filter(mask))
                        with contextlib.suppress(RuntimeError):
                            subscription.loop.call_soon_threadsafe(subscription.offer, found)


def _row_dicts(table: pa.Table) -> list[dict[str, Any]]:
    """Rows in the shape the store returns them (see web/api/lines.py): the time as `ts_ms`,
    fields as a nested object, labels and annotations as objects."""
    rows = table.select(list(TAIL_COLUMNS)).to_pylist()
    times = table.column("ts").cast(pa.int64()).to_pylist()
    fields = FieldColumns.from_struct(table.column(FIELDS)).rows(range(table.num_rows))
    for row, ts, values in zip(rows, times, fields):
        row["ts_ms"] = ts
        row["fields"] = values
        row["labels"] = dict(row["labels"] or ())
        row["annotations"] = dict(row["annotations"] or ())
    return rows
