"""/api/v1/views: the viewer's saved views, shared by everyone in the account.

Reading needs `views.read`, saving and changing `views.manage` (members and up). Opening one
view is audited as `view.open` (who opened which view, and its query), changes as
`view.create`, `view.update` and `view.delete`. Another account's view is a 404, like one that
does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.meta import views
from timberyard.meta.views import ViewInfo
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.json_body import json_object

T = TypeVar("T")
EXAMPLE = '{"name": "payment errors", "category": "payments", "query": "app:payments level:error", "filters": {"hosts": ["web-1"]}, "range": "last 2 hours"}'


async def _transaction(request: Request, work: Callable[..., T], *args: Any, write: bool) -> T:
    """Run a repository function in one transaction, on a worker thread."""
    return await run_in_threadpool(request.app.state.node.meta.transact, work, *args, write=write)


def _target(view: ViewInfo) -> str:
    return f"view {view.id}"


def _described(view: ViewInfo) -> dict[str, object]:
    return {"name": view.name, "category": view.category, "query": view.query, "range": view.range}


@guarded("views.read")
async def list_views(request: Request) -> JSONResponse:
    found = await _transaction(request, views.list_views, principal_of(request).account_id, write=False)
    return JSONResponse({"views": [v.to_dict() for v in found]})


@guarded("views.manage")
async def create_view(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await json_object(request, EXAMPLE)
    created = await _transaction(request, views.create_view, principal.account_id, body, principal.actor_name, write=True)
    await audit(request, principal, "view.create", target=_target(created), query=created.query, details=_described(created))
    return JSONResponse(created.to_dict(), status_code=201)


@guarded("views.read")
async def get_view(request: Request) -> JSONResponse:
    principal = principal_of(request)
    found = await _transaction(request, views.get_view, principal.account_id, request.path_params["view_id"], write=False)
    await audit(request, principal, "view.open", target=_target(found), query=found.query, details=_described(found))
    return JSONResponse(found.to_dict())


@guarded("views.manage")
async def update_view(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await json_object(request, '{"name": "payment errors (eu)"}')
    updated = await _transaction(request, views.update_view, principal.account_id, request.path_params["view_id"], body, write=True)
    await audit(request, principal, "view.update", target=_target(updated), query=updated.query,
                details={**_described(updated), "changed": sorted(body)})
    return JSONResponse(updated.to_dict())


@guarded("views.manage")
async def delete_view(request: Request) -> JSONResponse:
    principal = principal_of(request)
    deleted = await _transaction(request, views.delete_view, principal.account_id, request.path_params["view_id"], write=True)
    await audit(request, principal, "view.delete", target=_target(deleted), query=deleted.query, details=_described(deleted))
    return JSONResponse(deleted.to_dict())


routes = [
    Route("/api/v1/views", list_views, methods=["GET"]),
    Route("/api/v1/views", create_view, methods=["POST"]),
    Route("/api/v1/views/{view_id}", get_view, methods=["GET"]),
    Route("/api/v1/views/{view_id}", update_view, methods=["PATCH"]),
    Route("/api/v1/views/{view_id}", delete_view, methods=["DELETE"]),
]
