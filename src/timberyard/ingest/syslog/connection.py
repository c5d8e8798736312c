"""One syslog or RELP connection: read, store what was read, answer it in order, read again.

A connection stores what the event loop read for it in one turn (libuv reads until the socket is
empty or MAX_READ_BYTES arrived) as one batch (`Sink.store`), and while `max_in_flight` such
stores are unfinished it reads nothing more. Plain syslog allows one: a message read from the
socket is in the write-ahead log before more is read, so the kernel's socket buffers are the only
queue, and when the store falls behind TCP's own flow control reaches the sender. RELP allows a
few, because its client keeps every message until it is acknowledged: reading the next batch
while the last is being made durable lets one session keep the pipeline busy, and answers still
go out only once stored, in order. Either way a connection holds at most `max_in_flight` reads
and one message in progress, however it behaves.
"""

from __future__ import annotations

import asyncio
import logging
import time
from abc import ABCMeta, abstractmethod
from typing import TYPE_CHECKING, Any, cast

from timberyard.ingest.syslog import stats
from timberyard.ingest.syslog.decode import Origin

if TYPE_CHECKING:
    from timberyard.ingest.syslog.listener import StreamListener

log = logging.getLogger(__name__)

MAX_READ_BYTES = 1 << 20  # a read larger than this is stored as it is, before more is read


class ProtocolError(Exception):
    """The peer broke the protocol beyond repair (RELP framing): the connection is closed, and
    what it sent but was not acknowledged is the sender's to send again."""


class Connection(asyncio.Protocol, metaclass=ABCMeta):
    """A subclass says what bytes mean (`feed`), takes what is complete (`take`, None when
    nothing is), stores it (`store`) and answers it once stored (`answer`)."""

    max_in_flight = 1

    def __init__(self, listener: StreamListener) -> None:
        self.listener = listener
        self.sink = listener.sink
        self.transport: asyncio.Transport | None = None
        self.peer = ""
        self.origin = Origin(listener.options.ingester, listener.options.default_account)
        self.last_active = time.monotonic()
        self.stores: list[asyncio.Task[bool]] = []
        self.unstored_bytes = 0  # read since the last store began
        self.ended = False  # the peer sent EOF, or asked to close
        self.stopping = False
        self._paused = False
        self._scheduled = False

    @abstractmethod
    def feed(self, data: bytes) -> None:
        """Add bytes read from the socket to what is being framed."""

    @abstractmethod
    def take(self) -> Any | None:
        """What is complete and not yet stored, or None when nothing is."""

    @abstractmethod
    async def store(self, taken: Any) -> None:
        """Make `taken` durable (through the listener's sink)."""

    def answer(self, taken: Any) -> None:
        """`taken` is durable: tell the peer, if the protocol can."""

    def at_eof(self) -> None:
        """The peer will send nothing more."""

    def goodbye(self) -> None:
        """The node is shutting down and this connection is done storing: say so, if the protocol can."""

    # -- asyncio -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio's classes
        peer = transport.get_extra_info("peername")
        self.peer = str(peer[0]) if peer else ""
        if not self.listener.admit(self):
            return
        certificates = self.listener.options.certificates
        account = certificates.account_of(transport) if certificates is not None else None
        if account is not None:
            self.origin = Origin(self.origin.ingester, account)

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        self.unstored_bytes += len(data)
        try:
            self.feed(data)
        except ProtocolError as exc:
            log.warning("closing a %s connection from %s: %s", self.origin.ingester, self.peer, exc)
            self.close(stats.PROTOCOL_ERROR)
            return
        if self.unstored_bytes >= MAX_READ_BYTES:
            self._pause()
        self._schedule()

    def eof_received(self) -> bool:
        self.ended = True
        self.at_eof()
        self._schedule()
        return self.listener.options.tls is None  # keep the socket to answer while storing; TLS cannot half-close

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.forget(self)
        self.transport = None  # what was read is still stored

    # -- read, store, answer ---------------------------------------------------------------------

    @property
    def idle_for(self) -> float:
        return 0.0 if self.stores else time.monotonic() - self.last_active

    def _schedule(self) -> None:
        """Launch a store once the event loop has delivered all it read this turn."""
        if not self._scheduled and not self.stopping:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._launch)

    def _launch(self) -> None:
        self._scheduled = False
        if self.stopping or len(self.stores) >= self.max_in_flight:
            return
        taken = self.take()
        if taken is None:
            if self.ended and not self.stores:
                self.close(None)
            return
        self.unstored_bytes = 0
        task = asyncio.get_running_loop().create_task(self._store(taken, self.stores[-1] if self.stores else None))
        self.stores.append(task)
        task.add_done_callback(self._stored)
        if len(self.stores) >= self.max_in_flight:
            self._pause()
        else:
            self._resume()

    async def _store(self, taken: Any, previous: asyncio.Task[bool] | None) -> bool:
        """Store `taken`, then answer it once everything taken before it is answered; False
        when this or an earlier store failed (the connection is closed, nothing more answered)."""
        try:
            await self.store(taken)
        except Exception:
            log.exception("a %s connection from %s could not store what it sent; closing it", self.origin.ingester, self.peer)
            self.close(stats.STORE_ERROR)
            return False
        if previous is not None and not await previous:
            return False
        if self.transport is not None and not self.transport.is_closing():
            self.answer(taken)
        return True

    def _stored(self, task: asyncio.Task[bool]) -> None:
        self.stores.remove(task)
        if self.stopping or self.transport is None:
            return
        if self.unstored_bytes < MAX_READ_BYTES:
            self._resume()
        self._schedule()

    def _pause(self) -> None:
        if not self._paused and self.transport is not None and not self.transport.is_closing():
            self._paused = True
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self._paused and self.transport is not None and not self.transport.is_closing():
            self._paused = False
            self.transport.resume_reading()

    def close(self, reason: str | None) -> None:
        if reason is not None:
            self.sink.stats.disconnected(self.origin.ingester, reason)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    async def finish(self) -> None:
        """Shutdown: read nothing more, store and answer what was read, then close."""
        self.stopping = True
        self._pause()
        if self.stores:
            await asyncio.gather(*self.stores, return_exceptions=True)
        taken = self.take()  # read in the same turn as the pause
        if taken is not None:
            await self._store(taken, None)
        if self.transport is not None and not self.transport.is_closing():
            self.goodbye()
            self.close(stats.SHUTDOWN)
