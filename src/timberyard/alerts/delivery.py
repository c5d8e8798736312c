"""Delivery of notifications to channels: on its own thread, retried with backoff, every
attempt recorded, pending attempts resumed after a restart, channels that keep failing reported.

The engine calls `submit` from its thread and goes on at once; one delivery thread makes the
attempts in due order. An attempt is written to `alert_deliveries` before it is made and
completed after, so a restart finds what was due or in flight and makes it (again: a receiver
may see a notification twice after a crash, never zero times). A failed attempt is retried
after BACKOFF_S[attempt - 1] seconds; after the last one the delivery is given up.

A channel is failing after FAILING_AFTER given-up deliveries in a row, or when its failures
have lasted FAILING_FOR without a success in between. It is reported once, through
`on_failing` (the server writes it to the audit trail), and counted in the
`timberyard_alert_channels_failing` gauge until a delivery succeeds again.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import smtplib
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from timberyard.alerts.channels import KINDS
from timberyard.alerts.notification import Notification
from timberyard.alerts.notifiers import Outcome
from timberyard.core.outbound import OutboundPolicy
from timberyard.core.errors import TimberyardError
from timberyard.core.metrics import Metrics
from timberyard.meta import alert_channels
from timberyard.meta.alert_channels import ChannelInfo
from timberyard.meta.sealing import Sealer
from timberyard.meta.database import MetaDB
from timberyard.meta.models import utcnow

log = logging.getLogger(__name__)

BACKOFF_S = (5, 30, 120, 600, 1800)  # so at most 6 attempts over about 42 minutes
FAILING_AFTER = 3
FAILING_FOR = timedelta(hours=1)
IDLE_WAKE_S = 60.0
FAILURES_METRIC = "timberyard_alert_delivery_failures_total"
FAILING_METRIC = "timberyard_alert_channels_failing"

OnFailing = Callable[[ChannelInfo, str], None]


@dataclass(frozen=True)
class _Job:
    notification: Notification
    channel_id: int
    attempt: int


class Delivery:
    """Thread-safe. `now` and `backoff_s` are for tests, which call `run_due` themselves
    instead of `start`, and move their clock instead of sleeping."""

    def __init__(
        self, meta: MetaDB, sealer: Sealer, policy: OutboundPolicy, metrics: Metrics, *,
        on_failing: OnFailing | None = None, now: Callable[[], datetime] = utcnow, backoff_s: tuple[float, ...] = BACKOFF_S,
    ) -> None:
        self._meta, self._sealer, self.policy, self._metrics = meta, sealer, policy, metrics
        self._on_failing, self._now, self._backoff_s = on_failing, now, backoff_s
        self._queue: list[tuple[datetime, int, _Job]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._given_up: dict[int, int] = {}  # channel id: given-up deliveries since its last success
        self._failing_since: dict[int, datetime] = {}  # channel id: first failed attempt since its last success
        self._failing: set[int] = set()  # channels reported
        metrics.gauge(FAILING_METRIC, lambda: len(self._failing))

    def submit(self, notification: Notification, channel_ids: list[int]) -> None:
        """Queue `notification` for each channel; returns at once."""
        with self._wake:
            for channel_id in channel_ids:
                self._push(self._now(), _Job(notification, channel_id, 1))
            self._wake.notify()

    def resume(self) -> int:
        """Queue the deliveries the last run left pending; how many."""
        pending = self._meta.transact(alert_channels.pending_deliveries, write=False)
        with self._wake:
            for row, stored in pending:
                due = row.next_attempt_at if row.ok is False and row.next_attempt_at else self._now()
                self._push(due, _Job(Notification.from_json(stored), row.channel_id, row.attempt + 1))
            self._wake.notify()
        return len(pending)

    def start(self) -> None:
        self.resume()
        self._thread = threading.Thread(target=self._run, name="alert-delivery", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def run_due(self) -> int:
        """Make every attempt that is due now; how many were made."""
        made = 0
        while (job := self._next_due()) is not None:
            try:
                self._attempt(job)
            except Exception:  # the metadata database failed us: keep the job, try again later
                with self._wake:
                    self._push(self._now() + timedelta(seconds=IDLE_WAKE_S), job)
                raise
            made += 1
        return made

    def test(self, channel: ChannelInfo, notification: Notification) -> Outcome:
        """Send `notification` to `channel` now, unrecorded: the "send test" button."""
        return self._send(channel, notification)

    def _run(self) -> None:
        while True:
            try:
                self.run_due()
            except Exception:  # the metadata database went away: try again later, do not die
                log.exception("alert delivery failed; retrying in %s s", IDLE_WAKE_S)
            with self._wake:
                if self._stopping:
                    return
                wait = (self._queue[0][0] - self._now()).total_seconds() if self._queue else IDLE_WAKE_S
                if wait > 0:
                    self._wake.wait(min(wait, IDLE_WAKE_S))
                if self._stopping:
                    return

    def _push(self, due: datetime, job: _Job) -> None:
        heapq.heappush(self._queue, (due, next(self._order), job))

    def _next_due(self) -> _Job | None:
        with self._wake:
            if self._queue and self._queue[0][0] <= self._now() and not self._stopping:
                return heapq.heappop(self._queue)[2]
        return None

    def _attempt(self, job: _Job) -> None:
        n, at = job.notification, self._now()
        record = self._meta.transact(
            alert_channels.start_attempt, n.firing_id, job.channel_id, job.attempt, at, n.to_json().decode(), write=True
        )
        channel = self._meta.transact(alert_channels.find_channel, self._sealer, job.channel_id, write=False)
        if channel is None or channel.account_id != n.account:
            self._meta.transact(alert_channels.finish_attempt, record, False, None, "the channel was deleted", None, write=True)
            return
        outcome = self._send(channel, n)
        retry_at = None
        if not outcome.ok:
            self._metrics.inc(FAILURES_METRIC, channel_kind=channel.kind)
            if job.attempt <= len(self._backoff_s):
                retry_at = at + timedelta(seconds=self._backoff_s[job.attempt - 1])
        self._meta.transact(alert_channels.finish_attempt, record, outcome.ok, outcome.status, outcome.error, retry_at, write=True)
        if retry_at is not None:
            with self._wake:
                self._push(retry_at, _Job(n, job.channel_id, job.attempt + 1))
        self._account(channel, outcome, given_up=not outcome.ok and retry_at is None, at=at)

    def _send(self, channel: ChannelInfo, notification: Notification) -> Outcome:
        try:
            return KINDS[channel.kind].send(channel.config, notification, self.policy)
        except TimberyardError as exc:
            return Outcome(False, None, exc.message)
        except (OSError, ssl.SSLError, smtplib.SMTPException) as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}")

    def _account(self, channel: ChannelInfo, outcome: Outcome, given_up: bool, at: datetime) -> None:
        """Keep each channel's failure streak, and report a channel the first time it is failing."""
        if outcome.ok:
            self._given_up.pop(channel.id, None)
            self._failing_since.pop(channel.id, None)
            self._failing.discard(channel.id)
            return
        since = self._failing_since.setdefault(channel.id, at)
        if given_up:
            self._given_up[channel.id] = self._given_up.get(channel.id, 0) + 1
        streak = self._given_up.get(channel.id, 0)
        if channel.id in self._failing or (streak < FAILING_AFTER and at - since < FAILING_FOR):
            return
        self._failing.add(channel.id)
        reason = (f"{streak} deliveries in a row given up" if streak >= FAILING_AFTER
                  else f"failing since {since.isoformat()}") + f"; last error: {outcome.error}"
        log.warning("alert channel %s (%s) of account %s is failing: %s", channel.id, channel.kind, channel.account_id, reason)
        if self._on_failing is not None:
            self._on_failing(channel, reason)
