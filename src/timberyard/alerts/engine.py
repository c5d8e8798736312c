"""The alert evaluator: a consumer of the durable feed that counts, decides and records firings.

The feed's callback (the WAL flusher thread) only queues batches; the engine's own thread takes
them, splits each batch by account once, and evaluates each distinct selection (query and
filters) of that account's alerts as one vectorised test, so a thousand alerts that select the
same lines cost one evaluation. Counts go into tumbling windows by arrival (windows.py).
Immediate presence fires inside the window as soon as the count reaches the threshold; every
other decision is taken when the window closes, by a timer on the injected clock (`tick`).

A firing is recorded in the metadata database, unique per (alert, window), BEFORE it is handed
to delivery; a window that already has a firing is never notified again. Mute, snooze, the
schedule and the cool-down record the firing as `suppressed` (with which) instead of dropping it.

Restarts: every few seconds, and at every window close and at stop, each alert's open window
(counts, late lines, samples) is saved with the WAL sequence number it covers, and the write-
ahead log is told (`saved`, WriteAheadLog.mark_evaluated) so it keeps and replays every record
after it, even those the store has. On start the engine loads that, subscribes with replays, and
skips replayed records at or below each alert's saved sequence, counting the rest. So a restart
or a kill -9 mid-window neither repeats the window's notification (the unique firing) nor loses
its lines.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.alerts.definition import AlertDefinition, parse_definition
from timberyard.alerts.index_rate import HourlyCounts, rate_verdict
from timberyard.alerts.notification import Notification
from timberyard.alerts.samples import Samples
from timberyard.alerts.selection import Selection, compile_selection
from timberyard.alerts.windows import SAMPLES, Window, arrivals_ms, event_times_ms, split_by_window, window_start_ms
from timberyard.core.clock import datetime_of, ms_of
from timberyard.core.errors import BadRequest
from timberyard.core.inbox import Inbox
from timberyard.core.records import DurableBatch
from timberyard.insights import findings
from timberyard.meta import alerts as repo
from timberyard.meta.anomalies import AnomalyRecord
from timberyard.meta.database import MetaDB
from timberyard.meta.models import utcnow
from timberyard.meta.views import filters_from
from timberyard.search.text_sweep import WORTH_IT, TextSweep
from timberyard.search.to_arrow import SharedBatch

log = logging.getLogger(__name__)

Deliver = Callable[[Notification, list[int]], None]
TICK_S = 0.5
PERSIST_S = 2.0
RELOAD_S = 30.0  # and whenever this node's API changes an alert; views and other nodes' edits within this
GATHER_S = 1.0  # under load, evaluate at most this often: a few large batches a second, not each request's
GRACE_MS = 1500  # a window closes this long after its end, so lines still in the WAL's fsync count
SILENCE_PAUSE = timedelta(hours=24)


@dataclass
class LoadedAlert:
    record: repo.AlertRecord
    definition: AlertDefinition
    view_missing: bool = False
    window: Window | None = None
    seq: int = 0  # replayed records up to this one are already counted
    last_evaluated_ms: int | None = None
    last_fired_window_ms: int | None = None
    last_fired_at: datetime | None = None
    firing: bool = False  # a firing was delivered and not yet resolved
    last_line_at: datetime | None = None
    dirty: bool = True


@dataclass
class _Group:
    select: Selection
    alerts: list[LoadedAlert] = field(default_factory=list)


class AlertEngine:
    def __init__(
        self,
        meta: MetaDB,
        deliver: Deliver,
        *,
        now: Callable[[], datetime] = utcnow,
        public_url: str = "",
        archive_lag: Callable[[], Mapping[str, float]] = dict,
        saved: Callable[[int], None] = lambda seq: None,
    ) -> None:
        self.meta = meta
        self.deliver = deliver
        self.now = now
        self.archive_lag = archive_lag  # seconds behind, per account archiving
        self.saved = saved  # told the last WAL sequence number the saved state covers
        self.public_url = public_url.rstrip("/")
        self.alerts: dict[int, LoadedAlert] = {}
        self._groups: dict[str, list[_Group]] = {}
        self._sweeps: dict[str, TextSweep] = {}  # the words of each account's alerts
        self._rates: dict[str, list[LoadedAlert]] = {}
        self._hourly = HourlyCounts()
        self._seq = 0
        self._last_persist = self._loaded_at = now()
        self._inbox = Inbox("alert evaluation", "evaluated", gather_s=GATHER_S)
        self._anomalies: collections.deque[AnomalyRecord] = collections.deque()
        self._reload = threading.Event()

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.load()
        self._inbox.start(self._work, TICK_S, "alert-engine")

    def stop(self) -> None:
        self._inbox.stop()
        self.persist()

    @property
    def dropped_lines(self) -> int:
        return self._inbox.dropped_lines

    def enqueue(self, batches: list[DurableBatch]) -> None:
        """The durable feed's callback (WAL flusher thread): queue and return."""
        self._inbox.put(batches)

    def anomalies_found(self, found: list[AnomalyRecord]) -> None:
        """From the anomaly watch's thread: new anomalies, for `anomaly` alerts (engine thread)."""
        self._anomalies.extend(found)

    def changed(self) -> None:
        """Alerts or views changed: the engine thread reloads them before its next batch."""
        self._reload.set()

    def _work(self, batches: list[DurableBatch]) -> None:
        """The engine thread's work for each wake-up (core/inbox.py): reload if due, count, decide."""
        if self._reload.is_set() or (self.now() - self._loaded_at).total_seconds() >= RELOAD_S:
            self._reload.clear()
            self.load()
        self.process(self._coalesced(batches))
        self.notify_anomalies()
        self.tick()

    def _coalesced(self, batches: list[DurableBatch]) -> list[DurableBatch]:
        """The batches as one, when none of them is a replayed record some alert already counted
        (the skip is by sequence number) and their fields' types agree; else as they are."""
        if len(batches) < 2 or min(batch.seq for batch in batches) <= max((a.seq for a in self.alerts.values()), default=0):
            return batches
        try:
            table = pa.concat_tables([batch.table for batch in batches], promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a field that is a number in one, text in another
            return batches
        return [DurableBatch(max(batch.seq for batch in batches), table)]

    # -- definitions ---------------------------------------------------------------------------

    def load(self) -> None:
        """(Re)read every alert, keeping the open windows of those whose selection and interval
        did not change; the first load restores the saved state."""
        self._loaded_at = self.now()
        rows, states = self.meta.transact(_load, write=False)
        loaded: dict[int, LoadedAlert] = {}
        for record, view in rows:
            try:
                definition = parse_definition(record.definition)
            except BadRequest as exc:  # saved by a release with other rules: reported, not guessed at
                log.error("an alert's stored definition is not valid; it is not evaluated",
                          extra={"alert": record.id, "error": exc.message})
                continue
            if definition.kind == "security":  # counts no lines: alerts/security.py sends its events
                continue
            view_missing = False
            if record.view_id:
                view_missing = view is None
                if view is not None:
                    definition = definition.with_view(view.query, filters_from(view.filters))
            alert = LoadedAlert(record, definition, view_missing)
            previous = self.alerts.get(record.id)
            if previous is not None:
                if (_selection(previous), previous.definition.interval) == (_selection(alert), definition.interval):
                    alert.window = previous.window
                alert.seq, alert.last_evaluated_ms = previous.seq, previous.last_evaluated_ms
                alert.last_fired_window_ms, alert.last_fired_at = previous.last_fired_window_ms, previous.last_fired_at
                alert.firing, alert.last_line_at = previous.firing, previous.last_line_at
            elif record.id in states:
                _restore(alert, states[record.id])
            loaded[record.id] = alert
        self.alerts = loaded
        self._regroup()

    def _regroup(self) -> None:
        groups: dict[str, dict[Any, _Group]] = {}
        rates: dict[str, list[LoadedAlert]] = {}
        for alert in self.alerts.values():
            account = alert.record.account_id
            if alert.definition.kind == "index_rate":
                rates.setdefault(account, []).append(alert)
            elif alert.definition.kind in ("archive_lag", "anomaly"):
                continue  # counts no lines: decided by the clock alone, or told by the anomaly watch
            elif not alert.view_missing:
                by_selection = groups.setdefault(account, {})
                key = _selection(alert)
                if key not in by_selection:
                    by_selection[key] = _Group(compile_selection(*key))
                by_selection[key].alerts.append(alert)
        self._groups = {account: list(by.values()) for account, by in groups.items()}
        sweeps = {
            account: TextSweep(group.select.node for group in by if group.select.node is not None)
            for account, by in self._groups.items()
        }
        self._sweeps = {account: sweep for account, sweep in sweeps.items() if len(sweep.words) >= WORTH_IT}
        self._rates = rates

    # -- counting ------------------------------------------------------------------------------

    def process(self, batches: list[DurableBatch]) -> None:
        for batch in batches:
            self._process(batch)

    def _process(self, batch: DurableBatch) -> None:
        table = batch.table
        if not table.num_rows:
            return
        self._seq = max(self._seq, batch.seq)
        accounts = table.column("account")
        self._hourly.add(table, accounts)
        for account in pc.unique(accounts).to_pylist():
            groups, rates = self._groups.get(account, ()), self._rates.get(account, ())
            if not groups and not rates:
                continue
            rows = table.filter(pc.equal(accounts, account))
            arrivals, events = arrivals_ms(rows), event_times_ms(rows)
            due = [(group, fresh) for group in groups if (fresh := [alert for alert in group.alerts if batch.seq > alert.seq])]
            lines = SharedBatch(rows)  # what the selections test, each distinct test once
            if due and account in self._sweeps:
                self._sweeps[account](lines)
            samples = Samples(rows)
            for group, fresh in due:
                matched = np.flatnonzero(group.select(lines))
                if len(matched):
                    self._count_all(fresh, samples, matched, arrivals[matched], events[matched])
            everything = np.arange(rows.num_rows)
            fresh_rates = [alert for alert in rates if batch.seq > alert.seq]
            if fresh_rates:
                self._count_all(fresh_rates, samples, everything, arrivals, events)

    def _count_all(
        self, alerts: list[LoadedAlert], samples: Samples, matched: np.ndarray, arrivals: np.ndarray, events: np.ndarray
    ) -> None:
        """Count lines for alerts that selected the same ones: windows are split once per
        interval, and each sample line is made once per batch, however many alerts want it."""
        splits: dict[int, list[tuple[int, np.ndarray, int]]] = {}
        last_arrival = datetime_of(int(arrivals.max()))
        for alert in alerts:
            interval = alert.definition.interval_s
            if interval not in splits:
                splits[interval] = split_by_window(arrivals, events, interval)
            for start, positions, late in splits[interval]:
                window = self._window_for(alert, start)
                if start < window.start_ms:
                    late = len(positions)  # its window was already decided: counted here, as late
                wanted: list[dict[str, Any]] = []
                if window.wants_samples() and alert.definition.kind != "index_rate":
                    wanted = samples.at(matched[positions[:SAMPLES]])
                window.add(len(positions), late, wanted)
                alert.dirty = True
                definition = alert.definition
                if definition.immediate and window.matches >= definition.threshold and alert.last_fired_window_ms != window.start_ms:
                    self._fire(alert, window, "firing", _presence_reason(window, definition))
            alert.last_line_at = max(alert.last_line_at or last_arrival, last_arrival)

    def _window_for(self, alert: LoadedAlert, start_ms: int) -> Window:
        """The alert's open window, closing it first when a line arrived in a later one."""
        window = alert.window
        if window is None or start_ms >= window.end_ms:
            if window is not None:
                self._close(alert, window)
            window = alert.window = Window(start_ms, alert.definition.interval_s)
        return window

    # -- the clock -----------------------------------------------------------------------------

    def tick(self) -> None:
        """Close every window whose end (plus GRACE_MS) has passed, then save state if due."""
        now = self.now()
        now_ms = ms_of(now)
        for alert in list(self.alerts.values()):
            if alert.view_missing:
                continue
            interval = alert.definition.interval_s
            if alert.window is None:
                alert.window = Window(window_start_ms(now_ms, interval), interval)
                alert.dirty = True
            while now_ms >= alert.window.end_ms + GRACE_MS:
                closed = alert.window
                self._close(alert, closed)
                start = closed.end_ms
                if start + interval * 1000 + GRACE_MS <= now_ms:
                    # The node was down: windows it did not see are not guessed at.
                    start = window_start_ms(now_ms - GRACE_MS, interval)
                alert.window = Window(start, interval)
        if (now - self._last_persist).total_seconds() >= PERSIST_S:
            self.persist()

    def persist(self) -> None:
        dirty = [alert for alert in self.alerts.values() if alert.dirty]
        self._last_persist = self.now()
        hourly = self._hourly.take()
        covered = self._seq
        if dirty or hourly:
            for alert in dirty:
                alert.seq = max(alert.seq, covered)
            states = [_state(alert) for alert in dirty]
            self.meta.transact(_save, states, hourly, self._last_persist, write=True)
            for alert in dirty:
                alert.dirty = False
        self.saved(covered)

    # -- decisions -----------------------------------------------------------------------------

    def _close(self, alert: LoadedAlert, window: Window) -> None:
        alert.last_evaluated_ms = window.start_ms
        alert.dirty = True
        definition = alert.definition
        if definition.kind == "anomaly":
            return  # decided per anomaly (notify_anomalies), never by a window
        if definition.kind == "presence":
            holds, reason = window.matches >= definition.threshold, _presence_reason(window, definition)
        elif definition.kind == "absence":
            if window.start_ms < ms_of(alert.record.created_at):
                return  # the alert saw only part of this window: too few lines proves nothing
            holds, reason = window.matches < definition.threshold, _absence_reason(window, definition)
            if holds:
                silent_since = alert.last_line_at or alert.record.created_at
                end = datetime_of(window.end_ms)
                if end - silent_since >= SILENCE_PAUSE:
                    if end - timedelta(seconds=definition.interval_s) - silent_since >= SILENCE_PAUSE:
                        return  # paused, and already said so
                    reason += "; the view has had no lines for 24 hours, so this alert pauses until lines arrive again"
        elif definition.kind == "archive_lag":
            holds, reason = _lag_verdict(self.archive_lag().get(alert.record.account_id), definition)
        else:
            history = self.meta.transact(repo.hourly_lines, alert.record.account_id, _same_hours(window), write=False)
            holds, reason = rate_verdict(window.matches, definition, history)
        if holds:
            if alert.last_fired_window_ms != window.start_ms and definition.end_of_interval:
                self._fire(alert, window, "firing", reason)
        elif alert.firing:
            self._fire(alert, window, "resolved", reason)

    def _fire(self, alert: LoadedAlert, window: Window, state: str, reason: str) -> None:
        now = self.now()
        suppressed_by = self._suppression(alert, now, state)
        record = self.meta.transact(
            repo.record_firing, alert.record.id, alert.record.account_id, datetime_of(window.start_ms), datetime_of(window.end_ms),
            "suppressed" if suppressed_by else state, window.matches, alert.definition.threshold, reason,
            window.samples, window.late, suppressed_by, now, write=True,
        )
        alert.last_fired_window_ms = window.start_ms
        alert.dirty = True
        if record is None or suppressed_by:
            return  # this window was already decided (before a restart), or we stay quiet on purpose
        if state == "firing":
            alert.last_fired_at, alert.firing = now, True
        else:
            alert.firing = False
        self.deliver(self._notification(alert, record, state), list(alert.definition.channel_ids))

    def notify_anomalies(self) -> None:
        """Fire the `anomaly` alerts that want the anomalies found since the last call: one firing
        per alert and anomaly, held back like any firing by mute, snooze, schedule and cool-down.
        An alert whose author had an access scope sends none (the alerts service refuses to save
        one): anomalies speak of the whole account."""
        while self._anomalies:
            anomaly = self._anomalies.popleft()
            for alert in list(self.alerts.values()):
                record, definition = alert.record, alert.definition
                if (definition.kind == "anomaly" and record.account_id == anomaly.account_id and record.scope is None
                        and definition.wants(anomaly.kind, anomaly.score)):
                    self._fire_anomaly(alert, anomaly)

    def _fire_anomaly(self, alert: LoadedAlert, anomaly: AnomalyRecord) -> None:
        now = self.now()
        suppressed_by = self._suppression(alert, now, "firing")
        reason = f"{anomaly.kind} ({anomaly.key or 'the account'}): {anomaly.evidence}"
        # Firings are unique per (alert, window start); anomalies that started in the same
        # millisecond stay apart by the anomaly's id in the microseconds.
        start = anomaly.started_at.replace(microsecond=anomaly.started_at.microsecond // 1000 * 1000 + anomaly.id % 1000)
        record = self.meta.transact(
            repo.record_firing, alert.record.id, alert.record.account_id, start, anomaly.detected_at,
            "suppressed" if suppressed_by else "firing", 1, 1, reason, [], 0, suppressed_by, now, write=True,
        )
        if record is None or suppressed_by:
            return
        alert.last_fired_at, alert.dirty = now, True
        notification = Notification(
            firing_id=record.id, alert_id=alert.record.id, alert_name=alert.record.name, account=alert.record.account_id,
            kind="anomaly", state="firing", query=findings.query_of(anomaly.kind, anomaly.key),
            url=findings.link(self.public_url, anomaly), matches=1, threshold=1, window_start=record.window_start,
            window_end=record.window_end, lines=(), reason=reason, anomaly_kind=anomaly.kind, anomaly_key=anomaly.key,
            evidence=anomaly.evidence,
        )
        self.deliver(notification, list(alert.definition.channel_ids))

    def _suppression(self, alert: LoadedAlert, now: datetime, state: str) -> str | None:
        record, definition = alert.record, alert.definition
        silenced = record.silenced_by(now)
        if silenced or state == "resolved":
            return silenced
        if definition.schedule is not None and not definition.schedule.allows(now):
            return "schedule"
        if alert.last_fired_at is not None and (now - alert.last_fired_at).total_seconds() < definition.cooldown_s:
            return "cooldown"
        return None

    def _notification(self, alert: LoadedAlert, record: repo.FiringRecord, state: str) -> Notification:
        definition = alert.definition
        where = f"/?view={alert.record.view_id}" if alert.record.view_id else f"/alerts/{alert.record.id}"
        return Notification(
            firing_id=record.id, alert_id=alert.record.id, alert_name=alert.record.name, account=alert.record.account_id,
            kind=definition.kind, state=state, query=definition.query, url=self.public_url + where,
            matches=record.matches, threshold=record.threshold, window_start=record.window_start,
            window_end=record.window_end, lines=tuple(record.lines), late_lines=record.late_lines, reason=record.reason,
        )


def _selection(alert: LoadedAlert) -> tuple[str, Any, tuple[str, ...] | None]:
    """What picks an alert's lines: query, filters and its author's scope."""
    scope = alert.record.scope
    return (*alert.definition.selection, None if scope is None else tuple(scope))


def _presence_reason(window: Window, definition: AlertDefinition) -> str:
    return f"{window.matches} lines matched in {definition.interval} (threshold {definition.threshold}){_late(window)}"


def _absence_reason(window: Window, definition: AlertDefinition) -> str:
    return f"{window.matches} lines matched in {definition.interval}, fewer than {definition.threshold}{_late(window)}"


def _late(window: Window) -> str:
    return f"; {window.late} of them arrived late" if window.late else ""


def _lag_verdict(lag_s: float | None, definition: AlertDefinition) -> tuple[bool, str]:
    assert definition.max_lag_s is not None
    limit = f"{definition.max_lag_s / 3600:g} h"
    if lag_s is None:
        return False, "archiving is off for this account"
    said = f"the newest archived line is {lag_s / 3600:.1f} h old"
    if lag_s > definition.max_lag_s:
        return True, f"{said}, more than the {limit} allowed: lines may expire before they are archived (timberyard archive status)"
    return False, f"{said}, within the {limit} allowed"


def _same_hours(window: Window) -> list[datetime]:
    """The same UTC hour of the week in the eight weeks before the window."""
    hour = datetime_of(window.start_ms).replace(minute=0, second=0, microsecond=0)
    return [hour - timedelta(weeks=k) for k in range(1, 9)]


def _load(session: Any) -> tuple[list[tuple[repo.AlertRecord, repo.ViewSelection | None]], dict[int, repo.StateRecord]]:
    return repo.all_alerts(session), repo.load_states(session)


def _save(session: Any, states: list[repo.StateRecord], hourly: dict[tuple[str, datetime], int], now: datetime) -> None:
    repo.save_states(session, states, now)
    repo.add_hourly_lines(session, hourly)


def _restore(alert: LoadedAlert, state: repo.StateRecord) -> None:
    if state.window_start is not None:
        window = Window(ms_of(state.window_start), alert.definition.interval_s, state.matches, state.late_lines, state.samples)
        alert.window = window
    alert.seq = state.seq
    alert.last_evaluated_ms = ms_of(state.last_evaluated_window) if state.last_evaluated_window else None
    alert.last_fired_window_ms = ms_of(state.last_fired_window) if state.last_fired_window else None
    alert.last_fired_at, alert.firing, alert.last_line_at = state.last_fired_at, state.firing, state.last_line_at
    alert.dirty = False


def _state(alert: LoadedAlert) -> repo.StateRecord:
    window = alert.window
    return repo.StateRecord(
        alert_id=alert.record.id,
        window_start=datetime_of(window.start_ms) if window else None,
        matches=window.matches if window else 0,
        late_lines=window.late if window else 0,
        samples=window.samples if window else [],
        seq=alert.seq,
        last_evaluated_window=datetime_of(alert.last_evaluated_ms) if alert.last_evaluated_ms is not None else None,
        last_fired_window=datetime_of(alert.last_fired_window_ms) if alert.last_fired_window_ms is not None else None,
        last_fired_at=alert.last_fired_at,
        firing=alert.firing,
        last_line_at=alert.last_line_at,
    )
