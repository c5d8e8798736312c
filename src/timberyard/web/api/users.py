"""/api/v1/users and /api/v1/account: the people of an account and its sign-in rules.

Everything is confined to the caller's account: a user of another account is a 404, exactly
like one that does not exist. An account has one owner; nobody becomes owner by being added
or by a role change, only by the owner's transfer. Disabling a user or changing their role
signs them out everywhere at once. Every change is audited.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.errors import BadRequest, Conflict
from timberyard.meta import accounts
from timberyard.meta.users import OWNER
from timberyard.web.access import SESSION_COOKIE, audit, guarded, principal_of
from timberyard.web.json_body import json_object, required_text


@guarded("users.manage")
async def list_users(request: Request) -> JSONResponse:
    found = await run_in_threadpool(request.app.state.node.meta.list_users, principal_of(request).account_id)
    return JSONResponse({"users": [u.to_dict() for u in found]})


@guarded("users.manage")
async def create_user(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await json_object(request, '{"email": "ann@example.com", "role": "member", "password": "..."}')
    email, role, password = required_text(body, "email"), required_text(body, "role"), required_text(body, "password")
    if role == OWNER:
        raise BadRequest("an account has one owner; add the user with another role, then the owner can transfer ownership")
    user = await run_in_threadpool(request.app.state.node.meta.add_user, principal.account_id, email, password, role)
    await audit(request, principal, "user.create", target=f"user {user.id}", details={"email": user.email, "role": user.role})
    return JSONResponse(user.to_dict(), status_code=201)


@guarded("users.manage")
async def update_user(request: Request) -> JSONResponse:
    """Change `role` and/or `disabled`; the owner changes only by a transfer."""
    principal = principal_of(request)
    body = await json_object(request, '{"role": "readonly", "disabled": true}')
    role, disabled = body.get("role"), body.get("disabled")
    if role is not None and not isinstance(role, str):
        raise BadRequest("role must be a string", field="role")
    if disabled is not None and not isinstance(disabled, bool):
        raise BadRequest("disabled must be true or false", field="disabled")
    user_id = request.path_params["user_id"]
    if disabled and principal.actor_type == "user" and principal.actor_id == user_id:
        raise BadRequest("you cannot disable yourself; ask another admin")
    before, after = await run_in_threadpool(request.app.state.node.meta.update_user, principal.account_id, user_id, role, disabled)
    target = f"user {after.id}"
    if before.role != after.role:
        await audit(request, principal, "user.role", target=target,
                    details={"email": after.email, "from": before.role, "to": after.role})
    if before.disabled != after.disabled:
        await audit(request, principal, "user.disable" if after.disabled else "user.enable", target=target,
                    details={"email": after.email})
    return JSONResponse(after.to_dict())


@guarded("owner.transfer")
async def transfer_owner(request: Request) -> JSONResponse:
    """Make another user the owner; the caller becomes an admin, and both are signed out."""
    principal = principal_of(request)
    body = await json_object(request, '{"user_id": "..."}')
    old, new = await run_in_threadpool(
        request.app.state.node.meta.transfer_owner, principal.account_id, required_text(body, "user_id")
    )
    await audit(request, principal, "owner.transfer", target=f"user {new.id}",
                details={"from": old.email if old else None, "to": new.email})
    response = JSONResponse({"owner": new.to_dict(), "previous_owner": old.to_dict() if old else None})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


@guarded("account.settings")
async def update_account(request: Request) -> JSONResponse:
    """Account settings: `require_two_factor` makes admins and owners sign in with a code."""
    principal = principal_of(request)
    body = await json_object(request, '{"require_two_factor": true}')
    required = body.get("require_two_factor")
    if not isinstance(required, bool):
        raise BadRequest("require_two_factor is required and must be true or false", field="require_two_factor")
    node = request.app.state.node
    before = await run_in_threadpool(node.meta.set_require_two_factor, principal.account_id, required)
    if before != required:
        await audit(request, principal, "account.require_two_factor", target=f"account {principal.account_id}",
                    details={"from": before, "to": required})
    account = await run_in_threadpool(node.meta.get_account, principal.account_id)
    return JSONResponse({"id": account.id, "name": account.name, "require_two_factor": required})


@guarded("retention.manage")
async def set_retention(request: Request) -> JSONResponse:
    """How long the store keeps the account's lines (the owner's call: it decides what is lost).
    Refused while archiving is on and behind by more than the new retention: lines would expire
    before they are archived."""
    principal = principal_of(request)
    body = await json_object(request, '{"retention_days": 90}')
    days = accounts.check_retention(body.get("retention_days"))
    node = request.app.state.node
    lag = node.archiver.lag_seconds().get(principal.account_id)
    if lag is not None and lag >= days * 86_400:
        raise Conflict(f"archiving for this account is {lag / 86_400:.1f} days behind; a {days}-day retention would delete "
                       "lines before they are archived. Fix the archive first (timberyard archive status)", field="retention_days")
    before = await run_in_threadpool(node.meta.transact, accounts.set_retention, principal.account_id, days, write=True)
    await audit(request, principal, "account.retention", target=f"account {principal.account_id}",
                details={"from": before, "to": days})
    return JSONResponse({"retention_days": days, "previous_retention_days": before, "archive_lag_s": lag})


routes = [
    Route("/api/v1/users", list_users, methods=["GET"]),
    Route("/api/v1/users", create_user, methods=["POST"]),
    Route("/api/v1/users/{user_id}", update_user, methods=["PATCH"]),
    Route("/api/v1/account/owner", transfer_owner, methods=["POST"]),
    Route("/api/v1/account", update_account, methods=["PATCH"]),
    Route("/api/v1/account/retention", set_retention, methods=["PUT"]),
]
