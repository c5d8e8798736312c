"""The audit trail over HTTP: search it, get the compliance report, export the public key.

Owners and admins only (`audit.read`), always their own account's trail; reading the trail is
itself audited. Times and queries work as in the log search APIs.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from timberyard.auth.audit_report import build_report, render_csv, render_html
from timberyard.core.clock import now_ms
from timberyard.search import parse
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.api.params import MAX_ID, choice, time_range, utc, whole_number

DEFAULT_SPAN_MS = 7 * 86_400_000
REPORT_SPAN_MS = 30 * 86_400_000
MAX_PAGE = 1_000


@guarded("audit.read")
async def search_audit(request: Request) -> JSONResponse:
    """Entries newest first; `next_cursor` (an entry id) continues with older ones."""
    principal = principal_of(request)
    params = request.query_params
    query = params.get("q", "")
    node = parse(query) if query.strip() else None
    from_ms, to_ms = time_range(params, now_ms(), DEFAULT_SPAN_MS)
    limit = whole_number(params, "limit", 100, MAX_PAGE)
    before = whole_number(params, "cursor", MAX_ID, MAX_ID) if params.get("cursor") else None
    await audit(request, principal, "audit.search", query=query, details={"from": from_ms, "to": to_ms})
    entries = await run_in_threadpool(
        request.app.state.node.audit.entries, principal.account_id, utc(from_ms), utc(to_ms + 1), node, limit + 1, before
    )
    next_cursor = str(entries[limit - 1].id) if len(entries) > limit else None
    return JSONResponse({"entries": [e.to_dict() for e in entries[:limit]], "next_cursor": next_cursor})


@guarded("audit.read")
async def audit_report(request: Request) -> Response:
    """Logins and failures, access by user, exports, denials, changes and the integrity check,
    as HTML (default), CSV or JSON."""
    principal = principal_of(request)
    params = request.query_params
    from_ms, to_ms = time_range(params, now_ms(), REPORT_SPAN_MS)
    form = choice(params, "format", ("html", "csv", "json"), "html")
    await audit(request, principal, "audit.report", details={"from": from_ms, "to": to_ms, "format": form})
    report = await run_in_threadpool(
        build_report, request.app.state.node.audit, principal.account_id, utc(from_ms), utc(to_ms + 1)
    )
    if form == "csv":
        return Response(
            render_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="timberyard-audit-report.csv"'},
        )
    if form == "json":
        return JSONResponse(
            {
                "from": from_ms,
                "to": to_ms,
                "sign_ins": [{"actor": a, "successes": s, "failures": f} for a, s, f in report.sign_ins],
                "security_events": [e.to_dict() for e in report.security_events],
                "data_access": [{"actor": a, "action": act, "count": n} for a, act, n in report.data_access],
                "exports": [e.to_dict() for e in report.exports],
                "denials": [e.to_dict() for e in report.denials],
                "changes": [e.to_dict() for e in report.changes],
                "integrity": report.integrity.to_dict(),
            }
        )
    return Response(render_html(report), media_type="text/html; charset=utf-8")


@guarded("audit.read")
async def public_key(request: Request) -> PlainTextResponse:
    """The Ed25519 public key (PEM) the hourly digests verify against, for auditors."""
    return PlainTextResponse(request.app.state.node.audit.public_key_pem(), media_type="application/x-pem-file")


routes = [
    Route("/api/v1/audit", search_audit, methods=["GET"]),
    Route("/api/v1/audit/report", audit_report, methods=["GET"]),
    Route("/api/v1/audit/public-key", public_key, methods=["GET"]),
]
