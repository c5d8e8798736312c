"""Batches on their way to the node: a few in memory, the rest on disk while the node is away.

While the node answers, batches wait in memory (at most `MEMORY_BATCHES`) and their offsets
are committed when the node acknowledges them. When a send fails, every batch in memory is
moved to the spool, oldest first, and from then on new batches go straight there until the
spool is empty again. A spooled batch is fsync'd before its offsets are committed, so the
files it came from may rotate away meanwhile without a line lost. When the spool reaches
`spool_max_bytes`, reading pauses: the lines wait in their files (and are counted as lag),
never dropped. Batches leave in the order they were made, and offsets are committed in that
order too, so an offset never passes a line that is not yet safe.

A spool file is `<seq>.batch`: one JSON header line, then the body exactly as it is sent.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from timberyard.agent.batch import Batch, Checkpoints
from timberyard.agent.metrics import Metrics

log = logging.getLogger("timberyard.agent")

MEMORY_BATCHES = 6


class Outbox:
    def __init__(self, commit: Callable[[Checkpoints], None], metrics: Metrics, spool_dir: Path | None, spool_max_bytes: int) -> None:
        self._commit = commit
        self.metrics = metrics
        self.spool_dir = spool_dir if spool_max_bytes > 0 else None
        self.spool_max_bytes = spool_max_bytes
        self._memory: deque[Batch] = deque()
        self._spooled: deque[tuple[int, Path, int]] = deque()  # seq, file, size
        self.spool_bytes = 0
        self._spilling = False
        self._in_flight: set[int] = set()  # seqs a sender holds
        self._seq = 0
        self._waiting_for_room = False
        self._cond = threading.Condition()
        if self.spool_dir is not None:
            self._load_spool()
        metrics.gauge("spool_bytes", "Bytes of batches waiting in the disk spool.", lambda: self.spool_bytes)
        metrics.gauge("batches_pending", "Batches waiting to be sent (memory and spool).", lambda: len(self._memory) + len(self._spooled))

    def _load_spool(self) -> None:
        assert self.spool_dir is not None
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.spool_dir.glob("*.tmp"):
            leftover.unlink()  # a write a crash cut short: its offsets were never committed
        for path in sorted(self.spool_dir.glob("*.batch")):
            size = path.stat().st_size
            self._spooled.append((int(path.stem), path, size))
            self.spool_bytes += size
        if self._spooled:
            self._seq = self._spooled[-1][0]
            self._spilling = True
            log.info("%d batches (%d bytes) wait in the spool from before; sending them first", len(self._spooled), self.spool_bytes)

    @property
    def empty(self) -> bool:
        return not self._memory and not self._spooled

    def wait_for_room(self, timeout: float) -> bool:
        """Whether a batch fits now, waiting up to `timeout` for the sender to make room."""
        with self._cond:
            if self._room_locked(0) or (self._cond.wait(timeout) and self._room_locked(0)):
                self._waiting_for_room = False
                return True
            self._note_full_locked()
            return False

    def _room_locked(self, size: int) -> bool:
        if self._spilling and self.spool_dir is not None:
            return not self._spooled or self.spool_bytes + size <= self.spool_max_bytes
        return len(self._memory) < MEMORY_BATCHES

    def put(self, batch: Batch, stop: threading.Event) -> bool:
        """Queue a batch, waiting while there is no room; False if `stop` is set meanwhile."""
        with self._cond:
            self._seq += 1
            batch.seq = self._seq
            while not stop.is_set():
                if self._spilling and self.spool_dir is not None:
                    if self._spill_locked() and self._spool_locked(batch):
                        self._waiting_for_room = False
                        return True
                elif len(self._memory) < MEMORY_BATCHES:
                    self._memory.append(batch)
                    self._cond.notify_all()
                    return True
                self._note_full_locked()
                self._cond.wait(0.2)
            return False

    def _note_full_locked(self) -> None:
        """Count (once per episode) that reading pauses because the spool is at its cap."""
        if self._spilling and self.spool_dir is not None and not self._waiting_for_room:
            self._waiting_for_room = True
            self.metrics.add(spool_full_waits=1)
            log.warning("the spool holds %d bytes (spool_max_bytes); reading pauses until the node takes some", self.spool_bytes)

    def next(self, timeout: float) -> Batch | None:
        """The oldest batch no sender holds (it stays queued until `done`), or None after `timeout`."""
        with self._cond:
            batch = self._oldest_free_locked()
            if batch is None:
                self._cond.wait(timeout)
                batch = self._oldest_free_locked()
            if batch is not None:
                self._in_flight.add(batch.seq)
            return batch

    def _oldest_free_locked(self) -> Batch | None:
        spooled = next(((seq, path) for seq, path, _ in self._spooled if seq not in self._in_flight), None)
        memory = next((batch for batch in self._memory if batch.seq not in self._in_flight and not batch.acked), None)
        if spooled is not None and (memory is None or spooled[0] < memory.seq):
            return self._read_spooled(*spooled)
        return memory

    def release(self, batch: Batch) -> None:
        """The batch could not be delivered now; another attempt may take it."""
        with self._cond:
            self._in_flight.discard(batch.seq)
            self._cond.notify_all()

    def done(self, batch: Batch) -> None:
        """The node has the batch (or refused it for good). A spooled batch's file goes; a batch in
        memory commits its offsets once every batch before it is done too (two may be in flight)."""
        with self._cond:
            self._in_flight.discard(batch.seq)
            for index, (seq, path, size) in enumerate(self._spooled):
                if seq == batch.seq:
                    del self._spooled[index]
                    path.unlink(missing_ok=True)
                    self.spool_bytes -= size
                    break
            else:
                batch.acked = True
                while self._memory and self._memory[0].acked:
                    self._commit(self._memory.popleft().checkpoints)
            if not self._spooled:
                self._spilling = False
            self._cond.notify_all()

    def failing(self) -> None:
        """A send failed: move what is in memory to the spool (if there is one) and spool from now on."""
        with self._cond:
            if self.spool_dir is not None:
                if not self._spilling:
                    log.warning("the node is unreachable; batches go to the spool in %s until it is back", self.spool_dir)
                self._spilling = True
                self._spill_locked()

    def _spill_locked(self) -> bool:
        """Memory → spool, oldest first (one the node already took just commits); False when the
        spool is full before memory is empty."""
        while self._memory:
            head = self._memory[0]
            if head.acked:
                self._commit(head.checkpoints)
            elif not self._spool_locked(head):
                return False
            self._memory.popleft()
        return True

    def _spool_locked(self, batch: Batch) -> bool:
        assert self.spool_dir is not None
        header = json.dumps({"lines": batch.lines, "size": batch.size, "gzipped": batch.gzipped}).encode() + b"\n"
        size = len(header) + len(batch.body)
        if self._spooled and self.spool_bytes + size > self.spool_max_bytes:
            return False
        path = self.spool_dir / f"{batch.seq:020d}.batch"
        temporary = path.with_suffix(".tmp")
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, header + batch.body)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, path)
        except OSError as exc:
            log.error("cannot write to the spool %s: %s; reading pauses", self.spool_dir, exc.strerror)
            temporary.unlink(missing_ok=True)
            return False
        self._spooled.append((batch.seq, path, size))
        self.spool_bytes += size
        self._commit(batch.checkpoints)
        self.metrics.add(batches_spooled=1)
        self._cond.notify_all()
        return True

    def _read_spooled(self, seq: int, path: Path) -> Batch:
        with path.open("rb") as handle:
            header = json.loads(handle.readline())
            body = handle.read()
        return Batch(body, header["lines"], header["size"], header["gzipped"], {}, seq)

    def spill_all(self) -> None:
        """At shutdown: what the node did not take yet goes to the spool (if any), offsets committed."""
        with self._cond:
            if self.spool_dir is not None and self._memory:
                self._spilling = True
                self._spill_locked()
