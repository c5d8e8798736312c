"""/api/v1/groups (scoped read access, `groups.manage`) and /api/v1/access-grants (break-glass,
`access.grant`: owners).

Everything is confined to the caller's account: another account's group or grant is a 404,
exactly like one that does not exist. Every change is audited. A break-glass grant or
revocation is audited as `security.break_glass`, naming the owners and admins it concerns;
until alert channels exist, that entry in the audit trail is their notification.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.auth.principal import Principal
from timberyard.core.errors import BadRequest, Forbidden, NotFound
from timberyard.meta import grants, groups, users
from timberyard.meta.info import GrantInfo, GroupInfo, UserInfo, iso
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.json_body import json_object, required_text

T = TypeVar("T")


async def _run(request: Request, change: Callable[..., T], *args: Any, write: bool = True) -> T:
    """Run a repository function in one transaction, on a worker thread."""
    return await run_in_threadpool(request.app.state.node.meta.transact, change, *args, write=write)


# groups: a path naming a group that does not exist is a 404 whatever the body (the repository
# looks the group up before it checks `scope` or `email`, so those are passed on unchecked).


@guarded("groups.manage")
async def list_groups(request: Request) -> JSONResponse:
    found = await _run(request, groups.list_groups, principal_of(request).account_id, write=False)
    return JSONResponse({"groups": [g.to_dict() for g in found]})


@guarded("groups.manage")
async def create_group(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await json_object(request, '{"name": "payments", "scope": "app:payments"}')
    created = await _run(request, groups.create_group, principal.account_id, required_text(body, "name"), required_text(body, "scope", allow_empty=True))
    await audit(request, principal, "group.create", target=f"group {created.name}", details={"scope": created.scope})
    return JSONResponse(created.to_dict(), status_code=201)


@guarded("groups.manage")
async def get_group(request: Request) -> JSONResponse:
    found = await _run(request, groups.get_group, principal_of(request).account_id, request.path_params["name"], write=False)
    return JSONResponse(found.to_dict())


def _rescope(session: Session, account_id: str, name: str, scope: str) -> tuple[str, GroupInfo]:
    previous = groups.get_group(session, account_id, name).scope
    return previous, groups.set_scope(session, account_id, name, scope)


@guarded("groups.manage")
async def update_group(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await json_object(request, '{"scope": "app:payments OR app:billing"}')
    unknown = sorted(set(body) - {"scope"})
    if unknown:
        raise BadRequest(f"only scope can be changed; unknown fields: {', '.join(unknown)}")
    previous, updated = await _run(request, _rescope, principal.account_id, request.path_params["name"], body.get("scope"))
    await audit(request, principal, "group.update", target=f"group {updated.name}",
                details={"scope": updated.scope, "previous_scope": previous})
    return JSONResponse(updated.to_dict())


@guarded("groups.manage")
async def delete_group(request: Request) -> JSONResponse:
    principal = principal_of(request)
    deleted = await _run(request, groups.delete_group, principal.account_id, request.path_params["name"])
    await audit(request, principal, "group.delete", target=f"group {deleted.name}",
                details={"scope": deleted.scope, "members": list(deleted.members)})
    return JSONResponse(deleted.to_dict())


@guarded("groups.manage")
async def add_member(request: Request) -> JSONResponse:
    principal = principal_of(request)
    email = (await json_object(request, '{"email": "ana@example.com"}')).get("email")
    updated = await _run(request, groups.add_member, principal.account_id, request.path_params["name"], email)
    await audit(request, principal, "group.member_add", target=f"group {updated.name}", details={"email": users.normalise_email(email)})
    return JSONResponse(updated.to_dict())


@guarded("groups.manage")
async def remove_member(request: Request) -> JSONResponse:
    principal = principal_of(request)
    email = request.path_params["email"]
    updated = await _run(request, groups.remove_member, principal.account_id, request.path_params["name"], email)
    await audit(request, principal, "group.member_remove", target=f"group {updated.name}", details={"email": users.normalise_email(email)})
    return JSONResponse(updated.to_dict())


# break-glass access grants


@guarded("access.grant")
async def list_grants(request: Request) -> JSONResponse:
    found = await _run(request, grants.list_active, principal_of(request).account_id, write=False)
    return JSONResponse({"grants": [g.to_dict() for g in found]})


def _grant(session: Session, principal: Principal, email: str, reason: str, duration_s: int) -> tuple[GrantInfo, list[UserInfo]]:
    found = users.find_user(session, users.normalise_email(email))
    if found is None or found[0].account_id != principal.account_id:
        raise NotFound(f"user {email.strip().lower()} not found", email=email)
    made = grants.grant(session, principal.account_id, found[0].id, principal.actor_id, reason, duration_s)
    return made, grants.overseers(session, principal.account_id, principal.actor_id)


def _revoke(session: Session, principal: Principal, grant_id: str) -> tuple[GrantInfo, list[UserInfo]]:
    revoked = grants.revoke(session, principal.account_id, grant_id)
    return revoked, grants.overseers(session, principal.account_id, principal.actor_id)


@guarded("access.grant")
async def create_grant(request: Request) -> JSONResponse:
    principal = principal_of(request)
    if principal.actor_type != "user":
        raise Forbidden("break-glass access is granted by a signed-in owner, not with an API key")
    body = await json_object(request, '{"email": "ana@example.com", "reason": "incident 42", "duration_s": 3600}')
    duration_s = body.get("duration_s")
    if duration_s is None:
        raise BadRequest("duration_s is required: how long the grant lasts, 60 to 86400 seconds", field="duration_s")
    made, notified = await _run(request, _grant, principal, required_text(body, "email"), required_text(body, "reason"), duration_s)
    await _audit_break_glass(request, principal, "grant", made, notified)
    return JSONResponse({**made.to_dict(), "notified": [u.email for u in notified]}, status_code=201)


@guarded("access.grant")
async def revoke_grant(request: Request) -> JSONResponse:
    principal = principal_of(request)
    revoked, notified = await _run(request, _revoke, principal, request.path_params["grant_id"])
    await _audit_break_glass(request, principal, "revoke", revoked, notified)
    return JSONResponse({**revoked.to_dict(), "notified": [u.email for u in notified]})


async def _audit_break_glass(request: Request, principal: Principal, event: str, made: GrantInfo, notified: list[UserInfo]) -> None:
    await audit(request, principal, "security.break_glass", target=f"user {made.user_email}", details={
        "event": event,
        "grant_id": made.id,
        "user_id": made.user_id,
        "email": made.user_email,
        "reason": made.reason,
        "expires_at": iso(made.expires_at),
        "revoked_at": iso(made.revoked_at),
        "notified": [{"id": u.id, "email": u.email, "role": u.role} for u in notified],
    })


routes = [
    Route("/api/v1/groups", list_groups, methods=["GET"]),
    Route("/api/v1/groups", create_group, methods=["POST"]),
    Route("/api/v1/groups/{name}", get_group, methods=["GET"]),
    Route("/api/v1/groups/{name}", update_group, methods=["PATCH"]),
    Route("/api/v1/groups/{name}", delete_group, methods=["DELETE"]),
    Route("/api/v1/groups/{name}/members", add_member, methods=["POST"]),
    Route("/api/v1/groups/{name}/members/{email}", remove_member, methods=["DELETE"]),
    Route("/api/v1/access-grants", list_grants, methods=["GET"]),
    Route("/api/v1/access-grants", create_grant, methods=["POST"]),
    Route("/api/v1/access-grants/{grant_id}", revoke_grant, methods=["DELETE"]),
]
