"""GET /api/v1/insights/anomalies: what the node's anomaly detectors found in the caller's account;
GET /api/v1/insights: that and the new and growing templates of a window, in one answer (the
Insights page's question; /api/v1/insights/templates answers the templates alone with all its
knobs).

Thin: reads the parameters, authorises (reading logs), audits, and answers; which anomalies a
caller may read, and each one's query, are insights/findings.py's rules, the templates'
insights/trends.py's."""

from __future__ import annotations

import asyncio

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.clock import now_ms
from timberyard.core.errors import BadRequest
from timberyard.insights import findings
from timberyard.insights.anomaly import KINDS
from timberyard.insights.trends import template_trends
from timberyard.search import compile_sql
from timberyard.store.template_counts import GrowthRule, trend_window
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.api.params import text_list, time_range, utc, whole_number

DEFAULT_SPAN_MS = 86_400_000
OVERVIEW_LIMIT = 20
OVERVIEW_MAX_LIMIT = 200


@guarded("logs.read")
async def anomalies(request: Request) -> JSONResponse:
    node = request.app.state.node
    principal = principal_of(request)
    params = request.query_params
    from_ms, to_ms = time_range(params, now_ms(), DEFAULT_SPAN_MS)
    kinds = text_list(params, "kind")
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise BadRequest(f"unknown anomaly kind {unknown[0][:40]!r}: kind is one of {', '.join(KINDS)}", field="kind")
    limit = whole_number(params, "limit", findings.DEFAULT_LIMIT, findings.MAX_LIMIT)
    wanted = findings.Wanted(principal.account_id, utc(from_ms), utc(to_ms), kinds, limit)
    await audit(request, principal, "insights.anomalies", details={"from": from_ms, "to": to_ms, "kinds": list(kinds)})
    found = await run_in_threadpool(findings.readable, node.meta, node.store, wanted, principal.scope)
    return JSONResponse({"anomalies": found, "from": from_ms, "to": to_ms})


@guarded("logs.read")
async def overview(request: Request) -> JSONResponse:
    node = request.app.state.node
    principal = principal_of(request)
    params = request.query_params
    from_ms, to_ms = time_range(params, now_ms(), DEFAULT_SPAN_MS)
    limit = whole_number(params, "limit", OVERVIEW_LIMIT, OVERVIEW_MAX_LIMIT)
    wanted = findings.Wanted(principal.account_id, utc(from_ms), utc(to_ms), (), limit)
    scope = None if principal.scope is None else compile_sql(principal.scope, prefix="s")
    await audit(request, principal, "insights", details={"from": from_ms, "to": to_ms})
    found, templates = await asyncio.gather(
        run_in_threadpool(findings.readable, node.meta, node.store, wanted, principal.scope),
        run_in_threadpool(template_trends, node.store, node.templates, principal.account_id, trend_window(from_ms, to_ms),
                          GrowthRule(), limit, scope),
    )
    return JSONResponse({"anomalies": found, "new_templates": templates["new"], "growing_templates": templates["growing"],
                         "window": templates["window"], "from": from_ms, "to": to_ms})


routes = [
    Route("/api/v1/insights", overview, methods=["GET"]),
    Route("/api/v1/insights/anomalies", anomalies, methods=["GET"]),
]
