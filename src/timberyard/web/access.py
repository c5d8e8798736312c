"""Authentication and authorisation of every request: who is calling, and may they do this.

A caller is a browser session (the session cookie) or an API key (HTTP Basic or a
`servicekey` header). Every route declares the permission it needs with `guarded` (or says it
is `public`), and tests/integration/test_access_matrix.py enumerates the app's routes, so a
route without a declaration fails the suite. Cookie-authenticated writes must echo the
session's CSRF token in `X-CSRF-Token`, and a cookie-authenticated WebSocket must come from
this server's own origin; API keys cannot be sent by a browser on its own, so they need
neither. Every refusal is written to the audit trail.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from timberyard.auth.audit import AuditEvent
from timberyard.auth.permissions import has_permission, holders
from timberyard.auth.principal import Principal
from timberyard.core.errors import (
    CsrfFailed,
    TimberyardError,
    MissingCredentials,
    PermissionDenied,
    SessionEnded,
    UnsupportedMediaType,
)
from timberyard.web.credentials import service_secret

SESSION_COOKIE = "timberyard_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Endpoint = Callable[[Request], Awaitable[Response]]


def client_ip(connection: HTTPConnection) -> str:
    """The peer's address (uvicorn puts the forwarded one here when the proxy is trusted)."""
    return connection.client.host if connection.client else ""


def user_agent(connection: HTTPConnection) -> str:
    return connection.headers.get("user-agent", "")[:400]


async def authenticate(connection: HTTPConnection) -> Principal:
    """The caller, from an API key if one is sent, else from the session cookie."""
    node = connection.app.state.node
    secret = service_secret(connection)  # type: ignore[arg-type]
    if secret:
        key = node.keyring.authenticate(secret, "service")
        return Principal(
            account_id=key.account_id,
            role=key.role or "readonly",
            actor_type="key",
            actor_id=key.id,
            actor_name=key.name or key.prefix,
        )
    token = connection.cookies.get(SESSION_COOKIE)
    if not token:
        raise MissingCredentials("Missing Credentials")
    principal = await run_in_threadpool(node.access.principal_for_session, token)
    if principal is None:
        raise SessionEnded("your session has ended; sign in again")
    return principal


async def authorize(connection: HTTPConnection, permission: str) -> Principal:
    """The caller, if they hold `permission`; 401 when unauthenticated, 403 (audited) when not
    allowed, 403 for a cookie write without the session's CSRF token."""
    principal = await authenticate(connection)
    method = connection.scope.get("method", "GET")
    if principal.csrf_token is not None and connection.scope["type"] == "websocket" and not _same_origin(connection):
        # Browsers send cookies with a WebSocket handshake from any page of the same site and
        # apply no same-origin rule to it, so the Origin header is the only guard.
        await audit_denial(connection, principal, permission, "WebSocket from another origin")
        raise CsrfFailed("a WebSocket signed in with a session must come from this server's own pages")
    if principal.csrf_token is not None and method not in SAFE_METHODS:
        sent = connection.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), principal.csrf_token.encode()):
            await audit_denial(connection, principal, permission, "missing or wrong CSRF token")
            raise CsrfFailed("this request needs the session's CSRF token in X-CSRF-Token")
    if not has_permission(principal.role, permission):
        await audit_denial(connection, principal, permission, f"role {principal.role} lacks {permission}")
        raise PermissionDenied(
            f"your role ({principal.role}) may not do this: it needs {permission}, which {holders(permission)} have"
        )
    return principal


def access_check(connection: HTTPConnection, principal: Principal, permission: str) -> Callable[[], bool]:
    """For a long-lived connection (live tail): a check, run on a worker thread, that the
    credentials it opened with still grant `permission` with the same read scope. A revoked
    key, a disabled or signed-out user, a changed role or group scope all make it false."""
    node = connection.app.state.node
    secret = service_secret(connection)  # type: ignore[arg-type]
    token = connection.cookies.get(SESSION_COOKIE, "")

    def still_allowed() -> bool:
        if secret:
            try:
                key = node.keyring.authenticate(secret, "service")
            except TimberyardError:
                return False
            return has_permission(key.role or "readonly", permission)
        current = node.access.principal_for_session(token, touch=False)
        return current is not None and has_permission(current.role, permission) and current.scope == principal.scope

    return still_allowed


def _same_origin(connection: HTTPConnection) -> bool:
    origin = connection.headers.get("origin", "")
    host = connection.headers.get("host", "")
    return bool(host) and origin.partition("://")[2] == host


def check_sign_in_request(request: Request) -> None:
    """Sign-in carries no session yet, so no CSRF token can guard it: a foreign page could sign
    a victim's browser into the attacker's account (login CSRF). It must be JSON, which a page
    can send cross-origin only after a CORS preflight this server never grants, and an Origin
    or Referer, when the browser sends one, must be this server's own."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType("sign in with a JSON body and Content-Type: application/json")
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None and origin.partition("://")[2] != host:
        raise CsrfFailed(f"sign-in from another origin ({origin[:100]}) is refused; sign in on this server's own page")
    referer = request.headers.get("referer")
    if origin is None and referer is not None and referer.partition("://")[2].partition("/")[0] != host:
        raise CsrfFailed("sign-in from another site's page is refused; sign in on this server's own page")


async def audit_denial(connection: HTTPConnection, principal: Principal, permission: str, reason: str) -> None:
    await audit(connection, principal, "permission.denied", outcome="denied",
                target=f"{connection.scope.get('method', 'GET')} {connection.url.path}",
                details={"permission": permission, "reason": reason})


async def audit(
    connection: HTTPConnection,
    principal: Principal | None,
    action: str,
    *,
    outcome: str = "success",
    target: str | None = None,
    query: str | None = None,
    details: dict[str, Any] | None = None,
    account_id: str | None = None,
) -> None:
    """Write one audit entry about this request (who, what, where, outcome)."""
    node = connection.app.state.node
    event = AuditEvent(
        account_id=principal.account_id if principal else (account_id or ""),
        action=action,
        outcome=outcome,
        actor_type=principal.actor_type if principal else "anonymous",
        actor_id=principal.actor_id if principal else None,
        actor_name=principal.actor_name if principal else None,
        target=target,
        query=query,
        ip=client_ip(connection),
        user_agent=user_agent(connection),
        details=details or {},
    )
    await run_in_threadpool(node.audit.record, event)


def guarded(permission: str) -> Callable[[Endpoint], Endpoint]:
    """Decorate an endpoint: it runs only for callers holding `permission`, found in
    `request.state.principal`."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def checked(request: Request) -> Response:
            request.state.principal = await authorize(request, permission)
            return await endpoint(request)

        checked.permission = permission  # type: ignore[attr-defined]
        return checked

    return decorate


def declares(permission: str | None) -> Callable[[Any], Any]:
    """Mark an endpoint that checks its credentials itself (ingestion keys, WebSockets) or
    needs none (`None`: health probes, the login form), for the route matrix."""

    def mark(endpoint: Any) -> Any:
        endpoint.permission = permission
        return endpoint

    return mark


def principal_of(request: Request) -> Principal:
    return request.state.principal  # type: ignore[no-any-return]
