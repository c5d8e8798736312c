"""GET /v1/export: LogDNA's export API, newline-delimited JSON in time order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from timberyard.core.errors import BadRequest
from timberyard.parse.timestamps import SECONDS_CUTOFF
from timberyard.search import compile_sql, parse
from timberyard.store.queries import LineQuery, select_lines
from timberyard.web.credentials import service_key

MAX_SIZE = 10_000
RESERVED = {"_ts", "_host", "_app", "_line", "level", "_file", "_tag", "_lid", "_ip", "_mac", "_env", "_label", "_annotation", "_meta"}


async def export(request: Request) -> StreamingResponse:
    node = request.app.state.node
    key = service_key(request)
    query = _line_query(key.account_id, request.query_params)
    sql, params = select_lines(query)
    rows = await run_in_threadpool(node.store.select, sql, params)
    if query.prefer == "tail":
        rows.reverse()
    return StreamingResponse(_ndjson(rows), media_type="application/x-ndjson")


def _line_query(account: str, params: Any) -> LineQuery:
    prefer = params.get("prefer", "tail")
    if prefer not in ("head", "tail"):
        raise BadRequest(f"prefer must be head or tail, got {prefer[:20]!r}")
    return LineQuery(
        account=account,
        from_ms=_epoch_ms(params, "from"),
        to_ms=_epoch_ms(params, "to"),
        limit=_size(params.get("size")),
        search=compile_sql(parse(params.get("query", ""))),
        hosts=_list(params, "hosts"),
        apps=_list(params, "apps"),
        levels=tuple(level.upper() for level in _list(params, "levels")),
        tags=_list(params, "tags"),
        prefer=prefer,
    )


def _epoch_ms(params: Any, name: str) -> int:
    value = params.get(name)
    if value is None or not value.strip():
        raise BadRequest(f"missing param {name}: a UNIX time in seconds or milliseconds")
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"{name} must be a UNIX time in seconds or milliseconds, got {value[:40]!r}") from None
    if not 0 <= number < 2**53:
        raise BadRequest(f"{name} is out of range: {value[:40]}")
    return number * 1000 if number < SECONDS_CUTOFF else number


def _size(value: str | None) -> int:
    if value is None:
        return MAX_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_SIZE:
        raise BadRequest(f"size must be a whole number from 1 to {MAX_SIZE}, got {value[:20]!r}")
    return int(value)


def _list(params: Any, name: str) -> tuple[str, ...]:
    return tuple(item.strip() for value in params.getlist(name) for item in value.split(",") if item.strip())


def _ndjson(rows: list[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        yield orjson.dumps(export_line(row)) + b"\n"


def export_line(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row in LogDNA's export shape: reserved `_` fields, then the meta fields."""
    meta = orjson.loads(row["meta"]) if row["meta"] else None
    line: dict[str, Any] = {}
    if meta:
        line.update((k, v) for k, v in meta.items() if k not in RESERVED)
    line.update(
        {
            "_ts": row["ts_ms"],
            "_host": row["host"],
            "_app": row["app"],
            "_line": row["line"],
            "level": row["level"],
            "_file": row["file"],
            "_tag": row["tags"],
            "_lid": str(row["id"]),
            "_ip": row["ip"],
            "_mac": row["mac"],
        }
    )
    if row["env"]:
        line["_env"] = row["env"]
    if row["labels"]:
        line["_label"] = row["labels"]
    if row["annotations"]:
        line["_annotation"] = row["annotations"]
    if meta:
        line["_meta"] = meta
    return line


routes = [Route("/v1/export", export, methods=["GET"])]
