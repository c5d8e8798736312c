"""A TCP or TLS port of syslog or RELP: accepting connections within limits, and closing them.

The listener refuses connections beyond `max_connections`, gives a TLS handshake
HANDSHAKE_TIMEOUT_S (the event loop aborts a stalled one), closes connections that send nothing
for `idle_timeout_s` (one waiting on the store is not idle), and on shutdown lets every
connection finish storing what it read before closing it (connection.py).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from timberyard.core.errors import ConfigError
from timberyard.ingest.syslog import stats
from timberyard.ingest.syslog.sink import Sink
from timberyard.ingest.syslog.tls import ClientCertificates

if TYPE_CHECKING:
    from timberyard.ingest.syslog.connection import Connection

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 10
SWEEP_S = 5
SHUTDOWN_GRACE_S = 20  # the longest shutdown waits for connections still storing what they read
BACKLOG = 1024


@dataclass(frozen=True)
class ListenerOptions:
    ingester: str  # syslog-tcp, syslog-tls, relp, relp-tls
    host: str
    port: int
    idle_timeout_s: int
    max_connections: int
    default_account: str | None
    tls: ssl.SSLContext | None = None
    certificates: ClientCertificates | None = None


def cannot_listen(ingester: str, host: str, port: int, exc: OSError) -> ConfigError:
    reason = exc.strerror or str(exc)
    hint = "ports below 1024 need root or CAP_NET_BIND_SERVICE" if port < 1024 else "another program (a system rsyslog?) may hold it"
    return ConfigError(f"{ingester} cannot listen on {host or '*'}:{port}: {reason}; {hint}")


class StreamListener:
    def __init__(self, sink: Sink, options: ListenerOptions, connection: Callable[[StreamListener], Connection]) -> None:
        self.sink = sink
        self.options = options
        self.connection = connection
        self.connections: set[Connection] = set()
        self.server: asyncio.Server | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        options = self.options
        try:
            self.server = await asyncio.get_running_loop().create_server(
                lambda: self.connection(self),
                options.host or None,
                options.port,
                ssl=options.tls,
                ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S if options.tls is not None else None,
                backlog=BACKLOG,
                reuse_address=True,
            )
        except OSError as exc:
            raise cannot_listen(options.ingester, options.host, options.port, exc) from None
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep())
        log.info("%s listening", options.ingester, extra={"address": f"{options.host}:{options.port}"})

    def admit(self, connection: Connection) -> bool:
        if len(self.connections) >= self.options.max_connections:
            self.sink.stats.disconnected(self.options.ingester, stats.TOO_MANY)
            assert connection.transport is not None
            connection.transport.abort()
            return False
        self.connections.add(connection)
        self.sink.stats.connected(self.options.ingester)
        return True

    def forget(self, connection: Connection) -> None:
        self.connections.discard(connection)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            for connection in list(self.connections):
                if connection.idle_for > self.options.idle_timeout_s:
                    connection.close(stats.IDLE)

    async def stop(self) -> None:
        if self.server is None:
            return
        self.server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        connections = list(self.connections)
        if connections:
            await asyncio.wait([asyncio.ensure_future(c.finish()) for c in connections], timeout=SHUTDOWN_GRACE_S)
            for connection in connections:
                connection.close(None)
        await self.server.wait_closed()
        self.server = None
