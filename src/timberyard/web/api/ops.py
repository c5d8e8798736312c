"""Operational endpoints: liveness, readiness, and Prometheus metrics.

/healthz and /readyz answer without credentials (load balancers and orchestrators probe them)
and reveal nothing but up/ready; /metrics needs `metrics.read` (any service key).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from timberyard import __version__
from timberyard.web.access import declares, guarded


@declares(None)
async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "version": __version__})


@declares(None)
async def readyz(request: Request) -> JSONResponse:
    node = request.app.state.node
    if not node.ready:
        return JSONResponse({"status": "starting", "code": "NotReady", "error": "the node is starting"}, status_code=503)
    return JSONResponse({"status": "ready"})


@guarded("metrics.read")
async def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.app.state.node.metrics.render(), media_type="text/plain; version=0.0.4")


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
