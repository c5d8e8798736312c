"""/api/v1/archive: an account's archive settings, status, a destination probe and a run now;
searching archived lines and restoring a range into the store.

Everything but search needs `archives.manage` (admins): the settings say where the account's
lines leave the node, and a restore writes lines. Search needs what a search of live lines
needs (`logs.read`), runs within the caller's access scope and is audited as
`archive.search` with its query, like `search` is; its `next_cursor` pages on (see
search_archive). Credentials are accepted and never answered (`"***set***"`). Changes are
audited as `archive.configure` (with `rotated_key` when a new archive key became current),
probes as `archive.test`, on-demand runs as `archive.run`, never with credentials.
The rules live in archive/service.py and archive/exporter.py; this module only translates HTTP.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from timberyard.archive import restore, service
from timberyard.archive.search import search_files
from timberyard.archive.staging import Places
from timberyard.core.clock import now_ms
from timberyard.core.errors import BadRequest, NotFound, TimberyardError
from timberyard.meta import archives
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.api.lines import line_object
from timberyard.web.api.params import MAX_EPOCH, MAX_ID, decode_cursor, encode_cursor, search, time_range, whole_number
from timberyard.web.json_body import json_object

MAX_LIMIT = 10_000
MAX_FILES = 31 * 24  # a month of hourly files per search or restore; a longer range is several
DEFAULT_SPAN_MS = 86_400_000
NOT_CONFIGURED = "archiving is not configured for this account; PUT /api/v1/archive first"
CURSOR_FIELDS = {
    "ts": (0, MAX_EPOCH), "id": (0, MAX_ID), "from": (0, MAX_EPOCH), "to": (0, MAX_EPOCH),
    "q": (0, 2**32 - 1),  # crc32 of the query: a cursor continues only the search that made it
    "archived": (1, 1),  # an archive search's cursor, never the live search's (nor the other way round)
}
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
    await run_in_threadpool(service.check_new_destination, body, node.outbound)
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
    outcome: dict[str, Any] = await run_in_threadpool(service.probe, record, node.settings.resolved_archive_local_root, node.outbound)
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


async def _files(request: Request, record: archives.ArchiveRecord | None, from_ms: int, to_ms: int) -> list[archives.FileRecord]:
    """The account's delivered files overlapping the range, at most MAX_FILES of them."""
    if record is None:
        raise NotFound(NOT_CONFIGURED)
    node = request.app.state.node
    files: list[archives.FileRecord] = await run_in_threadpool(
        node.meta.transact, archives.files_between, record.account_id, from_ms, to_ms, write=False
    )
    if len(files) > MAX_FILES:
        raise BadRequest(f"the range holds {len(files)} archive files, more than {MAX_FILES} (a month); narrow from/to")
    return files


def _places(request: Request) -> Places:
    settings = request.app.state.node.settings
    return Places(settings.resolved_archive_local_root, settings.data_dir, request.app.state.node.outbound)


@guarded("logs.read")
async def search_archive(request: Request) -> JSONResponse:
    """The newest `limit` archived lines of the range matching `q`, read from the archive's
    files where they are; `next_cursor`, when more match, continues with older ones.

    The cursor is a position in the (ts, id) order plus the first page's range, nothing the
    server trusts: the account, the caller's scope and the files to read are derived again for
    every page (the account's own records of the range up to the cursor's hour, the same
    MAX_FILES bound), so an edited cursor reaches nothing a fresh search could not."""
    started = time.monotonic()
    node = request.app.state.node
    principal = principal_of(request)
    params = request.query_params
    compiled = search(params, "q", principal)
    limit = whole_number(params, "limit", 100, MAX_LIMIT)
    query_tag = zlib.crc32(params.get("q", "").encode())
    after = None
    if params.get("cursor"):
        state = decode_cursor(params["cursor"], "cursor", CURSOR_FIELDS)
        if state["q"] != query_tag:
            raise BadRequest("this cursor belongs to a search with another q; send the same q with it")
        if not state["from"] <= state["ts"] <= state["to"]:
            raise BadRequest("cursor is not one this server issued; start again without it")
        from_ms, to_ms, after = state["from"], state["to"], (state["ts"], state["id"])
    else:
        from_ms, to_ms = time_range(params, now_ms(), DEFAULT_SPAN_MS)
    record = await _record(request, principal.account_id)
    files = await _files(request, record, from_ms, to_ms if after is None else after[0])  # newer hours hold no older line
    assert record is not None  # _files refused otherwise
    details: dict[str, Any] = {"from": from_ms, "to": to_ms, "files": len(files)}
    if after is not None:
        details["after_ts"] = after[0]
    rows, _ = await asyncio.gather(
        run_in_threadpool(search_files, node.store, record, files, _places(request), from_ms, to_ms, compiled, limit + 1, after),
        audit(request, principal, "archive.search", query=params.get("q", ""), details=details),
    )
    next_cursor = None
    if len(rows) > limit:  # one more than asked: another page exists
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor({"ts": last["ts_ms"], "id": last["id"], "from": from_ms, "to": to_ms, "q": query_tag, "archived": 1})
    return JSONResponse({
        "lines": [{**line_object(row), "archived": True} for row in rows], "next_cursor": next_cursor, "from": from_ms, "to": to_ms,
        "files": len(files), "took_ms": round((time.monotonic() - started) * 1000),
    })


@guarded("archives.manage")
async def restore_range(request: Request) -> StreamingResponse:
    """Restore the archived lines of {"from", "to"} into the store. The answer streams one JSON
    object per line (x-ndjson): `start`, one `file` per archive file, then `done` (or `error`)."""
    node = request.app.state.node
    principal = principal_of(request)
    body = await json_object(request, '{"from": "2026-12-01T00:00:00Z", "to": "2026-12-01T23:59:59Z"}')
    if principal.scope is not None:
        raise BadRequest("a restore writes every line of the range; it needs a key or user without a group scope")
    from_ms, to_ms = time_range({name: str(body[name]) for name in ("from", "to") if body.get(name) is not None})
    account = await run_in_threadpool(node.meta.get_account, principal.account_id)
    restore.check_range(from_ms, to_ms, account.retention_days if account else node.settings.retention_days)
    record = await _record(request, principal.account_id)
    files = await _files(request, record, from_ms, to_ms)
    assert record is not None  # _files refused otherwise
    events = restore.restore(node.pipeline, node.store, node.batcher, record, files, _places(request), from_ms, to_ms)
    first = await anext(events)  # refusals (a restore already running) are still an HTTP status
    details = {"from": from_ms, "to": to_ms, "files": len(files)}
    try:
        await audit(request, principal, "archive.restore", target="archive", details=details)
    except BaseException:
        await events.aclose()
        raise

    async def stream() -> AsyncIterator[bytes]:
        try:
            yield orjson.dumps(first) + b"\n"
            async for event in events:
                if event["event"] == "done":
                    await audit(request, principal, "archive.restore.done", target="archive", details={**details, **event})
                yield orjson.dumps(event) + b"\n"
        except TimberyardError as exc:
            await audit(request, principal, "archive.restore.done", outcome="failure", target="archive",
                        details={**details, "error": exc.message[:500]})
            yield orjson.dumps({"event": "error", "error": exc.message, "code": exc.code}) + b"\n"
        finally:
            await events.aclose()  # a client that went away stops the restore; running it again resumes it

    return StreamingResponse(stream(), media_type="application/x-ndjson")


routes = [
    Route("/api/v1/archive", get_settings, methods=["GET"]),
    Route("/api/v1/archive", put_settings, methods=["PUT"]),
    Route("/api/v1/archive/test", test_destination, methods=["POST"]),
    Route("/api/v1/archive/run", run_now, methods=["POST"]),
    Route("/api/v1/archive/status", get_status, methods=["GET"]),
    Route("/api/v1/archive/search", search_archive, methods=["GET"]),
    Route("/api/v1/archive/restore", restore_range, methods=["POST"]),
]
