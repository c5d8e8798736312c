"""GET /v1/export and /v2/export: LogDNA's export APIs (v1: newline-delimited JSON in time
order; v2: JSON pages with a `pagination_id`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route

from timberyard.auth.principal import Principal
from timberyard.parse.levels import normalise_level
from timberyard.store.export import export_line
from timberyard.store.queries import LineQuery, select_lines
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.api.params import (
    MAX_EPOCH,
    MAX_ID,
    choice,
    decode_cursor,
    encode_cursor,
    search,
    text_list,
    time_range,
    whole_number,
)

MAX_SIZE = 10_000
PAGINATION_FIELDS = {"ts": (0, MAX_EPOCH), "id": (0, MAX_ID)}


@guarded("logs.read")
async def export(request: Request) -> StreamingResponse:
    node = request.app.state.node
    principal = principal_of(request)
    query = _line_query(principal, request.query_params)
    sql, params = select_lines(query)
    await _audit(request, principal, query)
    rows = await run_in_threadpool(node.store.select, sql, params)
    if query.prefer == "tail":
        rows.reverse()
    return StreamingResponse(_ndjson(rows), media_type="application/x-ndjson")


@guarded("logs.read")
async def export_v2(request: Request) -> JSONResponse:
    """LogDNA's v2 export: pages of lines oldest first; `pagination_id` continues strictly after
    the last line of the previous page in (ts, id) order, so each line comes exactly once."""
    node = request.app.state.node
    principal = principal_of(request)
    query = _line_query(principal, request.query_params, prefer="head")
    token = request.query_params.get("pagination_id")
    if token:
        position = decode_cursor(token, "pagination_id", PAGINATION_FIELDS)
        query = replace(query, after=(position["ts"], position["id"]))
    sql, params = select_lines(replace(query, limit=query.limit + 1))
    await _audit(request, principal, query)
    rows = await run_in_threadpool(node.store.select, sql, params)
    next_id = None
    if len(rows) > query.limit:
        rows = rows[: query.limit]
        next_id = encode_cursor({"ts": rows[-1]["ts_ms"], "id": rows[-1]["id"]})
    return JSONResponse({"lines": [export_line(row) for row in rows], "pagination_id": next_id})


async def _audit(request: Request, principal: Principal, query: LineQuery) -> None:
    await audit(request, principal, "export", query=request.query_params.get("query", ""),
                details={"from": query.from_ms, "to": query.to_ms, "size": query.limit, "path": request.url.path})


def _line_query(principal: Principal, params: Any, prefer: str | None = None) -> LineQuery:
    if prefer is None:
        prefer = choice(params, "prefer", ("head", "tail"), "tail")
    from_ms, to_ms = time_range(params)
    return LineQuery(
        account=principal.account_id,
        from_ms=from_ms,
        to_ms=to_ms,
        limit=whole_number(params, "size", MAX_SIZE, MAX_SIZE),
        search=search(params, "query", principal),
        hosts=text_list(params, "hosts"),
        apps=text_list(params, "apps"),
        levels=tuple(normalise_level(level) for level in text_list(params, "levels")),
        tags=text_list(params, "tags"),
        prefer=prefer,  # type: ignore[arg-type]
    )


def _ndjson(rows: list[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        yield orjson.dumps(export_line(row)) + b"\n"


routes = [Route("/v1/export", export, methods=["GET"]), Route("/v2/export", export_v2, methods=["GET"])]
