"""How many HTTP connections the node holds, and how long a slow client may keep one.

uvicorn closes idle keep-alive connections but waits forever for a client that sends half a
request: 1,100 such connections once used every file descriptor and locked everyone out, the
store included ("Too many open files"). So every connection here has
- a header deadline: the request line and headers must arrive within http_header_timeout_s
  of the connection opening (or of a keep-alive request's first byte), and be at most
  MAX_HEADER_BYTES; a trickle of bytes does not extend it;
- a body timeout: at most http_body_timeout_s between two pieces of a body (a slow but steady
  upload goes on; a stalled one is closed). Time the node itself stops reading, to push back
  on a sender while the store catches up, does not count;
- a cap: at most http_max_connections open, kept below the file-descriptor limit (whose soft
  value is raised to the hard one at start); one more is answered 503 and closed at once.
Idle keep-alive connections close after http_keep_alive_s (uvicorn's own timer).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from timberyard.core.metrics import Metrics

log = logging.getLogger(__name__)

RESERVED_FDS = 1024  # descriptors kept for the store, the WAL, metadata and syslog
MAX_HEADER_BYTES = 64 * 1024
MAX_FD_TARGET = 1 << 20
REFUSAL_LOG_EVERY_S = 60
HEADERS, BODY = "headers", "body"


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard one; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_FD_TARGET if hard == resource.RLIM_INFINITY else min(hard, MAX_FD_TARGET)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the open-file limit from %d to %d: %s", soft, target, exc)
    return soft


def connection_cap(wanted: int, fd_limit: int) -> int:
    """`wanted`, lowered so HTTP connections leave RESERVED_FDS (or half, if the limit is small)."""
    allowed = max(1, fd_limit - min(RESERVED_FDS, fd_limit // 2))
    if wanted > allowed:
        log.warning(
            "http_max_connections lowered from %d to %d: the open-file limit is %d (raise it with ulimit -n "
            "or LimitNOFILE= in the systemd unit)", wanted, allowed, fd_limit,
        )
    return min(wanted, allowed)


@dataclass
class ConnectionGuard:
    """The limits and the figures shared by every connection of one server."""

    max_connections: int
    header_timeout_s: float
    body_timeout_s: float
    metrics: Metrics
    connections: set[Any] = field(default_factory=set)  # uvicorn's set of open connections
    _refusal_logged: float = float("-inf")

    def __post_init__(self) -> None:
        self.metrics.gauge("timberyard_http_connections", lambda: len(self.connections))

    def protocol(self) -> type[GuardedHttpProtocol]:
        """The protocol class to give uvicorn (`Config(http=...)`)."""
        return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"guard": self})

    def refused(self) -> None:
        self.metrics.inc("timberyard_http_connections_refused_total")
        if time.monotonic() - self._refusal_logged > REFUSAL_LOG_EVERY_S:
            self._refusal_logged = time.monotonic()
            log.warning("refusing HTTP connections: %d are open (http_max_connections)", self.max_connections)

    def timed_out(self, phase: str) -> None:
        self.metrics.inc("timberyard_http_timeouts_total", phase=phase)


def _answer(status: str, code: str, message: str) -> bytes:
    body = orjson.dumps({"error": message, "code": code, "status": "error"})
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\nconnection: close\r\n"
    return head.encode() + (b"retry-after: 1\r\n" if status.startswith("503") else b"") + b"\r\n" + body


TOO_MANY = _answer("503 Service Unavailable", "TooManyConnections", "the node has too many open connections; retry shortly")
TOO_SLOW = _answer("408 Request Timeout", "RequestTimeout", "the request headers took too long to arrive")
TOO_LARGE = _answer("431 Request Header Fields Too Large", "HeadersTooLarge", f"the request headers are over {MAX_HEADER_BYTES} bytes")


class GuardedHttpProtocol(HttpToolsProtocol):
    guard: ConnectionGuard

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._timer: asyncio.TimerHandle | None = None
        self._header_bytes: int | None = None  # counted while headers are arriving

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.guard.connections = self.connections
        if len(self.connections) >= self.guard.max_connections:
            self.transport = transport  # uvicorn's connection_lost closes it
            self.guard.refused()
            transport.write(TOO_MANY)
            transport.close()
            return
        super().connection_made(transport)
        self._expect_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._header_bytes is not None:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._header_bytes is not None and self._header_bytes > MAX_HEADER_BYTES:  # still no end of headers
            self._close(TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_bytes is None:  # a keep-alive connection's next request
            self._expect_headers()

    def on_headers_complete(self) -> None:
        self._disarm()
        self._header_bytes = None
        super().on_headers_complete()
        if not (self.parser.should_upgrade() and self._should_upgrade()):
            self._arm(BODY, self.guard.body_timeout_s)

    def on_body(self, body: bytes) -> None:
        self._arm(BODY, self.guard.body_timeout_s)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _expect_headers(self) -> None:
        self._header_bytes = 0
        self._arm(HEADERS, self.guard.header_timeout_s)

    def _arm(self, phase: str, seconds: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._expire, phase)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expire(self, phase: str) -> None:
        self._timer = None
        if phase == BODY and self.flow.read_paused:  # the node stopped reading, not the client
            self._arm(BODY, self.guard.body_timeout_s)
            return
        self.guard.timed_out(phase)
        self._close(TOO_SLOW if phase == HEADERS else b"")

    def _close(self, answer: bytes) -> None:
        if not self.transport.is_closing():
            if answer:
                self.transport.write(answer)
            self.transport.close()
