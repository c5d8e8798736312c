"""The search APIs: lines with keyset paging, a time histogram, top values of a field, and the
lines around one line. Each needs `logs.read` and is limited to the caller's account and access
scope; each is written to the audit trail with its query."""

from __future__ import annotations

import asyncio
import math
import time
import zlib
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.auth.principal import Principal
from timberyard.core.clock import now_ms
from timberyard.core.errors import BadRequest, NotFound
from timberyard.search import QuerySyntaxError, compile_sql
from timberyard.search.fields import BUILT_IN, resolve_field
from timberyard.store.aggregates import GROUP_COLUMNS, select_facet, select_histogram
from timberyard.store.queries import (
    LineQuery,
    select_line_by_id,
    select_lines,
    select_neighbours,
)
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.api.lines import line_object
from timberyard.web.api.params import (
    MAX_EPOCH,
    MAX_ID,
    choice,
    decode_cursor,
    encode_cursor,
    integer,
    search,
    time_range,
    whole_number,
)

DEFAULT_SPAN_MS = 3_600_000
MAX_LIMIT = 10_000
MAX_BUCKETS = 1_000
MAX_FACETS = 1_000
MAX_CONTEXT = 500
CURSOR_FIELDS = {
    "ts": (0, MAX_EPOCH), "id": (0, MAX_ID), "from": (0, MAX_EPOCH), "to": (0, MAX_EPOCH), "asc": (0, 1),
    "q": (0, 2**32 - 1),  # crc32 of the query: a cursor continues only the search that made it
}
SCOPES = {"host": ("host",), "app": ("app",), "both": ("host", "app")}


@guarded("logs.read")
async def search_lines(request: Request) -> JSONResponse:
    """A page of matching lines, newest first by default. The cursor carries the page's time
    range and order, so later pages keep the range of the first even when `to` defaulted to now."""
    started = time.monotonic()
    principal = principal_of(request)
    params = request.query_params
    compiled = search(params, "q", principal)
    limit = whole_number(params, "limit", 100, MAX_LIMIT)
    token = params.get("cursor")
    after = None
    query_tag = zlib.crc32(params.get("q", "").encode())
    if token:
        state = decode_cursor(token, "cursor", CURSOR_FIELDS)
        if state["q"] != query_tag:
            raise BadRequest("this cursor belongs to a search with another q; send the same q with it")
        from_ms, to_ms, order, after = state["from"], state["to"], "asc" if state["asc"] else "desc", (state["ts"], state["id"])
    else:
        from_ms, to_ms = time_range(params, now_ms(), DEFAULT_SPAN_MS)
        order = choice(params, "order", ("desc", "asc"), "desc")
    query = LineQuery(
        account=principal.account_id,
        from_ms=from_ms,
        to_ms=to_ms,
        limit=limit + 1,  # one more tells whether another page exists
        search=compiled,
        prefer="head" if order == "asc" else "tail",
        after=after,
    )
    rows = await _audited(
        request, principal, "search", select_lines(query), query=params.get("q", ""), details={"from": from_ms, "to": to_ms}
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            {"ts": last["ts_ms"], "id": last["id"], "from": from_ms, "to": to_ms, "asc": int(order == "asc"), "q": query_tag}
        )
    return JSONResponse(
        {"lines": [line_object(row) for row in rows], "next_cursor": next_cursor, "from": from_ms, "to": to_ms, "took_ms": _took(started)}
    )


@guarded("logs.read")
async def histogram(request: Request) -> JSONResponse:
    principal = principal_of(request)
    params = request.query_params
    compiled = search(params, "q", principal)
    from_ms, to_ms = time_range(params, now_ms(), DEFAULT_SPAN_MS)
    buckets = whole_number(params, "buckets", 60, MAX_BUCKETS)
    by = choice(params, "by", GROUP_COLUMNS, None)
    width = max(1, math.ceil((to_ms - from_ms) / buckets))
    statement = select_histogram(principal.account_id, from_ms, to_ms, compiled, width, buckets, by)
    rows = await _audited(
        request, principal, "histogram", statement, query=params.get("q", ""), details={"from": from_ms, "to": to_ms}
    )
    counts = [0] * buckets
    split: list[dict[str, int]] = [{} for _ in range(buckets)]
    for row in rows:
        for index, count in enumerate(row["counts"]):
            counts[index] += count
            if by is not None and count:
                split[index][row["value"]] = count
    result = []
    for index in range(buckets):
        bucket: dict[str, Any] = {"ts": from_ms + index * width, "count": counts[index]}
        if by is not None:
            bucket["by"] = split[index]
        result.append(bucket)
    return JSONResponse({"interval_ms": width, "buckets": result})


@guarded("logs.read")
async def facets(request: Request) -> JSONResponse:
    principal = principal_of(request)
    params = request.query_params
    compiled = search(params, "q", principal)
    from_ms, to_ms = time_range(params, now_ms(), DEFAULT_SPAN_MS)
    limit = whole_number(params, "limit", 20, MAX_FACETS)
    name = params.get("field", "").strip()
    accepted = f"one of {', '.join(BUILT_IN)}, or a field path like status or user.id (meta. optional)"
    if not name:
        raise BadRequest(f"missing param field: {accepted}")
    try:
        field = resolve_field(name, 0)
    except QuerySyntaxError as error:
        raise BadRequest(f"field {name[:60]!r}: {error.message}; field is {accepted}") from None
    statement = select_facet(principal.account_id, from_ms, to_ms, compiled, field, limit)
    rows = await _audited(
        request, principal, "facets", statement, query=params.get("q", ""), target=name, details={"from": from_ms, "to": to_ms}
    )
    return JSONResponse({"field": name, "values": [{"value": str(row["value"]), "count": int(row["count"])} for row in rows]})


@guarded("logs.read")
async def context(request: Request) -> JSONResponse:
    node = request.app.state.node
    principal = principal_of(request)
    params = request.query_params
    raw_id = params.get("id", "")
    line_id = integer(raw_id)
    if line_id is None or line_id > MAX_ID:
        raise BadRequest(f"id must be a line id (a whole number), got {raw_id[:30]!r}")
    before = whole_number(params, "before", 20, MAX_CONTEXT, minimum=0)
    after = whole_number(params, "after", 20, MAX_CONTEXT, minimum=0)
    scope_name = choice(params, "scope", tuple(SCOPES), "host")
    scope = None if principal.scope is None else compile_sql(principal.scope, prefix="s")
    await audit(request, principal, "context", target=f"line {raw_id}", details={"scope": scope_name})
    found = await run_in_threadpool(node.store.select, *select_line_by_id(principal.account_id, line_id, scope))
    if not found:
        raise NotFound(f"no line with id {raw_id} in this account")
    line = found[0]
    position = (line["ts_ms"], line["id"])
    same = {column: line[column] for column in SCOPES[scope_name or "host"]}
    sides: dict[str, list[dict[str, Any]]] = {}
    for direction, count in (("before", before), ("after", after)):
        rows = []
        if count:
            sql, sql_params = select_neighbours(principal.account_id, position, same, count, direction, scope)  # type: ignore[arg-type]
            rows = await run_in_threadpool(node.store.select, sql, sql_params)
        if direction == "before":
            rows.reverse()  # nearest first from the store; oldest first in the answer
        sides[direction] = [line_object(row) for row in rows]
    return JSONResponse({"line": line_object(line), **sides})


async def _audited(
    request: Request, principal: Principal, action: str, statement: tuple[str, dict[str, Any]], **entry: Any
) -> list[dict[str, Any]]:
    """Run a read and write its audit entry side by side; the rows are returned only when both
    succeeded, so no data leaves without its audit record."""
    node = request.app.state.node
    rows, _ = await asyncio.gather(run_in_threadpool(node.store.select, *statement), audit(request, principal, action, **entry))
    return rows  # type: ignore[no-any-return]


def _took(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


routes = [
    Route("/api/v1/search", search_lines, methods=["GET"]),
    Route("/api/v1/histogram", histogram, methods=["GET"]),
    Route("/api/v1/facets", facets, methods=["GET"]),
    Route("/api/v1/context", context, methods=["GET"]),
]
