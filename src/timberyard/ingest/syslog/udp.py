"""Syslog over UDP (RFC 5426): one message per datagram, no acknowledgement, no flow control.

UDP is lossy by nature; what this listener can do is lose as little as possible and count what
it loses. Datagrams are taken from the socket as fast as the event loop runs, into a queue
bounded by MAX_QUEUED_MESSAGES and MAX_QUEUED_BYTES, and one task hands everything queued to the
pipeline at once, waiting while the store is behind. So a burst rides on the queue and on a
large kernel receive buffer (`syslog_udp_buffer_bytes`); beyond those, datagrams are lost:
- when our queue is full, counted in `timberyard_syslog_dropped_total{reason="queue_full"}`
  (and if the write-ahead log fails them, `reason="store_error"`);
- when the kernel's buffer is full, counted by the kernel for this socket
  (`timberyard_syslog_udp_socket_drops`, the `drops` column of /proc/net/udp) and for the
  whole host (`timberyard_udp_receive_buffer_errors`, RcvbufErrors of /proc/net/snmp).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from pathlib import Path

from timberyard.ingest.syslog import stats
from timberyard.ingest.syslog.decode import Origin
from timberyard.ingest.syslog.framing import Frames
from timberyard.ingest.syslog.listener import cannot_listen
from timberyard.ingest.syslog.sink import Sink

log = logging.getLogger(__name__)

MAX_QUEUED_MESSAGES = 200_000
MAX_QUEUED_BYTES = 64 * 1024 * 1024
MAX_BATCH = 20_000  # messages handed to the pipeline at once
_AROUND = b"\r\n\x00"


class UdpListener(asyncio.DatagramProtocol):
    def __init__(self, sink: Sink, host: str, port: int, default_account: str | None, buffer_bytes: int) -> None:
        self.sink = sink
        self.host, self.port = host, port
        self.origin = Origin("syslog-udp", default_account)
        self.buffer_bytes = buffer_bytes
        self.queue: list[bytes] = []
        self.peers: list[str] = []
        self.truncated: dict[int, int] = {}
        self.queued_bytes = 0
        self._wakeup = asyncio.Event()
        self._transport: asyncio.DatagramTransport | None = None
        self._worker: asyncio.Task[None] | None = None
        self._inode = 0

    async def start(self) -> None:
        try:
            sock = _bound_socket(self.host, self.port, self.buffer_bytes)
        except OSError as exc:
            raise cannot_listen(self.origin.ingester, self.host, self.port, exc) from None
        self._inode = os.fstat(sock.fileno()).st_ino
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, sock=sock)
        self._transport = transport
        self._worker = loop.create_task(self._work())
        log.info("syslog-udp listening", extra={"address": f"{self.host}:{self.port}", "receive_buffer": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)})

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(self.queue) >= MAX_QUEUED_MESSAGES or self.queued_bytes >= MAX_QUEUED_BYTES:
            self.sink.stats.dropped(self.origin.ingester, 1)
            return
        limit = self.sink.max_message_bytes
        message = data[:limit].strip(_AROUND)
        if not message:
            return
        if len(data) > limit:
            self.truncated[len(self.queue)] = len(data)
        self.queue.append(message)
        self.peers.append(addr[0])
        self.queued_bytes += len(message)
        self._wakeup.set()

    def error_received(self, exc: Exception) -> None:
        log.warning("syslog-udp socket error: %s", exc)

    async def _work(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self.queue:
                await self._store_queued()

    async def _store_queued(self) -> None:
        messages, peers = self.queue[:MAX_BATCH], self.peers[:MAX_BATCH]
        del self.queue[:MAX_BATCH], self.peers[:MAX_BATCH]
        truncated = {index: size for index, size in self.truncated.items() if index < MAX_BATCH}
        self.truncated = {index - MAX_BATCH: size for index, size in self.truncated.items() if index >= MAX_BATCH}
        self.queued_bytes -= sum(map(len, messages))
        try:
            await self.sink.store(Frames(messages, truncated), peers, self.origin)
        except Exception:
            log.exception("syslog-udp could not store %d messages; they are lost", len(messages))
            self.sink.stats.dropped(self.origin.ingester, len(messages), stats.STORE_ERROR)

    @property
    def queued(self) -> int:
        return len(self.queue)

    def socket_drops(self) -> int:
        """What the kernel dropped for our socket since it opened (its receive buffer was full)."""
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with contextlib.suppress(OSError):
                for row in Path(table).read_text().splitlines()[1:]:
                    columns = row.split()
                    if len(columns) >= 13 and columns[9] == str(self._inode):
                        return int(columns[-1])
        return 0

    async def stop(self) -> None:
        """Take no more datagrams; store what is queued."""
        if self._transport is not None:
            self._transport.close()
        while self.queue:
            await self._store_queued()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker


def receive_buffer_errors() -> int:
    """UDP datagrams the kernel dropped for a full receive buffer, host-wide, IPv4 and IPv6."""
    total = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        rows = [row.split() for row in Path("/proc/net/snmp").read_text().splitlines() if row.startswith("Udp:")]
        total += int(rows[1][rows[0].index("RcvbufErrors")])
    with contextlib.suppress(OSError, ValueError):
        for row in Path("/proc/net/snmp6").read_text().splitlines():
            name, _, value = row.partition(" ")
            if name == "Udp6RcvbufErrors":
                total += int(value.strip())
    return total


def _bound_socket(host: str, port: int, buffer_bytes: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        # SO_RCVBUFFORCE may exceed net.core.rmem_max but needs CAP_NET_ADMIN; else the kernel
        # caps SO_RCVBUF at rmem_max (raise it: sysctl -w net.core.rmem_max=33554432).
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, buffer_bytes)
        except (OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)
        granted = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 2  # Linux reports double
        if granted < buffer_bytes:
            log.warning(
                "syslog-udp: the kernel granted a %d-byte receive buffer of the %d asked for; bursts may be "
                "lost. Raise net.core.rmem_max (sysctl -w net.core.rmem_max=%d) or run with CAP_NET_ADMIN",
                granted, buffer_bytes, buffer_bytes,
            )
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host or ("::" if family == socket.AF_INET6 else "0.0.0.0"), port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock
