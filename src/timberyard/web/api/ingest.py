"""POST /logs/ingest and /logs/agent: LogDNA's ingestion API.

The official LogDNA libraries work unchanged against these routes. The 200 is sent only once
the lines are fsync'd in the write-ahead log. `import=true` marks a request as an import of
old lines (`timberyard ingest` of a file): each line keeps its own time back to the account's
retention instead of the 24 h skew limit applying.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.errors import BadRequest
from timberyard.ingest.logdna import Request as IngestRequest
from timberyard.ingest.logdna import decode
from timberyard.parse.timestamps import parse_timestamp
from timberyard.web.access import declares
from timberyard.web.body import read_body
from timberyard.web.credentials import ingestion_key


@declares("logs.ingest")  # ingestion keys, checked below with LogDNA's own error answers
async def ingest(request: Request) -> JSONResponse:
    node = request.app.state.node
    pipeline = node.pipeline
    try:
        key = ingestion_key(request)
        pipeline.admit()
        params = request.query_params
        hostname = params.get("hostname", "").strip()
        if not hostname:
            raise BadRequest("Missing param hostname.")
        body = await read_body(
            request,
            max_bytes=node.settings.max_body_bytes,
            max_decompressed_bytes=node.settings.max_decompressed_bytes,
        )
        meta = IngestRequest(
            account=key.account_id,
            hostname=hostname,
            ip=params.get("ip", ""),
            mac=params.get("mac", ""),
            tags=_query_tags(params.getlist("tags")),
            client_now_ms=_client_now(params.get("now")),
            import_times=_flag(params.get("import")),
        )
        ingester = "agent" if request.url.path == "/logs/agent" else "http"
        batch = await pipeline.run(decode, body, meta, ingester)
        accepted = await pipeline.accept(batch)
    except Exception as exc:
        node.metrics.inc("timberyard_ingest_rejected_total", reason=getattr(exc, "code", "InternalError"))
        raise
    node.metrics.inc("timberyard_ingest_requests_total")
    node.metrics.inc("timberyard_ingest_bytes_total", len(body))
    response: dict[str, object] = {"status": "ok", "batchID": accepted.batch_id}
    if accepted.problems.samples:
        response["warnings"] = accepted.problems.samples
    if accepted.problems.counts:
        response["problems"] = accepted.problems.counts
    return JSONResponse(response)


def _query_tags(values: list[str]) -> tuple[str, ...]:
    """`tags` may be comma-separated, repeated, or both; order kept, duplicates dropped."""
    tags: dict[str, None] = {}
    for value in values:
        for tag in value.split(","):
            if tag.strip():
                tags[tag.strip()] = None
    return tuple(tags)


def _flag(value: str | None) -> bool:
    if value is None or value.lower() in ("", "0", "false", "no"):
        return False
    if value.lower() in ("1", "true", "yes"):
        return True
    raise BadRequest(f"import must be true or false, got {value[:20]!r}")


def _client_now(value: str | None) -> int | None:
    """The client's clock in epoch ms, read like a line timestamp (seconds accepted)."""
    if not value:
        return None
    now = parse_timestamp(value)
    if now is None:
        raise BadRequest(f"now must be the client's epoch time in ms (1970-2099), got {value[:40]!r}")
    return now


routes = [
    Route("/logs/ingest", ingest, methods=["POST"]),
    Route("/logs/agent", ingest, methods=["POST"]),
]
