"""GET /api/v1/insights/anomalies: what the node's anomaly detectors found in the caller's account.

Thin: reads the parameters, authorises (reading logs), audits, and answers; which anomalies a
caller may read, and each one's query, are insights/findings.py's rules."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.clock import now_ms
from timberyard.core.errors import BadRequest
from timberyard.insights import findings
from timberyard.insights.anomaly import KINDS
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.api.params import text_list, time_range, utc, whole_number

DEFAULT_SPAN_MS = 86_400_000


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
    await audit(request, principal, "anomalies", details={"from": from_ms, "to": to_ms, "kinds": list(kinds)})
    found = await run_in_threadpool(findings.readable, node.meta, node.store, wanted, principal.scope)
    return JSONResponse({"anomalies": found, "from": from_ms, "to": to_ms})


routes = [Route("/api/v1/insights/anomalies", anomalies, methods=["GET"])]
