"""/api/v1/channels: where an account's alerts are delivered (webhook, email, Slack, PagerDuty).

Reading needs `views.read`, so whoever sees the account's alerts sees where they go; every
secret is masked for every reader (alerts/channels.py). Creating, changing, deleting and
testing need `integrations.manage` (admins): a channel holds account-wide credentials and
decides where log lines leave the node. Changes are audited as `channel.create`,
`channel.update`, `channel.delete` and `channel.test`, without the secrets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.alerts import channels
from timberyard.alerts.notification import sample
from timberyard.core.errors import NotFound
from timberyard.meta import alert_channels
from timberyard.meta.alert_channels import ChannelInfo
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.json_body import json_object

T = TypeVar("T")
EXAMPLE = '{"name": "ops webhook", "kind": "webhook", "config": {"url": "https://hooks.example.com/x", "headers": {"Authorization": "Bearer ..."}}}'


async def _transaction(request: Request, work: Callable[..., T], *args: Any, write: bool) -> T:
    node = request.app.state.node
    return await run_in_threadpool(node.meta.transact, work, node.channel_sealer, *args, write=write)


def _id(request: Request) -> int:
    raw = request.path_params["channel_id"]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise NotFound(f"channel {raw!r} not found", channel=raw)
    return int(raw)


def _details(channel: ChannelInfo) -> dict[str, object]:
    return {"name": channel.name, "kind": channel.kind}


@guarded("views.read")
async def list_channels(request: Request) -> JSONResponse:
    found = await _transaction(request, alert_channels.list_channels, principal_of(request).account_id, write=False)
    return JSONResponse({"channels": [channels.public(c) for c in found]})


@guarded("integrations.manage")
async def create_channel(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await json_object(request, EXAMPLE)
    name, kind, config = await run_in_threadpool(channels.checked_new, body, request.app.state.node.delivery.policy)
    created = await _transaction(request, alert_channels.create_channel, principal.account_id, name, kind, config,
                                 principal.actor_name, write=True)
    await audit(request, principal, "channel.create", target=f"channel {created.id}", details=_details(created))
    return JSONResponse(channels.public(created), status_code=201)


@guarded("views.read")
async def get_channel(request: Request) -> JSONResponse:
    found = await _transaction(request, alert_channels.get_channel, principal_of(request).account_id, _id(request), write=False)
    return JSONResponse(channels.public(found))


@guarded("integrations.manage")
async def update_channel(request: Request) -> JSONResponse:
    principal = principal_of(request)
    channel_id = _id(request)
    body = await json_object(request, '{"config": {"url": "https://hooks.example.com/y"}}')
    current = await _transaction(request, alert_channels.get_channel, principal.account_id, channel_id, write=False)
    name, config = await run_in_threadpool(channels.checked_change, current, body, request.app.state.node.delivery.policy)
    updated = await _transaction(request, alert_channels.update_channel, principal.account_id, channel_id, name, config, write=True)
    changed = sorted(body.get("config", {})) if isinstance(body.get("config"), dict) else []
    await audit(request, principal, "channel.update", target=f"channel {channel_id}",
                details={**_details(updated), "changed": sorted(k for k in body if k != "config") + [f"config.{k}" for k in changed]})
    return JSONResponse(channels.public(updated))


@guarded("integrations.manage")
async def delete_channel(request: Request) -> JSONResponse:
    principal = principal_of(request)
    deleted = await _transaction(request, alert_channels.delete_channel, principal.account_id, _id(request), write=True)
    await audit(request, principal, "channel.delete", target=f"channel {deleted.id}", details=_details(deleted))
    return JSONResponse(channels.public(deleted))


@guarded("integrations.manage")
async def test_channel(request: Request) -> JSONResponse:
    """Send a sample notification now and report what the receiver said."""
    principal = principal_of(request)
    channel = await _transaction(request, alert_channels.get_channel, principal.account_id, _id(request), write=False)
    notification = sample(principal.account_id, str(request.base_url))
    outcome = await run_in_threadpool(request.app.state.node.delivery.test, channel, notification)
    await audit(request, principal, "channel.test", outcome="success" if outcome.ok else "failure",
                target=f"channel {channel.id}", details={**_details(channel), "status": outcome.status, "error": outcome.error})
    return JSONResponse({"ok": outcome.ok, "status": outcome.status, "error": outcome.error})


routes = [
    Route("/api/v1/channels", list_channels, methods=["GET"]),
    Route("/api/v1/channels", create_channel, methods=["POST"]),
    Route("/api/v1/channels/{channel_id}", get_channel, methods=["GET"]),
    Route("/api/v1/channels/{channel_id}", update_channel, methods=["PATCH"]),
    Route("/api/v1/channels/{channel_id}", delete_channel, methods=["DELETE"]),
    Route("/api/v1/channels/{channel_id}/test", test_channel, methods=["POST"]),
]
