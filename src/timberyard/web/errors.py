"""Every error leaves the server as JSON with `error` and `code`; nothing leaks a traceback."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from timberyard.core.errors import (
    ClientDisconnected,
    Overloaded,
    TimberyardError,
    TooManyRequests,
)

log = logging.getLogger(__name__)


async def timberyard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TimberyardError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Overloaded | TooManyRequests) else None
    if exc.status >= 500 or isinstance(exc, ClientDisconnected):
        log.warning("%s %s: %s", request.method, request.url.path, exc.message)
    return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
    return JSONResponse({"error": str(exc.detail).lower(), "code": code, "status": "error"}, status_code=exc.status_code)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(
        {"error": "internal error; the server log has the details", "code": "InternalError", "status": "error"},
        status_code=500,
    )


EXCEPTION_HANDLERS = {TimberyardError: timberyard_error, HTTPException: http_error, Exception: unexpected_error}
