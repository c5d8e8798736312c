"""The composition root: builds one node from its settings and runs it under uvicorn.

Start-up order matters: take the data-directory lock before chDB opens the store; replay the
write-ahead log into the store before accepting new lines; on shutdown stop accepting, drain the
WAL into the store, then release everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

from timberyard.auth.keys import KeyRing
from timberyard.config.settings import Settings
from timberyard.core.metrics import Metrics
from timberyard.ingest.pipeline import IngestPipeline
from timberyard.ingest.tail import TailHub
from timberyard.meta.database import MetaDB
from timberyard.store import open_store
from timberyard.store.batcher import Batcher
from timberyard.store.lock import DataDirLock
from timberyard.store.wal import WriteAheadLog
from timberyard.web.app import build_app

log = logging.getLogger(__name__)

KEY_USAGE_FLUSH_S = 10


class Node:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.tail = TailHub(settings.tail_max_pending_lines)
        self.ready = False
        self._running = False
        self._lock = DataDirLock(settings.data_dir)

    def open(self) -> None:
        """Take the data directory and open everything; quick, done before listening."""
        settings = self.settings
        self._lock.acquire()
        self._running = True
        self.meta = MetaDB.open(settings.resolved_metadata_url)
        self.keyring = KeyRing(self.meta)
        self.store = open_store(settings.resolved_store_url)
        self.store.create_schema()
        self.wal = WriteAheadLog(
            settings.wal_dir,
            segment_bytes=settings.wal_segment_bytes,
            max_pending_bytes=settings.wal_max_bytes,
            on_durable=lambda records: self.tail.publish(self.batcher.enqueue(records)),
        )
        self.batcher = Batcher(
            self.store,
            self.wal,
            self.metrics,
            max_lines=settings.batch_max_lines,
            max_wait_s=settings.batch_max_wait_ms / 1000,
        )
        self.pipeline = IngestPipeline(settings, self.wal, self.metrics, self.meta)
        self.metrics.gauge("timberyard_wal_pending_bytes", lambda: self.wal.pending_bytes)
        self.metrics.gauge("timberyard_wal_fsyncs_total", lambda: self.wal.fsyncs)
        self.metrics.gauge("timberyard_batcher_queued_lines", lambda: self.batcher.queued_lines)
        self.metrics.gauge("timberyard_tail_subscribers", lambda: self.tail.subscribers)

    def recover(self) -> None:
        """Replay the write-ahead log into the store, then accept lines. After a crash with a
        large WAL this takes a while; the node already answers /readyz (503) meanwhile."""
        replay = self.wal.open()
        if replay:
            log.info("replaying the write-ahead log", extra={"records": len(replay)})
        self.batcher.enqueue(replay)
        self.batcher.recover()
        self.batcher.start()
        self.wal.start()
        self.ready = True
        log.info("node ready", extra={"data_dir": str(self.settings.data_dir), "store": self.store.url})

    def stop(self) -> None:
        """Drain and release; safe to call twice (uvicorn's lifespan and serve() both do)."""
        if not self._running:
            return
        self._running = False
        self.ready = False
        self.wal.close()
        self.batcher.stop()
        self.keyring.flush_usage()
        self.store.close()
        self.meta.close()
        self._lock.release()
        log.info("node stopped")


def build_asgi(node: Node) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        recovery = asyncio.create_task(asyncio.to_thread(node.recover))
        flusher = asyncio.create_task(_flush_key_usage(node))
        try:
            yield
        finally:
            flusher.cancel()
            await recovery
            await asyncio.to_thread(node.stop)

    return build_app(node, lifespan=lifespan)


async def _flush_key_usage(node: Node) -> None:
    while True:
        await asyncio.sleep(KEY_USAGE_FLUSH_S)
        await asyncio.to_thread(node.keyring.flush_usage)


def serve(settings: Settings) -> None:
    """Start the node and serve HTTP until SIGINT/SIGTERM."""
    node = Node(settings)
    node.open()
    config = uvicorn.Config(
        build_asgi(node),
        host=settings.http_host,
        port=settings.http_port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then re-raises the signal; these handlers
    # turn that into a clean exit (status 0) instead of death by signal or a KeyboardInterrupt.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _exit_cleanly)
    try:
        TailClosingServer(config, node).run()
    finally:
        node.stop()


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
