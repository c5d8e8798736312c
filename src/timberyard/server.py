"""The composition root: builds one node from its settings and runs it under uvicorn.

Start-up order matters: check the TLS files and the WAL key, take the data-directory lock, read
the write-ahead log (a missing key or a damaged log stops here, before chDB opens the store);
replay the log into the store before accepting new lines; on shutdown stop accepting, drain the
WAL into the store, then release everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import signal
import socket
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from timberyard.auth.access import AccessControl
from timberyard.auth.audit import AuditEvent, AuditTrail
from timberyard.auth.chain_watch import CHECK_S as AUDIT_CHAIN_CHECK_S
from timberyard.auth.chain_watch import ChainWatch
from timberyard.auth.keys import KeyRing
from timberyard.auth.logins import KEY_FILE as LOGIN_KEY_FILE
from timberyard.auth.logins import LoginGuard, load_or_create_key
from timberyard.auth.operator import OperatorToken
from timberyard.auth.sessions import SessionManager
from timberyard.auth.signing import KEY_FILE as AUDIT_KEY_FILE
from timberyard.auth.signing import load_or_create_signing_key
from timberyard.config.settings import Settings
from timberyard.core.errors import ConfigError
from timberyard.core.metrics import Metrics
from timberyard.alerts.engine import AlertEngine
from timberyard.alerts.delivery import Delivery
from timberyard.core.outbound import OutboundPolicy
from timberyard.alerts.security import SecurityNotifier
from timberyard.archive.exporter import Archiver
from timberyard.archive.staging import clear_leftovers
from timberyard.ingest.feed import DurableFeed
from timberyard.ingest.field_types import FieldTypes
from timberyard.ingest.pipeline import Pipeline
from timberyard.ingest.rules.book import RuleBook
from timberyard.ingest.syslog.listeners import SyslogListeners
from timberyard.ingest.tail import TailHub
from timberyard.insights.book import TemplateBook
from timberyard.insights.detectors import Detectors
from timberyard.insights.memory import FILE as DETECTORS_FILE
from timberyard.insights.novelty import NoveltyLimits
from timberyard.insights.watch import AnomalyWatch
from timberyard.meta.anomalies import prune_anomalies
from timberyard.meta.alert_channels import KEY_FILE as CHANNEL_KEY_FILE
from timberyard.meta.alert_channels import ChannelInfo
from timberyard.meta.sealing import Sealer
from timberyard.meta import archives
from timberyard.meta.database import MetaDB
from timberyard.store import open_store
from timberyard.store.batcher import Batcher
from timberyard.store.lock import DataDirLock
from timberyard.store.wal import WalRecord, WriteAheadLog
from timberyard.store.wal_crypto import KEY_ENV, load_cipher
from timberyard.web.app import build_app
from timberyard.web.connections import ConnectionGuard, connection_cap, raise_fd_limit
from timberyard.web.listener import url as node_url

log = logging.getLogger(__name__)

KEY_USAGE_FLUSH_S = 10
TEMPLATES_DIR = "templates"
TEMPLATES_SAVE_S = 60  # new templates are journalled as they appear; the snapshot only shortens the journal
INSIGHTS_DIR = "insights"
DETECTORS_SAVE_S = 300  # a crash loses at most this much of the detectors' counts (and the gap rule covers it)
STORE_WATCH_S = 2
TAIL_CHECK_S = 2  # a live tail ends within this of its key being revoked or its user signed out
AUDIT_SEAL_S = 300  # each finished hour of the audit trail is signed within this
PURGE_S = 86400  # and old audit entries, sign-in attempts and anomalies are purged daily
ANOMALY_RETENTION = timedelta(days=30)
ANOMALIES_PER_ACCOUNT = 10_000
GIL_SWITCH_INTERVAL_S = 0.0005  # see serve()


class Node:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics.with_catalogue()
        self.operator = OperatorToken(settings.metrics_token)
        self.tail = TailHub(settings.tail_max_pending_lines, settings.tail_max_per_principal)
        self.feed = DurableFeed()
        self._running = False
        self._lock = DataDirLock(settings.data_dir)
        self._replay: list[WalRecord] = []

    def open(self) -> None:
        """Take the data directory and open everything; quick, done before listening. The WAL is
        read here, not in recover(), so a missing key or a damaged log is a clear start-up error."""
        settings = self.settings
        cipher = load_cipher(settings.wal_encryption_key_file, os.environ.get(KEY_ENV))
        self._lock.acquire()
        if cleared := clear_leftovers(settings.data_dir):
            log.info("removed archive files a stopped search or restore had staged", extra={"stagings": cleared})
        self.wal = WriteAheadLog(
            settings.wal_dir,
            segment_bytes=settings.wal_segment_bytes,
            max_pending_bytes=settings.wal_max_bytes,
            on_durable=self.feed.publish,
            cipher=cipher,
        )
        try:
            self._replay = self.wal.open()
        except BaseException:
            self._lock.release()
            raise
        self._running = True
        self.meta = MetaDB.open(settings.resolved_metadata_url)
        self.keyring = KeyRing(self.meta)
        signing_key = load_or_create_signing_key(settings.data_dir / AUDIT_KEY_FILE)
        self.audit = AuditTrail(self.meta, signing_key)
        self.sessions = SessionManager(self.meta, settings.session_idle_timeout_s, settings.session_max_age_s)
        self.logins = LoginGuard(self.meta, load_or_create_key(settings.data_dir / LOGIN_KEY_FILE))
        self.access = AccessControl(self.meta, self.sessions)
        self.store = open_store(settings.resolved_store_url)
        self.store.create_schema()
        self.batcher = Batcher(
            self.store,
            self.wal,
            self.metrics,
            max_lines=settings.batch_max_lines,
            max_wait_s=settings.batch_max_wait_ms / 1000,
        )
        self.field_types = FieldTypes(self.meta, settings.max_fields_per_account)
        self.rules = RuleBook(self.meta)
        self.templates = TemplateBook.open(settings.data_dir / TEMPLATES_DIR) if settings.insights_templates else None
        self.pipeline = Pipeline(settings, self.wal, self.metrics, self.meta, self.field_types, self.rules, self.templates)
        self.feed.subscribe(self.batcher.enqueue, replays=True)
        self.feed.subscribe(self.tail.publish)
        self.channel_sealer = Sealer(load_or_create_key(settings.data_dir / CHANNEL_KEY_FILE))
        self.outbound = OutboundPolicy.parse(settings.alerts_outbound_allow)
        self.delivery = Delivery(self.meta, self.channel_sealer, self.outbound,
                                 self.metrics, on_failing=self._channel_failing)
        self.delivery.start()
        public_url = node_url(settings.http_host, settings.http_port, bool(settings.tls_cert))
        self.alert_engine = AlertEngine(
            self.meta, self.delivery.submit, public_url=public_url, archive_lag=lambda: self.archiver.lag_seconds(),
            saved=self.wal.mark_evaluated,
        )
        self.audit.listen(SecurityNotifier(self.meta, self.delivery.submit, public_url))
        self.chain_watch = ChainWatch(self.meta, self.audit)
        self.feed.subscribe(self.alert_engine.enqueue, replays=True)
        self.metrics.gauge("timberyard_alert_lines_not_evaluated", lambda: self.alert_engine.dropped_lines)
        self.alert_engine.start()
        self.anomaly_watch: AnomalyWatch | None = None
        if settings.insights_anomalies:
            detectors = Detectors(NoveltyLimits(learn_minutes=settings.insights_learn_minutes))
            self.anomaly_watch = AnomalyWatch(self.meta, self.metrics, detectors, found=self.alert_engine.anomalies_found,
                                              path=settings.data_dir / INSIGHTS_DIR / DETECTORS_FILE)
            self.anomaly_watch.load(self.wal.checkpoint.epoch)
            self.feed.subscribe(self.anomaly_watch.enqueue, replays=True)
            self.metrics.gauge("timberyard_insights_lines_not_observed", lambda: self.anomaly_watch.dropped_lines if self.anomaly_watch else 0)
            self.anomaly_watch.start()
        self.archive_sealer = Sealer(load_or_create_key(settings.data_dir / archives.KEY_FILE))
        self.archiver = Archiver(self.meta, self.store, self.archive_sealer, signing_key, settings.resolved_archive_local_root,
                                 outbound=self.outbound, settle_s=settings.archive_settle_s, pending_floor=self._archive_floor)
        self.archiver.load()
        self.metrics.gauge_per_account("timberyard_archive_lag_seconds", self.archiver.lag_seconds)
        self.metrics.gauge("timberyard_wal_pending_bytes", lambda: self.wal.pending_bytes)
        self.metrics.gauge("timberyard_wal_fsyncs_total", lambda: self.wal.fsyncs)
        self.metrics.gauge("timberyard_batcher_queued_lines", lambda: self.batcher.queued_lines)
        self.metrics.gauge("timberyard_tail_subscribers", lambda: self.tail.subscribers)
        # Read from the store by a background chore (`refresh_store_figures`), never while rendering
        # /metrics: a store query waits for the store lock, which an insert holds for a second.
        self.merges_running = 0
        self.metrics.gauge("timberyard_store_merges_running", lambda: self.merges_running)

    def _channel_failing(self, channel: ChannelInfo, reason: str) -> None:
        self.audit.record(AuditEvent(
            account_id=channel.account_id, action="alert.channel_failing", outcome="failure", actor_name="alert delivery",
            target=f"channel {channel.id}", details={"name": channel.name, "kind": channel.kind, "reason": reason},
        ))

    def _archive_floor(self) -> int | None:
        """The first line id archives must not reach yet: 0 until the WAL is replayed, then the
        oldest line waiting for the store (None: none waiting)."""
        if not self.ready:
            return 0
        return self.batcher.oldest_pending_id()

    @property
    def ready(self) -> bool:
        """Open, replayed, and taking lines (/readyz)."""
        return self._running and self.pipeline.ready

    def save_templates(self) -> None:
        if self.templates is not None:
            self.templates.save()

    def save_detectors(self) -> None:
        if self.anomaly_watch is not None:
            self.anomaly_watch.save()

    def refresh_store_figures(self) -> None:
        self.merges_running = self.store.merges_running()

    def purge_expired(self) -> None:
        """Apply the audit trail's retention, forget old sign-in attempts, and keep the stored
        anomalies to ANOMALY_RETENTION and ANOMALIES_PER_ACCOUNT. Only sealed hours of the audit
        trail are purged, so it seals first (a no-op when the sealing chore got there already)."""
        self.audit.seal()
        self.audit.purge(datetime.now(UTC), self.settings.audit_retention_days)
        self.logins.prune()
        self.meta.transact(prune_anomalies, datetime.now(UTC) - ANOMALY_RETENTION, ANOMALIES_PER_ACCOUNT, write=True)

    def recover(self) -> None:
        """Replay the write-ahead log into the store, then accept lines. After a crash with a
        large WAL this takes a while; the node already answers /readyz (503) meanwhile."""
        replay, self._replay = self._replay, []
        if replay:
            log.info("replaying the write-ahead log", extra={"records": len(replay)})
        self.feed.replay(replay)
        self.batcher.recover()
        self.batcher.start()
        self.wal.start()
        self.pipeline.ready = True
        log.info(
            "node ready",
            extra={
                "url": node_url(self.settings.http_host, self.settings.http_port, bool(self.settings.tls_cert)),
                "data_dir": str(self.settings.data_dir), "store": self.store.url, "wal_encrypted": self.wal.encrypted,
            },
        )

    def stop(self) -> None:
        """Drain and release; safe to call twice (uvicorn's lifespan and serve() both do)."""
        if not self._running:
            return
        self._running = False
        self.pipeline.ready = False
        self.pipeline.close()
        self.wal.close()
        self.batcher.stop()
        if self.anomaly_watch is not None:
            self.anomaly_watch.stop()
        self.alert_engine.stop()
        self.delivery.stop()
        self.keyring.flush_usage()
        self.field_types.flush()
        self.rules.flush()
        if self.templates is not None:
            self.templates.close()
        self.store.close()
        self.meta.close()
        self._lock.release()
        log.info("node stopped")


def build_asgi(node: Node) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        syslog = SyslogListeners(node)
        await syslog.start()
        recovery = asyncio.create_task(asyncio.to_thread(node.recover))
        chores = [
            asyncio.create_task(_every(seconds, work, what))
            for seconds, work, what in (
                (KEY_USAGE_FLUSH_S, node.keyring.flush_usage, "writing key use"),
                (KEY_USAGE_FLUSH_S, node.field_types.flush, "writing field type conflict counts"),
                (KEY_USAGE_FLUSH_S, node.rules.flush, "writing ingest rule counts"),
                (TEMPLATES_SAVE_S, node.save_templates, "saving the template miners"),
                (DETECTORS_SAVE_S, node.save_detectors, "saving the anomaly detectors"),
                (TAIL_CHECK_S, node.tail.revalidate, "checking live tails' access"),
                (STORE_WATCH_S, node.refresh_store_figures, "reading the store's figures"),
                (AUDIT_SEAL_S, node.audit.seal, "sealing the audit trail"),
                (AUDIT_CHAIN_CHECK_S, node.chain_watch.check, "verifying the recent audit trail"),
                (PURGE_S, node.purge_expired, "purging expired audit entries, sign-in attempts and anomalies"),
                (node.settings.archive_interval_s, node.archiver.run_all, "archiving"),
            )
        ]
        try:
            yield
        finally:
            for chore in chores:
                chore.cancel()
            await syslog.stop()
            await recovery
            await asyncio.to_thread(node.stop)

    return build_app(node, lifespan=lifespan)


async def _every(seconds: float, work: Callable[[], object], what: str) -> None:
    """Run `work` on a worker thread now and every `seconds`. A failure (the database busy for
    long, say) is logged and retried next time; it never ends the loop."""
    while True:
        try:
            await asyncio.to_thread(work)
        except Exception:
            log.exception("%s failed; retrying in %d s", what, seconds)
        await asyncio.sleep(seconds)


def serve(settings: Settings, listener: socket.socket) -> None:
    """Start the node and serve HTTP (HTTPS with tls_cert/tls_key) on `listener`, bound by the
    caller before the data directory was touched (see web/listener.py), until SIGINT/SIGTERM."""
    # The pipeline's thread calls Arrow kernels hundreds of times per batch, each releasing the
    # GIL; with Python's default 5 ms switch interval, every time it wants the GIL back it can
    # wait for a request thread's whole slice. 0.5 ms took bench/parse.py's rules-on run from
    # 8,600 to 14,600-27,000 lines/s on a busy 2-core machine (see docs/operations.md).
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    transport = transport_options(settings)
    fd_limit = raise_fd_limit()  # before the store opens its files
    node = Node(settings)
    guard = ConnectionGuard(
        connection_cap(settings.http_max_connections, fd_limit),
        settings.http_header_timeout_s,
        settings.http_body_timeout_s,
        node.metrics,
    )
    node.open()
    config = uvicorn.Config(
        build_asgi(node),
        host=settings.http_host,
        port=settings.http_port,
        loop="uvloop",
        http=guard.protocol(),
        timeout_keep_alive=settings.http_keep_alive_s,
        log_config=None,
        access_log=settings.access_log,
        lifespan="on",
        timeout_graceful_shutdown=30,
        **transport,
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal; these handlers
    # turn that into a clean exit (status 0) instead of death by signal or a KeyboardInterrupt.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_cleanly)
    try:
        config.load()
        if config.ssl is not None:
            config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2  # HIPAA transmission security: no TLS 1.0/1.1
        TailClosingServer(config, node).run(sockets=[listener])
    finally:
        node.stop()


def transport_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's TLS and reverse-proxy options, checked before the node opens anything.

    Without `forwarded_allow_ips` no proxy is trusted: X-Forwarded-For/-Proto are ignored, so a
    client cannot pose as another address in the audit trail or dodge sign-in throttling."""
    options: dict[str, Any] = {"proxy_headers": bool(settings.forwarded_allow_ips)}
    if settings.forwarded_allow_ips:
        options["forwarded_allow_ips"] = _trusted_proxies(settings.forwarded_allow_ips)
    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise ConfigError("tls_cert and tls_key go together: set both to serve HTTPS, or neither for plain HTTP")
        cert, key = Path(settings.tls_cert).expanduser(), Path(settings.tls_key).expanduser()
        _check_tls_pair(cert, key)
        options.update(ssl_certfile=str(cert), ssl_keyfile=str(key))
    return options


def _trusted_proxies(value: str) -> list[str]:
    entries = [entry.strip() for entry in value.split(",") if entry.strip()]
    if "*" in entries:
        if len(entries) > 1:
            raise ConfigError("forwarded_allow_ips: '*' trusts every client and cannot be combined with addresses")
        return entries
    for entry in entries:
        try:
            ipaddress.ip_network(entry)
        except ValueError as exc:
            raise ConfigError(
                f"forwarded_allow_ips: {entry!r} is not an IP address or CIDR network such as 10.0.0.5 or 10.0.0.0/8 ({exc})"
            ) from None
    return entries


def _check_tls_pair(cert: Path, key: Path) -> None:
    """Turn OpenSSL's terse "PEM lib" into an error naming the file and what is wrong with it."""
    contents = {}
    for name, path in (("tls_cert", cert), ("tls_key", key)):
        try:
            contents[name] = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {name} {path}: {exc.strerror or exc}") from None
    try:
        x509.load_pem_x509_certificate(contents["tls_cert"])
    except ValueError:
        raise ConfigError(f"tls_cert {cert} is not a PEM certificate (-----BEGIN CERTIFICATE-----)") from None
    try:
        serialization.load_pem_private_key(contents["tls_key"], password=None)
    except TypeError:
        raise ConfigError(f"tls_key {key} is protected by a passphrase; give the node an unencrypted key file (mode 600)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ConfigError(f"tls_key {key} is not a PEM private key (-----BEGIN PRIVATE KEY-----)") from None
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise ConfigError(f"tls_key {key} does not belong to tls_cert {cert} ({exc.reason or exc})") from None


class TailClosingServer(uvicorn.Server):
    """Ends live-tail streams when shutdown begins: uvicorn waits for open responses before
    stopping, and a tail response never ends by itself."""

    def __init__(self, config: uvicorn.Config, node: Node) -> None:
        super().__init__(config)
        self.node = node

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.node.tail.close_all()
        super().handle_exit(sig, frame)


def _exit_cleanly(signum: int, frame: object) -> None:
    sys.exit(0)
