"""/api/v1/keys: list, create and revoke ingestion and service keys (admin service keys only)."""

from __future__ import annotations

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.errors import BadRequest
from timberyard.web.credentials import service_key


async def list_keys(request: Request) -> JSONResponse:
    key = service_key(request, admin=True)
    keys = await run_in_threadpool(request.app.state.node.meta.list_keys, key.account_id)
    return JSONResponse({"keys": [k.to_dict() for k in keys]})


async def create_key(request: Request) -> JSONResponse:
    key = service_key(request, admin=True)
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object like {"type": "ingestion"}')
    kind, name, role = body.get("type"), body.get("name"), body.get("role")
    if kind not in ("ingestion", "service"):
        raise BadRequest('type must be "ingestion" or "service"')
    if name is not None and not isinstance(name, str):
        raise BadRequest("name must be a string")
    if role is not None and not isinstance(role, str):
        raise BadRequest("role must be a string")
    info, secret = await run_in_threadpool(request.app.state.node.meta.create_key, key.account_id, kind, name, role)
    return JSONResponse({**info.to_dict(), "key": secret}, status_code=201)


async def revoke_key(request: Request) -> JSONResponse:
    key = service_key(request, admin=True)
    revoked = await run_in_threadpool(request.app.state.node.keyring.revoke, key.account_id, request.path_params["key_id"])
    return JSONResponse(revoked.to_dict())


routes = [
    Route("/api/v1/keys", list_keys, methods=["GET"]),
    Route("/api/v1/keys", create_key, methods=["POST"]),
    Route("/api/v1/keys/{key_id}", revoke_key, methods=["DELETE"]),
]
