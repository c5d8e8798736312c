"""GET /api/v1/insights/templates: the log templates new in a window, and those that grew.

`since` and `until` are times as the other read APIs take them (epoch seconds or ms, ISO 8601,
`2h ago`, `yesterday 1pm`); `until` defaults to now and `since` to 24 hours before `until`.
A template is new when its first line the store still holds is at or after `since`; it grew
when it has at least `min_lines` lines in the window and `min_ratio` times as many as in the
equally long window before (taken as 1 when it had none there). See insights/trends.py.

It reads logs, so it needs `logs.read` and is audited like a search. A caller with an access
scope is answered from the lines in its scope, never from the account-wide counts.
"""

from __future__ import annotations

import math

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.clock import now_ms
from timberyard.core.errors import BadRequest
from timberyard.insights.trends import template_trends
from timberyard.search import compile_sql
from timberyard.store.template_counts import GrowthRule, trend_window
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.api.params import epoch_ms, whole_number

DEFAULT_SPAN_MS = 86_400_000
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
MAX_MIN_LINES = 10**9
MAX_RATIO = 10**6


@guarded("logs.read")
async def template_trends_api(request: Request) -> JSONResponse:
    node = request.app.state.node
    principal = principal_of(request)
    params = request.query_params
    until = epoch_ms(params, "until", now_ms())
    since = epoch_ms(params, "since", max(0, until - DEFAULT_SPAN_MS))
    if since >= until:
        raise BadRequest(f"since ({since}) must be before until ({until})", field="since")
    limit = whole_number(params, "limit", DEFAULT_LIMIT, MAX_LIMIT)
    rule = GrowthRule(whole_number(params, "min_lines", GrowthRule.min_lines, MAX_MIN_LINES), _ratio(params.get("min_ratio")))
    scope = None if principal.scope is None else compile_sql(principal.scope, prefix="s")
    await audit(request, principal, "insights.templates", details={"since": since, "until": until})
    answer = await run_in_threadpool(
        template_trends, node.store, node.templates, principal.account_id, trend_window(since, until), rule, limit, scope
    )
    answer["window"]["until"] = until
    return JSONResponse(answer)


def _ratio(value: str | None) -> float:
    if value is None or not value.strip():
        return GrowthRule.min_ratio
    try:
        ratio = float(value)
    except ValueError:
        ratio = math.nan
    if not 1 <= ratio <= MAX_RATIO:  # NaN fails too
        raise BadRequest(f"min_ratio must be a number from 1 to {MAX_RATIO}, got {value[:20]!r}", field="min_ratio")
    return ratio


routes = [Route("/api/v1/insights/templates", template_trends_api, methods=["GET"])]
