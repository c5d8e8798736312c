"""The agent's composition: state, tailer, journal, outbox, sender, metrics, and the loop.

One collector thread (this one) finds and reads files and seals batches; `max_in_flight`
sender threads deliver them (two requests in flight keep the node busy while one is answered);
the journal, when enabled, has its own thread. The collector reads only while the outbox has
room, so a slow or absent node pauses reading instead of growing memory.

Shutdown (SIGTERM, Ctrl-C) hands out everything held (partial lines, stack traces), gives the
sender `SHUTDOWN_S` to deliver, moves what is left to the spool, saves the state and exits —
whether or not the node answers.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from pathlib import Path

from timberyard import __version__
from timberyard.agent.batch import Batch, Batcher, Checkpoints
from timberyard.agent.config import AgentConfig, require_destination
from timberyard.agent.journald import KEY as JOURNAL_KEY
from timberyard.agent.journald import Journal
from timberyard.agent.kubernetes import PodMetadata
from timberyard.agent.metrics import Metrics
from timberyard.agent.outbox import Outbox
from timberyard.agent.sender import Sender
from timberyard.agent.state import State
from timberyard.agent.tailer import Tailer
from timberyard.agent.transport import Transport

log = logging.getLogger("timberyard.agent")

SHUTDOWN_S = 5.0


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        require_destination(config)
        self.config = config
        self.metrics = Metrics()
        self.stopping = threading.Event()
        self.state = State(Path(config.state_dir))

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def run(self) -> None:
        """Ship until `stop()` (or SIGTERM/SIGINT when run in the main thread)."""
        config = self.config
        self.state.open()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        metrics_server = self.metrics.serve(config.metrics) if config.metrics else None
        outbox = Outbox(self._commit, self.metrics, config.resolved_spool_dir, config.spool_max_bytes)
        senders = [
            Sender(config, outbox, Transport(config.url, config.key, ca_file=config.ca_file, insecure=config.insecure, timeout=config.timeout,
                                             user_agent=f"timberyard-agent/{__version__}"), self.metrics)
            for _ in range(config.max_in_flight)
        ]
        for sender in senders:
            sender.start()
        tailer = Tailer(config, self.state, self.metrics, metadata=PodMetadata.from_setting(config.kubernetes_api))
        journal = None
        if config.journald:
            saved = self.state.get(JOURNAL_KEY)
            journal = Journal(config, saved["cursor"] if saved else None, lambda batch: outbox.put(batch, self.stopping), self.metrics)
            journal.start()
        log.info("agent %s sends to %s as host %s; state in %s", __version__, config.url, config.hostname, config.state_dir)
        try:
            self._collect(tailer, outbox)
        finally:
            self._shut_down(tailer, outbox, senders, journal)
            if metrics_server is not None:
                metrics_server.shutdown()

    def _collect(self, tailer: Tailer, outbox: Outbox) -> None:
        config = self.config
        batcher = Batcher(config.batch_max_lines, config.batch_max_bytes, config.flush_interval, config.gzip_level)
        out: list[str] = []
        last_seal = time.monotonic()
        while not self.stopping.is_set():
            now = time.monotonic()
            room = outbox.wait_for_room(config.poll_interval)
            read = 0
            if room:
                read = tailer.tick(out, now)
            else:
                tailer.watch(out, now)  # rotated files stay reachable while reading pauses
            batcher.extend(out)
            out.clear()
            if batcher.full or now - last_seal >= config.flush_interval:
                last_seal = now
                self._queue(batcher.seal_all(tailer.take_checkpoints()) if batcher.fragments else self._progress(tailer), outbox, self.stopping)
            if room and not read:
                self.stopping.wait(config.poll_interval)

    def _progress(self, tailer: Tailer) -> list[Batch]:
        """Offsets that moved without lines to send (excluded lines, finished files): an empty
        batch carries them, in order behind the batches before it."""
        checkpoints = tailer.take_checkpoints()
        return [Batch(b"", 0, 0, False, checkpoints)] if checkpoints else []

    def _queue(self, batches: list[Batch], outbox: Outbox, stop: threading.Event) -> None:
        for batch in batches:
            if not outbox.put(batch, stop):
                return  # stopping: the lines were not committed and are read again at the next start

    def _shut_down(self, tailer: Tailer, outbox: Outbox, senders: list[Sender], journal: Journal | None) -> None:
        give_up = threading.Event()
        timer = threading.Timer(SHUTDOWN_S, give_up.set)
        timer.start()
        if journal is not None:
            journal.close()
            journal.join(SHUTDOWN_S)
        out: list[str] = []
        tailer.finish_all(out)
        batcher = Batcher(self.config.batch_max_lines, self.config.batch_max_bytes, 0, self.config.gzip_level)
        batcher.extend(out)
        self._queue(batcher.seal_all(tailer.take_checkpoints()), outbox, give_up)
        deadline = time.monotonic() + SHUTDOWN_S
        for sender in senders:
            sender.stop_by(deadline)
        for sender in senders:
            sender.join(max(0.0, deadline - time.monotonic()) + 1)
            sender.halt()
        timer.cancel()
        outbox.spill_all()
        tailer.close()
        self.state.save()
        self.state.close()
        log.info("agent stopped: %d lines sent; %d bytes wait in the spool", self.metrics.counts["lines_sent"], outbox.spool_bytes)

    def _commit(self, checkpoints: Checkpoints) -> None:
        """Called by the outbox, in batch order, once a batch is acknowledged or spooled."""
        if checkpoints:
            self.state.commit(checkpoints)
            self.state.save()
