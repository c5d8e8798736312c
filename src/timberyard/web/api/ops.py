"""Operational endpoints: liveness, readiness, and Prometheus metrics.

/healthz and /readyz answer without credentials (load balancers and orchestrators probe them)
and reveal nothing but up/ready. /metrics shows the node's figures to its operator (the
`metrics_token`, see auth/operator.py) and an account's own figures to the account's callers
holding `metrics.read`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from timberyard import __version__
from timberyard.web.access import authorize, declares


@declares(None)
async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


@declares(None)
async def readyz(request: Request) -> JSONResponse:
    node = request.app.state.node
    if not node.ready:
        return JSONResponse({"status": "starting", "code": "NotReady", "error": "the node is starting"}, status_code=503)
    return JSONResponse({"status": "ready"})


@declares("metrics.read")  # for accounts; the operator's token is checked first
async def metrics(request: Request) -> PlainTextResponse:
    node = request.app.state.node
    if node.operator.admits(request.headers.get("authorization", "")):
        text = node.metrics.render()
    else:
        principal = await authorize(request, "metrics.read")
        text = node.metrics.render_account(principal.account_id)
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
