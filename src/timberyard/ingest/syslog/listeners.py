"""The syslog listeners a node runs, built from its settings and started and stopped with it.

Each is off unless its address is set: `syslog_udp`, `syslog_tcp`, `syslog_tls`, `syslog_relp`,
`syslog_relp_tls` (`--syslog-udp HOST:PORT` and so on). They bind when the node starts serving,
before it has replayed its write-ahead log: stream senders are simply not read until the node
takes lines, and UDP datagrams wait in the listener's queue. On shutdown they stop taking
connections and datagrams, store what they have read, and close (RELP telling its clients
`serverclose`), before the node drains its log into the store.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import resource
from typing import Any

from timberyard.config.settings import Settings
from timberyard.core.errors import ConfigError
from timberyard.ingest.syslog.accounts import (
    DefaultAccounts,
    KeyAccounts,
    parse_account_names,
)
from timberyard.ingest.syslog.drains import CLOUD_FOUNDRY, HEROKU
from timberyard.ingest.syslog.listener import ListenerOptions, StreamListener
from timberyard.ingest.syslog.relp import RelpConnection
from timberyard.ingest.syslog.sink import Sink
from timberyard.ingest.syslog.stats import SyslogStats
from timberyard.ingest.syslog.stream import SyslogConnection
from timberyard.ingest.syslog.tls import ClientCertificates, parse_rules, server_context
from timberyard.ingest.syslog.udp import UdpListener, receive_buffer_errors

log = logging.getLogger(__name__)

MAX_OPEN_FILES = 1 << 20
DRAINS = (HEROKU, CLOUD_FOUNDRY)

# setting -> (ingester, the transport `syslog_account` names it by)
ADDRESSES = {
    "syslog_udp": ("syslog-udp", "udp"),
    "syslog_tcp": ("syslog-tcp", "tcp"),
    "syslog_tls": ("syslog-tls", "tls"),
    "syslog_relp": ("relp", "relp"),
    "syslog_relp_tls": ("relp-tls", "relp-tls"),
}
TLS_ADDRESSES = ("syslog_tls", "syslog_relp_tls")  # served with the node's certificate
RELP_ADDRESSES = ("syslog_relp", "syslog_relp_tls")


def parse_address(setting: str, value: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface) -> (host, port)."""
    host, separator, port = value.strip().rpartition(":")
    if not separator or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{setting}: expected HOST:PORT such as 0.0.0.0:5514, got {value!r}")
    return host.strip("[]"), int(port)


def check(settings: Settings) -> None:
    """Check the syslog settings' syntax and files, so a mistake stops the node at start with a
    message naming the setting."""
    for setting in ADDRESSES:
        if getattr(settings, setting):
            parse_address(setting, getattr(settings, setting))
    parse_account_names(settings.syslog_account)
    parse_rules(settings.syslog_tls_client_accounts)
    for setting in TLS_ADDRESSES:
        if getattr(settings, setting) and not (settings.tls_cert and settings.tls_key):
            raise ConfigError(f"{setting} needs the node's certificate: set tls_cert and tls_key (the same files serve HTTPS)")
    if settings.syslog_tls_client_accounts and not settings.syslog_tls_client_ca:
        raise ConfigError(
            "syslog_tls_client_accounts needs syslog_tls_client_ca: a client certificate names an account only "
            "once a CA you trust has signed it"
        )


class SyslogListeners:
    def __init__(self, node: Any) -> None:
        self.node = node
        self.settings: Settings = node.settings
        self.udp: UdpListener | None = None
        self.streams: list[StreamListener] = []

    @property
    def enabled(self) -> dict[str, str]:
        return {setting: getattr(self.settings, setting) for setting in ADDRESSES if getattr(self.settings, setting)}

    async def start(self) -> None:
        """Bind every listener that is on; if one cannot start, stop the others and raise."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        # The drain route (web/api/drains.py) is always on: its counters exist from the start too.
        stats = SyslogStats(self.node.metrics, [*(ADDRESSES[setting][0] for setting in self.enabled), *DRAINS])
        if not self.enabled:
            return
        check(self.settings)
        _raise_open_files_limit()
        accounts = await asyncio.to_thread(self.node.meta.list_accounts)
        defaults = DefaultAccounts.parse(self.settings.syslog_account, accounts)
        sink = Sink(self.node.pipeline, KeyAccounts(self.node.keyring), stats, self.settings.max_line_bytes)
        self.node.metrics.gauge("timberyard_syslog_open_connections", lambda: sum(len(s.connections) for s in self.streams))
        for setting, value in self.enabled.items():
            ingester, transport = ADDRESSES[setting]
            host, port = parse_address(setting, value)
            if setting == "syslog_udp":
                await self._start_udp(sink, host, port, defaults.of(transport))
                continue
            options = ListenerOptions(
                ingester, host, port, self.settings.syslog_idle_timeout_s, self.settings.syslog_max_connections, defaults.of(transport)
            )
            await self._start_stream(sink, setting, options, {account.name: account.id for account in accounts})

    async def _start_udp(self, sink: Sink, host: str, port: int, account: str | None) -> None:
        udp = self.udp = UdpListener(sink, host, port, account, self.settings.syslog_udp_buffer_bytes)
        await udp.start()
        metrics = self.node.metrics
        metrics.gauge("timberyard_syslog_udp_queued_messages", lambda: udp.queued)
        metrics.gauge("timberyard_syslog_udp_socket_drops", udp.socket_drops)
        metrics.gauge("timberyard_udp_receive_buffer_errors", receive_buffer_errors)

    async def _start_stream(self, sink: Sink, setting: str, options: ListenerOptions, account_ids: dict[str, str]) -> None:
        if setting in TLS_ADDRESSES:
            settings = self.settings
            options = dataclasses.replace(
                options,
                tls=server_context(settings.tls_cert, settings.tls_key, settings.syslog_tls_client_ca),
                certificates=ClientCertificates.parse(settings.syslog_tls_client_accounts, account_ids),
            )
        listener = StreamListener(sink, options, RelpConnection if setting in RELP_ADDRESSES else SyslogConnection)
        await listener.start()
        self.streams.append(listener)

    async def stop(self) -> None:
        """Stop taking messages and store what was read; safe to call when nothing started."""
        if self.udp is not None:
            await self.udp.stop()
        await asyncio.gather(*(listener.stop() for listener in self.streams))
        self.streams, self.udp = [], None


def _raise_open_files_limit() -> None:
    """Thousands of syslog connections need as many file descriptors: take the hard limit,
    which is what the soft limit (often 1024) is there to be raised to."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (OSError, ValueError) as exc:
            log.warning("could not raise the open files limit from %d for syslog connections: %s", soft, exc)
        else:
            log.info("raised the open files limit for syslog connections", extra={"from": soft, "to": target})
