"""What an alert is: a checked, frozen definition, independent of storage and of evaluation.

An alert watches an account's new lines. `presence` fires when at least `threshold` lines
match in an interval, `absence` when fewer than `threshold` do (intervals of 15 m and up, so a
quiet minute is not a page), and `index_rate` when the account's lines per second exceed
`max_lines_per_s` or lie more than `z_score` robust deviations from the same hour of past weeks.
`archive_lag` watches the account's archive instead: at the end of each interval it fires while
the newest archived line is more than `max_lag_s` old (archive/exporter.py), and resolves once
the archive has caught up, before retention could delete a line that was never archived.
`anomaly` watches the anomaly detectors (insights/watch.py): each anomaly of one of its
`anomaly_kinds` (all by default) whose score is at least `min_score` is one notification.
`security` watches no lines: it sends each security event of the audit trail (repeated failed
sign-ins, break-glass access, a failed audit-chain verification) to its channels, and only an
owner may save one (alerts/security.py).
The lines are chosen by a search query plus the viewer's filters, either the alert's own or, with
`view_id`, the saved view's (read whenever alerts are loaded, so editing the view edits the alert).

Everything is checked here, once, when the alert is saved; a mistake is a BadRequest naming
the field, so evaluation never meets a definition it cannot run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from timberyard.alerts.choices import DAYS, INTERVALS, KINDS, TIMINGS
from timberyard.core.errors import BadRequest
from timberyard.insights.anomaly import KINDS as ANOMALY_KINDS
from timberyard.meta.views import FILTER_KEYS, ViewFilters, filters_from, query_from

ABSENCE_MIN_INTERVAL_S = 900
MAX_NAME_CHARS = 100
MAX_THRESHOLD = 1_000_000_000
MAX_COOLDOWN_S = 7 * 86400
DEFAULT_COOLDOWN_S = 300
MAX_CHANNELS = 20
MIN_LAG_S = 300
# Anomaly kinds whose score is a size (deviations, lines missed) that min_score applies to; a new
# template always scores 1, and an error trend's score is minutes until its threshold.
SCORED_KINDS = ("template_surge", "silence", "volume_spike", "volume_drop")
MAX_LAG_S = 365 * 86400
FIELDS = (
    "name", "kind", "view_id", "query", "filters", "threshold", "interval", "timing", "schedule",
    "cooldown_s", "channel_ids", "max_lines_per_s", "z_score", "max_lag_s", "anomaly_kinds", "min_score",
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When notifications may go out: these weekdays (0 is Monday) and the hours from
    `start_hour` up to, not including, `end_hour`, on the wall clock of `timezone`. An end
    before the start wraps past midnight (22 to 6 is the night shift)."""

    days: tuple[int, ...] = tuple(range(7))
    start_hour: int = 0
    end_hour: int = 24
    timezone: str = "UTC"

    def allows(self, at: datetime) -> bool:
        local = at.astimezone(ZoneInfo(self.timezone))
        if self.start_hour <= self.end_hour:
            return local.weekday() in self.days and self.start_hour <= local.hour < self.end_hour
        # Past midnight, the shift belongs to the day it started on.
        if local.hour >= self.start_hour:
            return local.weekday() in self.days
        return local.hour < self.end_hour and (local - timedelta(days=1)).weekday() in self.days

    def to_dict(self) -> dict[str, object]:
        return {"days": [DAYS[d] for d in self.days], "hours": [self.start_hour, self.end_hour], "timezone": self.timezone}


@dataclass(frozen=True, slots=True)
class AlertDefinition:
    name: str
    kind: str
    query: str = ""
    filters: ViewFilters = field(default_factory=ViewFilters)
    view_id: str | None = None
    threshold: int = 1
    interval: str = "5m"
    immediate: bool = False
    end_of_interval: bool = True
    schedule: Schedule | None = None
    cooldown_s: int = DEFAULT_COOLDOWN_S
    channel_ids: tuple[int, ...] = ()
    max_lines_per_s: float | None = None
    z_score: float | None = None
    max_lag_s: int | None = None
    anomaly_kinds: tuple[str, ...] = ()
    min_score: float | None = None

    @property
    def interval_s(self) -> int:
        return INTERVALS[self.interval]

    @property
    def selection(self) -> tuple[str, ViewFilters]:
        """What picks the lines; alerts with equal selections share one evaluation per batch."""
        return self.query, self.filters

    def with_view(self, query: str, filters: ViewFilters) -> AlertDefinition:
        """The definition with its view's current query and filters."""
        return replace(self, query=query, filters=filters)

    def to_dict(self) -> dict[str, object]:
        """The stored and reported form; `parse_definition` reads it back."""
        return {
            "name": self.name,
            "kind": self.kind,
            "view_id": self.view_id,
            "query": self.query,
            "filters": self.filters.to_dict(),
            "threshold": self.threshold,
            "interval": self.interval,
            "timing": [t for t, on in zip(TIMINGS, (self.immediate, self.end_of_interval)) if on],
            "schedule": self.schedule.to_dict() if self.schedule else None,
            "cooldown_s": self.cooldown_s,
            "channel_ids": list(self.channel_ids),
            "max_lines_per_s": self.max_lines_per_s,
            "z_score": self.z_score,
            "max_lag_s": self.max_lag_s,
            "anomaly_kinds": list(self.anomaly_kinds),
            "min_score": self.min_score,
        }

    def wants(self, kind: str, score: float) -> bool:
        """Whether an `anomaly` alert sends an anomaly of this kind and score."""
        if kind not in self.anomaly_kinds:
            return False
        return self.min_score is None or kind not in SCORED_KINDS or abs(score) >= self.min_score


def parse_definition(fields: Mapping[str, Any], base: AlertDefinition | None = None) -> AlertDefinition:
    """A definition from request fields: a new one (`base` None: name and kind required) or
    `base` with the fields given changed. Either way the result is checked as a whole."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}; an alert has {', '.join(FIELDS)}", field=unknown[0])
    if base is None:
        for required in ("name", "kind"):
            if required not in fields:
                raise BadRequest(f"{required} is required", field=required)
        base = AlertDefinition(name="", kind="presence")
    changes: dict[str, Any] = {}
    readers = {
        "name": _name, "kind": _kind, "query": query_from, "filters": filters_from, "view_id": _view_id,
        "threshold": _threshold, "interval": _interval, "schedule": _schedule, "cooldown_s": _cooldown,
        "channel_ids": _channels, "max_lines_per_s": _positive("max_lines_per_s"), "z_score": _positive("z_score"),
        "max_lag_s": _max_lag, "anomaly_kinds": _anomaly_kinds, "min_score": _min_score,
    }
    for key, read in readers.items():
        if key in fields:
            changes[key] = read(fields[key])
    if "timing" in fields:
        changes["immediate"], changes["end_of_interval"] = _timing(fields["timing"])
    definition = replace(base, **changes)
    if definition.kind == "anomaly" and not definition.anomaly_kinds:
        definition = replace(definition, anomaly_kinds=ANOMALY_KINDS)
    _check_whole(definition, fields)
    return definition


def _check_whole(d: AlertDefinition, fields: Mapping[str, Any]) -> None:
    given_own = fields.get("query") or (isinstance(fields.get("filters"), dict) and any(fields["filters"].values()))
    if d.view_id and given_own:
        raise BadRequest("an alert on a view takes the view's query and filters; give view_id or query and filters, not both", field="view_id")
    if d.kind == "absence" and d.interval_s < ABSENCE_MIN_INTERVAL_S:
        raise BadRequest("an absence alert needs an interval of 15m or more", field="interval")
    if d.immediate and d.kind != "presence":
        raise BadRequest("only presence alerts can fire immediately; use end_of_interval", field="timing")
    if d.kind == "security":
        _check_security(d)
    if d.kind == "archive_lag":
        if d.max_lag_s is None:
            raise BadRequest(f"an archive_lag alert needs max_lag_s: how far behind, in seconds ({MIN_LAG_S} or more), the archive may fall", field="max_lag_s")
        if d.query or d.view_id or any(getattr(d.filters, key) for key in FILTER_KEYS):
            raise BadRequest("an archive_lag alert watches the account's archive; it takes no query, filters or view", field="query")
    elif d.max_lag_s is not None:
        raise BadRequest("max_lag_s is for archive_lag alerts", field="max_lag_s")
    if d.kind == "anomaly":
        if d.query or d.view_id or any(getattr(d.filters, key) for key in FILTER_KEYS):
            raise BadRequest("an anomaly alert sends what the anomaly detectors find in the account; it takes no query, filters or view", field="query")
    elif d.anomaly_kinds or d.min_score is not None:
        raise BadRequest("anomaly_kinds and min_score are for anomaly alerts", field="anomaly_kinds" if d.anomaly_kinds else "min_score")
    if d.kind == "index_rate":
        if d.max_lines_per_s is None and d.z_score is None:
            raise BadRequest("an index_rate alert needs max_lines_per_s, z_score or both", field="max_lines_per_s")
        if d.query or d.view_id or any(getattr(d.filters, key) for key in FILTER_KEYS):
            raise BadRequest("an index_rate alert counts all of the account's lines; it takes no query, filters or view", field="query")
    elif d.max_lines_per_s is not None or d.z_score is not None:
        raise BadRequest("max_lines_per_s and z_score are for index_rate alerts", field="max_lines_per_s" if d.max_lines_per_s is not None else "z_score")


def _check_security(d: AlertDefinition) -> None:
    """A security alert sends every security event as it is recorded: it has channels and
    nothing that chooses lines, counts them or holds notifications back."""
    if d.query or d.view_id or any(getattr(d.filters, key) for key in FILTER_KEYS):
        raise BadRequest("a security alert sends the account's security events; it takes no query, filters or view", field="query")
    if d.schedule is not None:
        raise BadRequest("a security alert sends at any hour; it takes no schedule (mute or snooze it instead)", field="schedule")
    if not d.channel_ids:
        raise BadRequest("a security alert needs at least one channel in channel_ids", field="channel_ids")


def _name(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_NAME_CHARS:
        raise BadRequest(f"name must be a string of 1 to {MAX_NAME_CHARS} characters", field="name")
    if not value.isprintable():
        raise BadRequest("name may not contain control characters", field="name")
    return value.strip()


def _kind(value: object) -> str:
    if value not in KINDS:
        raise BadRequest(f"kind must be one of {', '.join(KINDS)}", field="kind")
    return str(value)


def _view_id(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 32:
        raise BadRequest("view_id must be the id of a saved view", field="view_id")
    return value


def _whole(value: object, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{field} must be a whole number from {low} to {high}", field=field)
    return value


def _threshold(value: object) -> int:
    return _whole(value, "threshold", 1, MAX_THRESHOLD)


def _cooldown(value: object) -> int:
    return _whole(value, "cooldown_s", 0, MAX_COOLDOWN_S)


def _interval(value: object) -> str:
    if value not in INTERVALS:
        raise BadRequest(f"interval must be one of {', '.join(INTERVALS)}", field="interval")
    return str(value)


def _timing(value: object) -> tuple[bool, bool]:
    if not isinstance(value, list) or not value or any(item not in TIMINGS for item in value):
        raise BadRequest('timing must be a non-empty list of "immediate" and "end_of_interval"', field="timing")
    return "immediate" in value, "end_of_interval" in value


def _channels(value: object) -> tuple[int, ...]:
    if (
        not isinstance(value, list)
        or len(value) > MAX_CHANNELS
        or any(isinstance(item, bool) or not isinstance(item, int) or item < 1 for item in value)
    ):
        raise BadRequest(f"channel_ids must be a list of at most {MAX_CHANNELS} channel ids", field="channel_ids")
    return tuple(dict.fromkeys(value))


def _max_lag(value: object) -> int | None:
    return None if value is None else _whole(value, "max_lag_s", MIN_LAG_S, MAX_LAG_S)


def _anomaly_kinds(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or any(kind not in ANOMALY_KINDS for kind in value):
        raise BadRequest(f"anomaly_kinds must be a list of {', '.join(ANOMALY_KINDS)} (empty: all)", field="anomaly_kinds")
    return tuple(kind for kind in ANOMALY_KINDS if kind in value)


def _min_score(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
        raise BadRequest("min_score must be a number, 0 or more", field="min_score")
    return float(value)


def _positive(field: str) -> Any:
    def read(value: object) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e12:
            raise BadRequest(f"{field} must be a positive number", field=field)
        return float(value)

    return read


def _schedule(value: object) -> Schedule | None:
    if value is None:
        return None
    example = '{"days": ["mon", "tue"], "hours": [9, 17], "timezone": "Europe/Paris"}'
    if not isinstance(value, dict) or set(value) - {"days", "hours", "timezone"}:
        raise BadRequest(f"schedule must be an object like {example}", field="schedule")
    days = value.get("days", list(DAYS))
    if not isinstance(days, list) or not days or any(day not in DAYS for day in days):
        raise BadRequest(f"schedule.days must be a non-empty list of {', '.join(DAYS)}", field="schedule.days")
    hours = value.get("hours", [0, 24])
    if (
        not isinstance(hours, list)
        or len(hours) != 2
        or any(isinstance(h, bool) or not isinstance(h, int) or not 0 <= h <= 24 for h in hours)
        or hours[0] in (hours[1], 24)
    ):
        raise BadRequest("schedule.hours must be [start, end], whole hours 0 to 24 that differ", field="schedule.hours")
    zone = value.get("timezone", "UTC")
    try:
        ZoneInfo(zone) if isinstance(zone, str) and zone else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    if not isinstance(zone, str) or not zone:
        raise BadRequest("schedule.timezone must be an IANA time zone such as Europe/Paris", field="schedule.timezone")
    return Schedule(tuple(sorted({DAYS.index(day) for day in days})), hours[0], hours[1], zone)
