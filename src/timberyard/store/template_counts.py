"""Queries over lines per template per minute: which templates are new in a window, which grew.

The counts come from `template_minutes` (schema migration 4), which the store keeps from every
insert. A caller with an access scope must not learn of lines outside it, and that table has
no line to test the scope on, so for such a caller the same rows are computed from the log
table, through the compiled scope: same query, slower source. Like store.queries, every query
starts from the account predicate and carries user text only as bound parameters.

Windows are whole minutes (the table's grain): `since` is rounded down to its minute, and the
window is a whole number of sparkline buckets long, at most `MAX_BUCKETS` of them, so a window
may end up to one bucket past `until` (in the future, when `until` is now).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from timberyard.store.queries import Compiled
from timberyard.store.schema import LOG_TABLE, TEMPLATE_MINUTES_TABLE

MAX_BUCKETS = 60
MINUTE_S = 60


@dataclass(frozen=True)
class TrendWindow:
    """[start, end) in whole minutes after `since`, and the equally long window before it."""

    since_ms: int
    start_s: int
    bucket_s: int
    buckets: int

    @property
    def end_s(self) -> int:
        return self.start_s + self.bucket_s * self.buckets

    @property
    def before_s(self) -> int:
        return self.start_s - self.bucket_s * self.buckets

    @property
    def minutes(self) -> int:
        return self.bucket_s * self.buckets // MINUTE_S


def trend_window(since_ms: int, until_ms: int) -> TrendWindow:
    """The window from `since` to `until` (ms, since < until) in whole minutes and buckets."""
    start_s = since_ms // 1000 // MINUTE_S * MINUTE_S
    minutes = max(1, -(-(until_ms // 1000 - start_s) // MINUTE_S))
    width = -(-minutes // MAX_BUCKETS)
    return TrendWindow(since_ms, start_s, width * MINUTE_S, -(-minutes // width))


@dataclass(frozen=True)
class GrowthRule:
    """A template grew when it has at least `min_lines` lines in the window and at least
    `min_ratio` times as many as in the window before (taken as 1 when it had none there)."""

    min_lines: int = 10
    min_ratio: float = 3.0


def select_template_trends(
    account: str, window: TrendWindow, rule: GrowthRule, limit: int, scope: Compiled | None = None
) -> tuple[str, dict[str, Any]]:
    """Up to `limit` rows of kind `new` (the template's first line is at or after `since`;
    latest first) and of kind `growing` (older templates the rule finds; highest ratio first),
    each with its app, template, first line time (`first_ms`), lines `before` and `after`
    (in the window before, and in the window), the window's lines per level (`levels`, zeros
    included) and counts per bucket over both windows (`sparkline`, 2 x buckets).

    Only templates with lines in the window are looked at; their first line is looked for over
    everything the store still holds."""
    params: dict[str, Any] = {
        "account": account, "since_ms": window.since_ms, "start_s": window.start_s, "end_s": window.end_s,
        "before_s": window.before_s, "before_floor_s": max(0, window.before_s), "bucket_s": window.bucket_s,
        "spark": 2 * window.buckets, "min_lines": rule.min_lines, "min_ratio": rule.min_ratio, "limit": limit,
    }  # fmt: skip
    keys, rows = _sources(scope, params)
    # A DateTime starts in 1970: a window before that (since=0) is cut there; buckets still count from before_s.
    start, before = "toDateTime({start_s:Int64}, 'UTC')", "toDateTime({before_floor_s:Int64}, 'UTC')"
    bucket = f"if(minute >= {before}, intDiv(toInt64(toUnixTimestamp(minute)) - {{before_s:Int64}}, {{bucket_s:Int64}}), -1)"
    ratio = "after / greatest(before, 1)"
    sql = f"""
WITH keys AS ({keys}),
rows AS ({rows}),
stats AS (
    SELECT app, template, min(first) AS first_seen,
        sumIf(lines, minute >= {before} AND minute < {start}) AS before,
        sumIf(lines, minute >= {start}) AS after,
        sumMap([level], [toUInt64(if(minute >= {start}, lines, 0))]) AS levels,
        sumResample(0, {{spark:UInt32}}, 1)(lines, {bucket}) AS sparkline
    FROM rows GROUP BY app, template
)
SELECT * FROM (
    SELECT 'new' AS kind, app, toString(template) AS template, toUnixTimestamp64Milli(first_seen) AS first_ms,
        before, after, levels, sparkline
    FROM stats WHERE first_seen >= fromUnixTimestamp64Milli({{since_ms:Int64}})
    ORDER BY first_seen DESC, after DESC, template LIMIT {{limit:UInt32}}
    UNION ALL
    SELECT 'growing' AS kind, app, toString(template) AS template, toUnixTimestamp64Milli(first_seen) AS first_ms,
        before, after, levels, sparkline
    FROM stats WHERE first_seen < fromUnixTimestamp64Milli({{since_ms:Int64}})
        AND after >= {{min_lines:UInt64}} AND {ratio} >= {{min_ratio:Float64}}
    ORDER BY {ratio} DESC, after DESC, template LIMIT {{limit:UInt32}}
)"""
    return sql, params


def _sources(scope: Compiled | None, params: dict[str, Any]) -> tuple[str, str]:
    """The (app, template) keys with lines in the window, and the (app, template, minute, level,
    lines, first) rows of those keys up to the window's end: the kept counts, or for a scoped
    caller the same computed from the lines in its scope."""
    if scope is None:
        where = "account = {account:String} AND minute < toDateTime({end_s:Int64}, 'UTC')"
        return (
            f"SELECT DISTINCT app, template FROM {TEMPLATE_MINUTES_TABLE} WHERE {where} "
            "AND minute >= toDateTime({start_s:Int64}, 'UTC')",
            f"SELECT app, template, minute, level, lines, first FROM {TEMPLATE_MINUTES_TABLE} WHERE {where} "
            "AND (app, template) IN keys",
        )
    fragment, scope_params = scope
    params.update(scope_params)
    where = f"account = {{account:String}} AND template != 0 AND ts < fromUnixTimestamp64Milli({{end_s:Int64}} * 1000) AND {fragment}"
    return (
        f"SELECT DISTINCT app, template FROM {LOG_TABLE} WHERE {where} AND ts >= fromUnixTimestamp64Milli({{start_s:Int64}} * 1000)",
        f"SELECT app, template, toStartOfMinute(ts) AS minute, level, count() AS lines, min(ts) AS first FROM {LOG_TABLE} "
        f"WHERE {where} AND (app, template) IN keys GROUP BY app, template, minute, level",
    )
