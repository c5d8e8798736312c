"""/api/v1/archive: an account's archive settings, status, a destination probe and a run now.

Everything here needs `archives.manage` (admins): the settings say where the account's lines
leave the node. Credentials are accepted and never answered (`"***set***"`). Changes are
audited as `archive.configure` (with `rotated_key` when a new archive key became current),
probes as `archive.test`, on-demand runs as `archive.run`, never with credentials.
The rules live in archive/service.py and archive/exporter.py; this module only translates HTTP.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.archive import service
from timberyard.meta import archives
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.json_body import json_object

EXAMPLE = '{"enabled": true, "encryption": true, "destination": {"type": "s3", "bucket": "acme-logs", "region": "eu-west-1", "access_key_id": "AKIA...", "secret_access_key": "..."}}'


async def _record(request: Request, account_id: str) -> archives.ArchiveRecord | None:
    node = request.app.state.node
    return await run_in_threadpool(node.meta.transact, archives.get, node.archive_sealer, account_id, write=False)


@guarded("archives.manage")
async def get_settings(request: Request) -> JSONResponse:
    return JSONResponse(service.view(await _record(request, principal_of(request).account_id)))


@guarded("archives.manage")
async def put_settings(request: Request) -> JSONResponse:
    node = request.app.state.node
    principal = principal_of(request)
    body = await json_object(request, EXAMPLE)
    record, rotated = await run_in_threadpool(node.meta.transact, service.configure, node.archive_sealer, principal.account_id,
                                              body, principal.actor_name, write=True)
    if record.enabled:
        node.archiver.track(record.account_id, record.watermark_id)
    else:
        node.archiver.forget(record.account_id)
    destination = record.config.get("destination") or {}
    await audit(request, principal, "archive.configure", target="archive",
                details={"changed": sorted(body), "enabled": record.enabled, "destination_type": destination.get("type"),
                         "encryption": record.config.get("encryption"), "rotated_key": rotated})
    return JSONResponse(service.view(record))


@guarded("archives.manage")
async def test_destination(request: Request) -> JSONResponse:
    node = request.app.state.node
    principal = principal_of(request)
    record = await _record(request, principal.account_id)
    outcome: dict[str, Any] = await run_in_threadpool(service.probe, record, node.settings.resolved_archive_local_root)
    await audit(request, principal, "archive.test", outcome="success" if outcome["ok"] else "failure", target="archive",
                details={"error": outcome["error"]})
    return JSONResponse(outcome)


@guarded("archives.manage")
async def run_now(request: Request) -> JSONResponse:
    node = request.app.state.node
    principal = principal_of(request)
    try:
        result = await run_in_threadpool(node.archiver.run, principal.account_id)
    except Exception as exc:
        await audit(request, principal, "archive.run", outcome="failure", target="archive", details={"error": str(exc)[:500]})
        raise
    await audit(request, principal, "archive.run", target="archive",
                details={"files": len(result.files), "lines": result.lines, "digest": result.digest_key})
    return JSONResponse(result.to_dict())


@guarded("archives.manage")
async def get_status(request: Request) -> JSONResponse:
    node = request.app.state.node
    account_id = principal_of(request).account_id
    lag = node.archiver.lag_seconds().get(account_id)
    answer = await run_in_threadpool(node.meta.transact, service.status, node.archive_sealer, account_id, lag, write=False)
    return JSONResponse(answer)


routes = [
    Route("/api/v1/archive", get_settings, methods=["GET"]),
    Route("/api/v1/archive", put_settings, methods=["PUT"]),
    Route("/api/v1/archive/test", test_destination, methods=["POST"]),
    Route("/api/v1/archive/run", run_now, methods=["POST"]),
    Route("/api/v1/archive/status", get_status, methods=["GET"]),
]
