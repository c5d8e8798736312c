"""/api/v1/keys: list, create, revoke and rotate ingestion and service keys (`keys.manage`: admins)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.errors import BadRequest
from timberyard.meta.api_keys import DEFAULT_ROTATION_GRACE_S
from timberyard.meta.info import iso
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.json_body import json_object, optional_text


@guarded("keys.manage")
async def list_keys(request: Request) -> JSONResponse:
    key = principal_of(request)
    keys = await run_in_threadpool(request.app.state.node.meta.list_keys, key.account_id)
    return JSONResponse({"keys": [k.to_dict() for k in keys]})


@guarded("keys.manage")
async def create_key(request: Request) -> JSONResponse:
    key = principal_of(request)
    body = await json_object(request, '{"type": "ingestion"}')
    kind, name, role = body.get("type"), optional_text(body, "name"), optional_text(body, "role")
    if kind not in ("ingestion", "service"):
        raise BadRequest('type must be "ingestion" or "service"')
    info, secret = await run_in_threadpool(request.app.state.node.meta.create_key, key.account_id, kind, name, role)
    await audit(request, key, "key.create", target=f"key {info.id}", details={"type": kind, "role": info.role, "name": name})
    return JSONResponse({**info.to_dict(), "key": secret}, status_code=201)


@guarded("keys.manage")
async def revoke_key(request: Request) -> JSONResponse:
    key = principal_of(request)
    revoked = await run_in_threadpool(request.app.state.node.keyring.revoke, key.account_id, request.path_params["key_id"])
    await audit(request, key, "key.revoke", target=f"key {revoked.id}")
    return JSONResponse(revoked.to_dict())


@guarded("keys.manage")
async def rotate_key(request: Request) -> JSONResponse:
    """A successor key (same type, role, name); the old secret keeps working for `grace_s`."""
    key = principal_of(request)
    body = await json_object(request, '{"grace_s": 3600}')
    grace_s = body.get("grace_s", DEFAULT_ROTATION_GRACE_S)
    rotated = await run_in_threadpool(request.app.state.node.keyring.rotate, key.account_id, request.path_params["key_id"], grace_s)
    await audit(request, key, "key.rotate", target=f"key {rotated.old.id}",
                details={"new_key": rotated.key.id, "old_key_expires_at": iso(rotated.old.expires_at), "grace_s": grace_s})
    return JSONResponse(rotated.to_json_dict(), status_code=201)


routes = [
    Route("/api/v1/keys", list_keys, methods=["GET"]),
    Route("/api/v1/keys", create_key, methods=["POST"]),
    Route("/api/v1/keys/{key_id}", revoke_key, methods=["DELETE"]),
    Route("/api/v1/keys/{key_id}/rotate", rotate_key, methods=["POST"]),
]
