"""Security headers on every HTTP response (OWASP ASVS V3/V12, HIPAA transmission security).

A plain ASGI middleware rather than BaseHTTPMiddleware: it only edits the response-start
message, so streaming bodies (live tail over SSE, exports) pass through untouched. A header a
route sets itself wins; the defaults fill in what is missing. HSTS is sent only on requests that
arrived over HTTPS (TLS on the node, or a trusted proxy's X-Forwarded-Proto): browsers ignore it
over plain HTTP, and sending it there would claim something untrue.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
DEFAULTS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
API_PREFIX = "/api/"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(DEFAULTS)
        if scope.get("scheme") == "https":
            extra.append(("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY))
        if scope["path"].startswith(API_PREFIX):
            extra.append(("Cache-Control", "no-store"))  # API answers carry log lines and keys

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
