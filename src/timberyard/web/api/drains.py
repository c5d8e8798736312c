"""POST /heroku/logplex: Heroku's and Cloud Foundry's HTTPS log drains.

The drain URL carries the ingestion key as HTTP Basic credentials, `https://x:KEY@host/...` as
Heroku's documentation has it (the user name is ignored; the key as user name with no password,
LogDNA's way, works too). Success is 204 No Content once the lines are durable; Logplex retries
anything else, so a node that is starting or full answers 503 with Retry-After. See
ingest/syslog/drains.py for what a drain's lines become.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from timberyard.core.clock import now_ms
from timberyard.core.errors import MissingCredentials
from timberyard.ingest.syslog.accounts import KeyAccounts
from timberyard.ingest.syslog.drains import (
    CLOUD_FOUNDRY,
    HEROKU,
    LOGPLEX,
    DrainRequest,
    RecentFrames,
    decode_drain,
)
from timberyard.ingest.syslog.stats import SyslogStats
from timberyard.web.access import client_ip, declares
from timberyard.web.api.params import integer
from timberyard.web.body import read_body


class _Drains:
    """What the route keeps between requests: counters and the frame ids lately stored."""

    def __init__(self, node: object) -> None:
        self.keys = KeyAccounts(node.keyring)  # type: ignore[attr-defined]
        self.stats = SyslogStats(node.metrics, (HEROKU, CLOUD_FOUNDRY))  # type: ignore[attr-defined]
        self.recent = RecentFrames()


@declares("logs.ingest")  # ingestion keys, checked below
async def logplex(request: Request) -> Response:
    node = request.app.state.node
    drains = _drains(request)
    try:
        key = node.keyring.authenticate(_secret(request), "ingestion")
        node.pipeline.admit()
        heroku = request.headers.get("content-type", "").split(";")[0].strip().lower() == LOGPLEX
        count = request.headers.get("logplex-msg-count", "")
        drain = DrainRequest(
            kind=HEROKU if heroku else CLOUD_FOUNDRY,
            account=key.account_id,
            app=request.query_params.get("app", "").strip(),
            drain_token=request.headers.get("logplex-drain-token", "").strip(),
            message_count=integer(count),
        )
        frame_id = request.headers.get("logplex-frame-id", "").strip()
        if frame_id and (key.account_id, frame_id) in drains.recent:
            return Response(status_code=204)  # a retry of a request already stored
        settings = node.settings
        body = await read_body(request, max_bytes=settings.max_body_bytes, max_decompressed_bytes=settings.max_decompressed_bytes)
        decoded = await node.pipeline.run(decode_drain, body, client_ip(request), drain, drains.keys, settings.max_line_bytes, now_ms())
        drains.stats.decoded(drain.kind, decoded)
        for batch in decoded.batches:
            await node.pipeline.accept(batch)
    except Exception as exc:
        node.metrics.inc("timberyard_ingest_rejected_total", reason=getattr(exc, "code", "InternalError"))
        raise
    if frame_id:
        drains.recent.add((key.account_id, frame_id))
    node.metrics.inc("timberyard_ingest_requests_total")
    node.metrics.inc("timberyard_ingest_bytes_total", len(body))
    return Response(status_code=204)


def _secret(request: Request) -> str:
    """The key: the password of HTTP Basic (Heroku's `x:KEY@`), else its user name, else an
    `apikey` header or parameter."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded:
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        if password or user:
            return password or user
    secret = request.headers.get("apikey") or request.query_params.get("apikey")
    if not secret:
        raise MissingCredentials("Missing Credentials")
    return secret


def _drains(request: Request) -> _Drains:
    state = request.app.state
    if not hasattr(state, "drains"):
        state.drains = _Drains(state.node)
    return state.drains  # type: ignore[no-any-return]


routes = [Route("/heroku/logplex", logplex, methods=["POST"])]
