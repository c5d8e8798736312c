"""PaaS log drains: Heroku's Logplex and Cloud Foundry's HTTPS syslog drains, as batches.

Heroku POSTs `application/logplex-1`: octet-counted RFC 5424 messages without
STRUCTURED-DATA, `<190>1 2025-06-01T10:00:00+00:00 host app web.1 - message`, where APP-NAME
is the source (`app` for the app's own output, `heroku` for the platform and its router) and
PROCID the dyno. The app's name is in no message, so the drain URL names it (`?app=`, else
the drain token stands in). Each line gets the app as its app and the dyno as its host, and
`heroku.app`, `heroku.dyno`, `heroku.source` as fields; its level comes from its text, since
Logplex gives every line the same severity.

Cloud Foundry's syslog agent POSTs RFC 5424 messages, one per request or newline-separated
batches (`https-batch`), HOSTNAME `org.space.app`, APP-NAME the app's GUID, PROCID like
`[APP/PROC/WEB/0]`, and the app's tags as `[tags@47450 app_name="..." ...]`, which become fields;
the app's name from those tags is the line's app.

The body is framed like a syslog stream (framing.py), so a body in either framing is read.
Logplex retries a request it got no 2xx for, with the same `Logplex-Frame-Id`: a frame id this
node has stored recently is answered 204 without storing it again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.errors import BadRequest
from timberyard.ingest.batch import LineBatch
from timberyard.ingest.syslog.accounts import KeyAccounts
from timberyard.ingest.syslog.decode import (
    HEADER_ALLOWANCE,
    Decoded,
    Origin,
    Received,
    decode,
)
from timberyard.ingest.syslog.framing import Frames, StreamFramer

HEROKU, CLOUD_FOUNDRY = "heroku", "cloudfoundry"
LOGPLEX = "application/logplex-1"
REMEMBERED_FRAMES = 10_000


@dataclass(frozen=True)
class DrainRequest:
    kind: str  # HEROKU or CLOUD_FOUNDRY
    account: str
    app: str  # `?app=` of the drain URL
    drain_token: str  # Logplex-Drain-Token
    message_count: int | None  # Logplex-Msg-Count


def _frames_of(body: bytes, request: DrainRequest, max_bytes: int) -> Frames:
    """The body's messages; a 400 when Logplex's count of them disagrees with what is there."""
    framer = StreamFramer(max_bytes)
    framer.feed(body)
    framer.finish()
    frames = framer.take()
    expected = request.message_count
    if expected is not None and expected != len(frames):
        raise BadRequest(
            f"Logplex-Msg-Count says {expected} messages but the body holds {len(frames)} octet-counted frames; "
            "the body was cut or is not application/logplex-1"
        )
    return frames


def decode_drain(body: bytes, peer: str, request: DrainRequest, keys: KeyAccounts, max_line_bytes: int, received_ms: int) -> Decoded:
    """The body's messages as batches (CPU work: run it on the pipeline's threads)."""
    frames = _frames_of(body, request, max_line_bytes + HEADER_ALLOWANCE)
    decoded = decode([Received(frames, peer, Origin(request.kind, request.account))], keys, max_line_bytes, received_ms)[0]
    for batch in decoded.batches:
        if request.kind == HEROKU:
            _heroku(batch, request)
        else:
            _cloud_foundry(batch)
    return decoded


def _heroku(batch: LineBatch, request: DrainRequest) -> None:
    app = request.app or request.drain_token or "heroku"
    hosts = []
    for (_, fields), source in zip(_meta(batch), batch.column("app").to_pylist()):
        dyno = fields.pop("syslog.procid", None) or fields.pop("syslog.pid", None)
        fields["heroku.app"], fields["heroku.source"] = app, source
        if dyno is not None:
            fields["heroku.dyno"] = str(dyno)
        hosts.append(str(dyno) if dyno is not None else "heroku")
    batch.columns["host"] = pa.array(hosts, pa.string())
    batch.columns["app"] = pa.repeat(pa.scalar(app), len(batch))
    batch.columns["level"] = pa.repeat(pa.scalar(""), len(batch))  # Logplex's PRI says nothing: the text decides


def _cloud_foundry(batch: LineBatch) -> None:
    names = [fields.get("app_name") if fields else None for _, fields in _meta(batch)]
    if any(names):
        batch.columns["app"] = pc.coalesce(pa.array(names, pa.string()), batch.column("app"))


def _meta(batch: LineBatch) -> list[tuple[int, dict[str, Any]]]:
    """Every line's meta row, made for the lines that had none."""
    present = dict(batch.meta)
    batch.meta = [(index, present.get(index, {})) for index in range(len(batch))]
    return batch.meta


class RecentFrames:
    """The Logplex frame ids stored lately, per account, oldest forgotten first."""

    def __init__(self, size: int = REMEMBERED_FRAMES) -> None:
        self.size = size
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._seen

    def add(self, key: tuple[str, str]) -> None:
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
