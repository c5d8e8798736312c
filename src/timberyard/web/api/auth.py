"""/api/v1/auth: signing in and out, one's own session, password and two-factor.

Signing in answers every wrong email, wrong password and disabled user with the same 401
`LoginFailed`, in the same time, so the answer never tells whether an email has an account.
Every attempt is recorded and audited (`login.success`, `login.failure`); repeated failures
add a `security.login_failures` entry, which is how owners learn of them until alert
channels exist. When the account requires two-factor and an admin or owner has none, sign-in
answers 403 `TwoFactorEnrolmentRequired` with a new secret and an enrolment token; the same
sign-in, repeated with the token and a code from the authenticator, enrols and signs in.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from timberyard.auth.logins import (
    DEVICE_COOKIE,
    DEVICE_MAX_AGE_S,
    TWO_FACTOR_ROLES,
    Attempt,
)
from timberyard.auth.password_policy import check_password
from timberyard.auth.permissions import permissions_of
from timberyard.auth.principal import Principal
from timberyard.core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    MissingCredentials,
    TimberyardError,
    TooManyRequests,
)
from timberyard.meta import users
from timberyard.meta.info import iso
from timberyard.meta.logins import REAUTHENTICATED
from timberyard.meta.users import Credentials
from timberyard.web.access import (
    SESSION_COOKIE,
    audit,
    check_sign_in_request,
    client_ip,
    declares,
    guarded,
    principal_of,
    user_agent,
)
from timberyard.web.json_body import json_object, optional_text, required_text

DEVICE_COOKIE_PATH = "/api/v1/auth"


class LoginFailed(MissingCredentials):
    code = "LoginFailed"


class TwoFactorRequired(MissingCredentials):
    code = "TwoFactorRequired"


class TwoFactorEnrolmentRequired(Forbidden):
    code = "TwoFactorEnrolmentRequired"


@declares(None)
async def login(request: Request) -> Response:
    check_sign_in_request(request)
    body = await json_object(request, '{"email": "you@example.com", "password": "..."}')
    email, password = required_text(body, "email"), required_text(body, "password")
    node = request.app.state.node
    ip, agent = client_ip(request), user_agent(request)
    attempt: Attempt = await run_in_threadpool(
        functools.partial(
            node.logins.sign_in, email, password, ip=ip, user_agent=agent,
            totp_code=optional_text(body, "totp"),
            enrolment_token=optional_text(body, "enrolment"),
            device_cookie=request.cookies.get(DEVICE_COOKIE),
        )
    )
    await _audit_alerts(request, attempt)
    if attempt.outcome != "success" or attempt.user is None:
        await audit(request, None, "login.failure", outcome="failure", target=attempt.email,
                    details={"reason": attempt.outcome}, account_id=attempt.account_id)
        raise _refusal(attempt)
    user = attempt.user
    token, session = await run_in_threadpool(node.sessions.create, user, ip, agent)
    principal = Principal(user.account_id, user.role, "user", user.id, user.email, session_id=session.id)
    await audit(request, principal, "login.success", target=user.email)
    account = await run_in_threadpool(node.meta.get_account, user.account_id)
    response = JSONResponse({
        "user": user.to_dict(),
        "account": {"id": account.id, "name": account.name, "retention_days": account.retention_days},
        "csrf_token": session.csrf_token,
        "expires_at": iso(session.expires_at),
        "idle_timeout_s": node.sessions.idle_timeout_s,
    })
    secure = request.url.scheme == "https"
    response.set_cookie(SESSION_COOKIE, token, path="/", httponly=True, samesite="lax", secure=secure)
    response.set_cookie(DEVICE_COOKIE, node.logins.device_cookie(user.email), max_age=DEVICE_MAX_AGE_S,
                        path=DEVICE_COOKIE_PATH, httponly=True, samesite="strict", secure=secure)
    return response


def _refusal(attempt: Attempt) -> TimberyardError:
    if attempt.outcome == "throttled":
        return TooManyRequests(f"too many failed sign-ins; try again in {attempt.retry_after} s", retry_after=attempt.retry_after)
    if attempt.outcome == "totp_required":
        return TwoFactorRequired("enter the code from your authenticator app (send it as totp)")
    if attempt.outcome == "bad_totp":
        return TwoFactorRequired("that authenticator code is wrong or was already used; wait for the next one")
    if attempt.outcome == "enrolment_required" and attempt.enrolment is not None:
        return TwoFactorEnrolmentRequired(
            "your account requires two-factor sign-in for admins and owners: add the secret to an "
            "authenticator app, then sign in again with the code as totp and enrolment as given here",
            enrolment=attempt.enrolment.to_dict(),
        )
    return LoginFailed("wrong email or password")


@guarded("session.self")
async def logout(request: Request) -> Response:
    principal = _session_user(request)
    await run_in_threadpool(request.app.state.node.sessions.end, principal.session_id)
    await audit(request, principal, "logout", target=principal.actor_name)
    response = JSONResponse({"status": "ok"})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@guarded("session.self")
async def me(request: Request) -> JSONResponse:
    """Who the caller is and what they may do; for an API key, the key instead of a user."""
    principal = principal_of(request)
    node = request.app.state.node
    account = await run_in_threadpool(node.meta.get_account, principal.account_id)
    described: dict[str, Any] = {
        "role": principal.role,
        "permissions": permissions_of(principal.role),
        "account": {"id": account.id, "name": account.name},
        "csrf_token": principal.csrf_token,
    }
    if principal.actor_type != "user":
        return JSONResponse({"user": None, "key": {"id": principal.actor_id, "name": principal.actor_name}, **described})
    detail = await run_in_threadpool(node.meta.get_user, principal.account_id, principal.actor_id)
    return JSONResponse({"user": detail.to_dict(), "idle_timeout_s": node.sessions.idle_timeout_s, **described})


@guarded("session.self")
async def change_password(request: Request) -> JSONResponse:
    """A new password, given the current one; the user's other sessions are signed out."""
    principal = _session_user(request)
    body = await json_object(request, '{"current": "...", "new": "..."}')
    current, new = required_text(body, "current"), required_text(body, "new")
    node = request.app.state.node
    credentials = await _credentials(request, principal)
    check_password(new, credentials.user.email)  # before the current one, which costs a try if wrong
    await _reauthenticate(request, principal, credentials, current, "password.change")
    await run_in_threadpool(node.meta.change_password, principal.actor_id, credentials.user.email, new, principal.session_id)
    await audit(request, principal, "password.change", target=principal.actor_name)
    return JSONResponse({"status": "ok"})


@guarded("session.self")
async def start_totp(request: Request) -> JSONResponse:
    """A new secret for an authenticator app; nothing is stored until it is confirmed."""
    principal = _session_user(request)
    credentials = await _credentials(request, principal)
    if credentials.totp_secret is not None:
        raise Conflict("two-factor sign-in is already on; turn it off first to change authenticators")
    enrolment = request.app.state.node.logins.totp.start_enrolment(principal.actor_id, credentials.user.email)
    return JSONResponse(enrolment.to_dict())


@guarded("session.self")
async def confirm_totp(request: Request) -> JSONResponse:
    """Turn two-factor on with the enrolment's secret, once a code shows the app has it."""
    principal = _session_user(request)
    body = await json_object(request, '{"enrolment": "...", "code": "123456"}')
    node = request.app.state.node
    credentials = await _credentials(request, principal)
    if credentials.totp_secret is not None:
        raise Conflict("two-factor sign-in is already on")
    secret = await run_in_threadpool(node.logins.totp.finish_enrolment, body.get("enrolment"), principal.actor_id, body.get("code"))
    await run_in_threadpool(node.meta.set_totp_secret, principal.actor_id, secret)
    await audit(request, principal, "totp.enable", target=principal.actor_name)
    return JSONResponse({"two_factor": True})


@guarded("session.self")
async def disable_totp(request: Request) -> JSONResponse:
    """Turn two-factor off; needs the password and a current code, and is refused to admins
    and owners of an account that requires two-factor."""
    principal = _session_user(request)
    body = await json_object(request, '{"password": "...", "code": "123456"}')
    password = required_text(body, "password")
    node = request.app.state.node
    credentials = await _credentials(request, principal)
    if credentials.totp_secret is None:
        raise Conflict("two-factor sign-in is not on")
    if credentials.require_two_factor and credentials.user.role in TWO_FACTOR_ROLES:
        raise Forbidden("your account requires two-factor sign-in for admins and owners; it cannot be turned off")
    await _reauthenticate(request, principal, credentials, password, "totp.disable")
    if not await run_in_threadpool(node.logins.totp.verify, principal.actor_id, credentials.totp_secret, body.get("code")):
        await audit(request, principal, "totp.disable", outcome="failure", details={"reason": "wrong code"})
        raise BadRequest("that authenticator code is wrong or was already used", field="code")
    await run_in_threadpool(node.meta.set_totp_secret, principal.actor_id, None)
    await audit(request, principal, "totp.disable", target=principal.actor_name)
    return JSONResponse({"two_factor": False})


def _session_user(request: Request) -> Principal:
    """The caller, who must be a signed-in user: API keys have no session or password."""
    principal = principal_of(request)
    if principal.actor_type != "user" or principal.session_id is None:
        raise BadRequest("this needs a signed-in user's session; API keys have no session, password or two-factor")
    return principal


async def _credentials(request: Request, principal: Principal) -> Credentials:
    db = request.app.state.node.meta

    def read() -> Credentials | None:
        with db.reading() as session:
            return users.find_credentials(session, principal.actor_name)

    found = await run_in_threadpool(read)
    if found is None or found.user.id != principal.actor_id:
        raise MissingCredentials("your user no longer exists; sign in again")
    return found


async def _reauthenticate(request: Request, principal: Principal, credentials: Credentials, password: str, action: str) -> None:
    """Ask for the password again before a sensitive change (throttled like signing in)."""
    attempt: Attempt = await run_in_threadpool(
        functools.partial(
            request.app.state.node.logins.reauthenticate, credentials.user, password, ip=client_ip(request),
            user_agent=user_agent(request), device_cookie=request.cookies.get(DEVICE_COOKIE),
        )
    )
    await _audit_alerts(request, attempt)
    if attempt.outcome == REAUTHENTICATED:
        return
    await audit(request, principal, action, outcome="failure", details={"reason": attempt.outcome})
    if attempt.outcome == "throttled":
        raise _refusal(attempt)
    raise Forbidden("the password is wrong")


async def _audit_alerts(request: Request, attempt: Attempt) -> None:
    for alert in attempt.alerts:
        await audit(request, None, "security.login_failures", outcome="failure", target=f"{alert.kind} {alert.value}",
                    details=alert.details(), account_id=alert.account_id)


routes = [
    Route("/api/v1/auth/login", login, methods=["POST"]),
    Route("/api/v1/auth/logout", logout, methods=["POST"]),
    Route("/api/v1/auth/me", me, methods=["GET"]),
    Route("/api/v1/auth/password", change_password, methods=["POST"]),
    Route("/api/v1/auth/totp/enrol", start_totp, methods=["POST"]),
    Route("/api/v1/auth/totp/confirm", confirm_totp, methods=["POST"]),
    Route("/api/v1/auth/totp/disable", disable_totp, methods=["POST"]),
]
