"""/api/v1/alerts: alert definitions, muting, dry runs and firing history.

Reading needs `views.read`, changing `alerts.manage` (members and up; a security alert,
`security_alerts.manage`: owners, checked by the service). Changes are audited as
`alert.create`, `alert.update`, `alert.delete`, `alert.mute` and `alert.unmute`; a dry run as
`alert.test` (it reads lines). Another account's alert is a 404, like one that does not exist.
The rules live in alerts/service.py; this module only translates HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.alerts import service
from timberyard.alerts.service import AlertInfo
from timberyard.auth.principal import Principal
from timberyard.core.errors import BadRequest, NotFound
from timberyard.meta import alert_channels
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.json_body import json_object

T = TypeVar("T")
EXAMPLE = '{"name": "payment errors", "kind": "presence", "query": "app:payments level:error", "threshold": 10, "interval": "5m", "channel_ids": [1]}'
MAX_HISTORY = 500


async def _transaction(request: Request, work: Callable[..., T], *args: Any, write: bool) -> T:
    return await run_in_threadpool(request.app.state.node.meta.transact, work, *args, write=write)


def _alert_id(request: Request) -> int:
    text = request.path_params["alert_id"]
    if not text.isdigit() or len(text) > 18:
        raise NotFound(f"alert {text!r} not found", alert=text)
    return int(text)


async def _scope_of(request: Request, principal: Principal) -> list[str] | None:
    """The caller's group scope queries (None: unlimited), kept with what they save."""
    if principal.scope is None:
        return None
    return await run_in_threadpool(request.app.state.node.access.scope_queries_of_user, principal.actor_id)


async def _audited(request: Request, action: str, alert: AlertInfo, **details: Any) -> None:
    definition = alert.definition
    await audit(request, principal_of(request), action, target=f"alert {alert.record.id}", query=definition.query,
                details={"name": definition.name, "kind": definition.kind, **details})


async def _write(
    request: Request, action: str, work: Callable[..., AlertInfo], *args: Any, status_code: int = 200, **details: Any
) -> JSONResponse:
    """Every change of an alert: `work` in a write transaction, audited as `action`, this node's
    evaluator told to reload, the alert as it now is in the answer."""
    alert = await _transaction(request, work, *args, write=True)
    await _audited(request, action, alert, **details)
    engine = getattr(request.app.state.node, "alert_engine", None)
    if engine is not None:
        engine.changed()
    return JSONResponse(alert.to_dict(), status_code=status_code)


@guarded("views.read")
async def list_alerts(request: Request) -> JSONResponse:
    found = await _transaction(request, service.list_alerts, principal_of(request).account_id, write=False)
    return JSONResponse({"alerts": [alert.to_dict() for alert in found]})


@guarded("alerts.manage")
async def create_alert(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await json_object(request, EXAMPLE)
    scope = await _scope_of(request, principal)
    return await _write(request, "alert.create", partial(service.create_alert, role=principal.role), principal.account_id, body,
                        scope, principal.actor_name, status_code=201)


@guarded("views.read")
async def get_alert(request: Request) -> JSONResponse:
    found = await _transaction(request, service.get_alert, principal_of(request).account_id, _alert_id(request), write=False)
    return JSONResponse(found.to_dict())


@guarded("alerts.manage")
async def update_alert(request: Request) -> JSONResponse:
    principal = principal_of(request)
    alert_id = _alert_id(request)
    body = await json_object(request, '{"threshold": 20}')
    scope = await _scope_of(request, principal)
    return await _write(request, "alert.update", partial(service.update_alert, role=principal.role), principal.account_id,
                        alert_id, body, scope, changed=sorted(body))


@guarded("alerts.manage")
async def delete_alert(request: Request) -> JSONResponse:
    principal = principal_of(request)
    return await _write(request, "alert.delete", partial(service.delete_alert, role=principal.role), principal.account_id,
                        _alert_id(request))


@guarded("alerts.manage")
async def mute_alert(request: Request) -> JSONResponse:
    principal = principal_of(request)
    alert_id = _alert_id(request)
    body = await json_object(request, '{"until": "2026-12-05T18:00:00Z"}')
    unknown = sorted(set(body) - {"until"})
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}; mute takes only until", field=unknown[0])
    return await _write(request, "alert.mute", partial(service.mute, role=principal.role), principal.account_id, alert_id,
                        body.get("until"), until=body.get("until"))


@guarded("alerts.manage")
async def unmute_alert(request: Request) -> JSONResponse:
    principal = principal_of(request)
    return await _write(request, "alert.unmute", partial(service.unmute, role=principal.role), principal.account_id,
                        _alert_id(request))


@guarded("alerts.manage")
async def test_alert(request: Request) -> JSONResponse:
    """A dry run over the last interval against the store (nothing recorded); with
    `{"send": true}` also a test notification to each of the alert's channels, now."""
    principal = principal_of(request)
    node = request.app.state.node
    alert_id = _alert_id(request)
    body = await json_object(request, '{"send": true}')
    if set(body) - {"send"} or not isinstance(body.get("send", False), bool):
        raise BadRequest('test takes only {"send": true|false}', field="send")
    alert = await _transaction(request, service.get_alert, principal.account_id, alert_id, write=False)
    await _audited(request, "alert.test", alert, send=body.get("send", False))
    result: dict[str, Any] = await run_in_threadpool(service.dry_run, node.store, principal.account_id, alert, principal.scope, datetime.now(UTC))
    if body.get("send"):
        notification = service.test_notification(alert, result, str(request.base_url))
        result["sent"] = []
        for channel_id in alert.definition.channel_ids:
            try:
                channel = await run_in_threadpool(
                    node.meta.transact, alert_channels.get_channel, node.channel_sealer, principal.account_id, channel_id, write=False
                )
            except NotFound as exc:
                result["sent"].append({"channel_id": channel_id, "ok": False, "status": None, "error": exc.message})
                continue
            outcome = await run_in_threadpool(node.delivery.test, channel, notification)
            result["sent"].append({"channel_id": channel_id, "ok": outcome.ok, "status": outcome.status, "error": outcome.error})
    return JSONResponse(result)


@guarded("views.read")
async def alert_history(request: Request) -> JSONResponse:
    principal = principal_of(request)
    limit = request.query_params.get("limit", "100")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_HISTORY:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_HISTORY}", field="limit")
    scope = await _scope_of(request, principal)
    firings = await _transaction(request, service.history, principal.account_id, _alert_id(request), scope, int(limit), write=False)
    return JSONResponse({"firings": firings})


routes = [
    Route("/api/v1/alerts", list_alerts, methods=["GET"]),
    Route("/api/v1/alerts", create_alert, methods=["POST"]),
    Route("/api/v1/alerts/{alert_id}", get_alert, methods=["GET"]),
    Route("/api/v1/alerts/{alert_id}", update_alert, methods=["PATCH"]),
    Route("/api/v1/alerts/{alert_id}", delete_alert, methods=["DELETE"]),
    Route("/api/v1/alerts/{alert_id}/test", test_alert, methods=["POST"]),
    Route("/api/v1/alerts/{alert_id}/mute", mute_alert, methods=["POST"]),
    Route("/api/v1/alerts/{alert_id}/unmute", unmute_alert, methods=["POST"]),
    Route("/api/v1/alerts/{alert_id}/history", alert_history, methods=["GET"]),
]
