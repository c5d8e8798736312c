"""The write-ahead log: where an accepted batch becomes durable before the client hears "ok".

Records are appended to segment files and fsync'd by one flusher thread; every request waiting
at that moment shares the fsync (group commit). The batcher moves records into the store and
then advances a checkpoint, after which whole segments below it are deleted. After a crash,
`open()` returns the records past the checkpoint, so nothing acknowledged is lost; a torn record
at the tail (a write cut short by kill -9) was never acknowledged and is cut off.

The alert evaluator counts records as they become durable and saves its counts every few
seconds (`mark_evaluated`); records it had not saved when the node died must be replayed to it
even when the store already has them. So the log keeps, and `open()` returns, the records past
the older of the two marks (at most MAX_HELD_SEGMENTS segments more than the store needs, so a
stalled evaluator cannot fill the disk); the batcher skips what the store has.

Record frame: magic u32 | seq u64 | length u32 | crc32(seq, body) u32 | body. The magic says
what the body is:
- "TYWL": the payload in the clear (no key configured, or a log from before one was);
- "TYWE": flags u8 | the payload sealed with AES-256-GCM by store/wal_crypto.py (salt, nonce,
  ciphertext, tag),
  bound to its segment, offset, seq and flags. The flag BATCH_START marks the first frame of a
  group commit. A later commit starts only after the earlier one's fsync, so a damaged frame
  followed by an intact BATCH_START frame was durable and acknowledged: the node refuses to start
  instead of cutting those records off. A damaged frame in a segment's last group commit is a
  torn tail, whatever the cause (power loss may persist that commit's pages in any order).
Records the store already has are never decrypted again, so a key is needed only while the log
holds records the store does not.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import uuid
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import orjson

from timberyard.core.errors import ConfigError, Overloaded, TimberyardError
from timberyard.core.files import fsync_directory
from timberyard.store.wal_crypto import KEY_ENV, OVERHEAD, WalCipher

log = logging.getLogger(__name__)

MAGIC = 0x5459574C  # "TYWL"
SEALED_MAGIC = 0x54595745  # "TYWE"
FRAME = struct.Struct("<IQII")
BATCH_START = 0x01
_SEALED_MARK = struct.pack("<I", SEALED_MAGIC)
SEGMENT_SUFFIX = ".wal"
CHECKPOINT_NAME = "checkpoint.json"
MAX_HELD_SEGMENTS = 4  # segments kept for the alert evaluator alone, beyond what the store needs


class WalFull(Overloaded):
    """The log holds its whole budget of lines the store does not have yet."""


class WalDamaged(TimberyardError):
    """Records that were durable can no longer be read back as written; the node will not guess."""

    code = "WalDamaged"


@dataclass(frozen=True)
class WalRecord:
    seq: int
    payload: bytes | memoryview


@dataclass(frozen=True)
class _Frame:
    seq: int
    sealed: bool
    body: memoryview
    offset: int


@dataclass(frozen=True)
class Checkpoint:
    """`committed`: every record up to it is in the store. `inflight`: the seq range being
    inserted, completed after a crash. `evaluated`: every record up to it is counted in the
    alert evaluator's saved state (None: no evaluator has said)."""

    epoch: str
    committed: int = 0
    inflight: tuple[int, int] | None = None
    evaluated: int | None = None

    @property
    def replay_after(self) -> int:
        """Records after this one are replayed at start-up."""
        return self.committed if self.evaluated is None else min(self.committed, self.evaluated)


class WriteAheadLog:
    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int,
        max_pending_bytes: int,
        on_durable: Callable[[list[WalRecord]], None],
        cipher: WalCipher | None = None,
    ) -> None:
        self.directory = Path(directory)
        self._cipher = cipher
        self.segment_bytes = segment_bytes
        self.max_pending_bytes = max_pending_bytes
        self._on_durable = on_durable
        self._lock = threading.Condition()
        self._queue: list[tuple[WalRecord, Future[int]]] = []
        self._pending: deque[tuple[int, int]] = deque()  # (seq, bytes) not yet committed to the store
        self.pending_bytes = 0
        self.fsyncs = 0
        self._next_seq = 1
        self._segment_fd = -1
        self._segment_size = 0
        self._segment_first = 0
        self._segments: list[tuple[int, Path]] = []  # (first seq, path), oldest first
        self._closing = False
        self._thread: threading.Thread | None = None
        self.checkpoint = Checkpoint(epoch=uuid.uuid4().hex)
        self._checkpoint_lock = threading.Lock()  # the batcher and the alert evaluator both move marks

    @property
    def encrypted(self) -> bool:
        """Whether new records are sealed (a key is configured)."""
        return self._cipher is not None

    # -- start-up -----------------------------------------------------------------------------

    def open(self) -> list[WalRecord]:
        """Read the log and return the records not yet committed to the store, oldest first.
        Every check runs before anything is cut off, so a refused start leaves the log as it was."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.checkpoint = self._read_checkpoint()
        paths = sorted(self.directory.glob("*" + SEGMENT_SUFFIX))
        segments = [(path, *_read_segment(path)) for path in paths]
        replay = self._decode([(path, frame) for path, frames, _ in segments for frame in frames])
        last_seq = self.checkpoint.committed
        for index, (path, frames, good_bytes) in enumerate(segments):
            if good_bytes < path.stat().st_size:
                where = "tail" if index == len(paths) - 1 else "middle"
                log.warning(
                    "wal segment has a torn or corrupt %s; cutting it off",
                    where,
                    extra={"segment": str(path), "kept_bytes": good_bytes, "size": path.stat().st_size},
                )
                with open(path, "r+b") as handle:
                    handle.truncate(good_bytes)
            self._segments.append((int(path.stem), path))
            last_seq = max([last_seq, *(frame.seq for frame in frames)])
        for record in replay:
            if record.seq > self.checkpoint.committed:  # the budget counts what the store lacks
                self._track_pending(record.seq, len(record.payload))
        self._next_seq = last_seq + 1
        self._write_checkpoint(self.checkpoint)
        self._drop_committed_segments()
        return replay

    def _decode(self, frames: list[tuple[Path, _Frame]]) -> list[WalRecord]:
        """The records past the checkpoint; what no one needs again is never decrypted."""
        replay: list[WalRecord] = []
        opened = 0  # sealed records decrypted so far: tells a wrong key from an altered record
        for path, frame in frames:
            if frame.seq <= self.checkpoint.replay_after:
                continue
            if frame.sealed:
                replay.append(WalRecord(frame.seq, self._unseal(path, frame, first=not opened)))
                opened += 1
            elif opened:
                raise WalDamaged(
                    f"wal segment {path} holds a plaintext record (seq {frame.seq}) after encrypted ones: "
                    "the log was altered; restore the data directory from a backup"
                )
            else:
                replay.append(WalRecord(frame.seq, frame.body))
        return replay

    def _unseal(self, path: Path, frame: _Frame, *, first: bool) -> bytes:
        if self._cipher is None:
            raise ConfigError(
                f"the write-ahead log is encrypted and no key is configured: segment {path} holds encrypted records "
                f"the store does not have yet; start the node with the key it was written with "
                f"(wal_encryption_key_file or {KEY_ENV})"
            )
        flags = frame.body[0]
        place = WalCipher.place(int(path.stem), frame.offset, frame.seq, flags)
        payload = self._cipher.open(frame.body[1:], place)
        if payload is not None:
            return payload
        if first:
            raise ConfigError(
                f"the configured wal encryption key does not decrypt segment {path} (record seq {frame.seq}): "
                "start the node with the key the log was written with"
            )
        raise WalDamaged(
            f"record seq {frame.seq} at byte {frame.offset} of wal segment {path} fails authentication: "
            "it was altered or moved; restore the data directory from a backup"
        )

    def start(self) -> None:
        self._open_segment()
        self._thread = threading.Thread(target=self._flush_loop, name="wal-flusher", daemon=True)
        self._thread.start()

    # -- appending ----------------------------------------------------------------------------

    @property
    def full(self) -> bool:
        return self.pending_bytes >= self.max_pending_bytes

    def full_error(self) -> WalFull:
        return WalFull(
            "ingestion is ahead of the store: the write-ahead log is full "
            f"({self.pending_bytes} of {self.max_pending_bytes} bytes pending); retry shortly",
            retry_after=1,
        )

    def submit(self, payload: bytes | memoryview) -> Future[int]:
        """Queue a record; the future resolves to its seq once it is on disk. Raises WalFull
        when the record does not fit in the budget now."""
        future: Future[int] = Future()
        with self._lock:
            if self._closing:
                raise Overloaded("the node is shutting down; retry against another node or later", retry_after=5)
            if self.pending_bytes + len(payload) > self.max_pending_bytes:
                raise self.full_error()
            record = WalRecord(self._next_seq, payload)
            self._next_seq += 1
            self._track_pending(record.seq, len(payload))
            self._queue.append((record, future))
            self._lock.notify()
        return future

    def submit_waiting(self, payload: bytes | memoryview) -> Future[int]:
        """`submit`, waiting while the budget is full instead of refusing (stream sources,
        whose senders then wait on TCP). A payload larger than the whole budget is refused."""
        while True:
            try:
                return self.submit(payload)
            except WalFull:
                if len(payload) > self.max_pending_bytes:
                    raise
            with self._lock:
                if self.pending_bytes + len(payload) > self.max_pending_bytes and not self._closing:
                    self._lock.wait(1)  # mark_committed wakes it as soon as there is room

    # -- checkpoints --------------------------------------------------------------------------

    def mark_inflight(self, first: int, last: int) -> None:
        with self._checkpoint_lock:
            self._write_checkpoint(replace(self.checkpoint, inflight=(first, last)))

    def mark_committed(self, last: int) -> None:
        """Everything up to `last` is in the store: free its budget and delete finished segments."""
        with self._checkpoint_lock:
            self._write_checkpoint(replace(self.checkpoint, committed=last, inflight=None))
        with self._lock:
            while self._pending and self._pending[0][0] <= last:
                self.pending_bytes -= self._pending.popleft()[1]
            self._lock.notify_all()  # writers waiting for room (and the flusher, which rechecks its queue)
        self._drop_committed_segments()

    def mark_evaluated(self, last: int) -> None:
        """The alert evaluator saved its counts of every record up to `last` (a mark only moves
        forward: after a start, the evaluator has counted nothing new yet)."""
        with self._checkpoint_lock:
            if self.checkpoint.evaluated is not None and last <= self.checkpoint.evaluated:
                return
            self._write_checkpoint(replace(self.checkpoint, evaluated=last))
        self._drop_committed_segments()

    def dedup_token(self, first: int, last: int) -> str:
        return f"{self.checkpoint.epoch}:{first}-{last}"

    def close(self) -> None:
        """Stop accepting, flush what is queued, stop the flusher."""
        with self._lock:
            self._closing = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join()
        if self._segment_fd >= 0:
            os.close(self._segment_fd)
            self._segment_fd = -1

    # -- internals ----------------------------------------------------------------------------

    def _track_pending(self, seq: int, size: int) -> None:
        self._pending.append((seq, size))
        self.pending_bytes += size

    def _flush_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._lock.wait()
                batch, self._queue = self._queue, []
                if not batch and self._closing:
                    return
            self._flush(batch)

    def _flush(self, batch: list[tuple[WalRecord, Future[int]]]) -> None:
        start_size = self._segment_size
        try:
            if self._segment_size >= self.segment_bytes:
                self._rotate(batch[0][0].seq)
                start_size = 0
            buffers: list[bytes | memoryview] = []
            offset = self._segment_size
            for index, (record, _) in enumerate(batch):
                magic, body = MAGIC, record.payload
                if self._cipher is not None:
                    flags = BATCH_START if index == 0 else 0
                    place = WalCipher.place(self._segment_first, offset, record.seq, flags)
                    magic, body = SEALED_MAGIC, bytes((flags,)) + self._cipher.seal(record.payload, place)
                buffers.append(FRAME.pack(magic, record.seq, len(body), _crc(record.seq, body)))
                buffers.append(body)
                offset += FRAME.size + len(body)
            _write_all(self._segment_fd, buffers)
            os.fdatasync(self._segment_fd)
            self._segment_size += sum(len(b) for b in buffers)
            self.fsyncs += 1
        except OSError as exc:
            log.error("wal write failed: %s", exc)
            self._undo_partial_write(start_size, batch)
            error = Overloaded(f"the write-ahead log could not be written ({exc.strerror}); retry later", retry_after=5)
            for _, future in batch:
                future.set_exception(error)
            return
        self._on_durable([record for record, _ in batch])
        for record, future in batch:
            future.set_result(record.seq)

    def _undo_partial_write(self, size: int, batch: list[tuple[WalRecord, Future[int]]]) -> None:
        failed = {record.seq for record, _ in batch}
        with self._lock:
            kept = [(seq, n) for seq, n in self._pending if seq not in failed]
            self._pending = deque(kept)
            self.pending_bytes = sum(n for _, n in kept)
        try:
            os.ftruncate(self._segment_fd, size)
            self._segment_size = size
        except OSError as exc:
            log.error("could not cut a failed wal write off: %s", exc)
            self._segment_size = self.segment_bytes  # leave the debris as a segment's tail: rotate

    def _open_segment(self) -> None:
        if self._segments:
            first, path = self._segments[-1]
        else:
            first = self._next_seq
            path = self.directory / f"{first:020d}{SEGMENT_SUFFIX}"
            self._segments.append((first, path))
        self._segment_first = first
        self._segment_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._segment_size = os.fstat(self._segment_fd).st_size
        fsync_directory(self.directory)

    def _rotate(self, first_seq: int) -> None:
        os.close(self._segment_fd)
        path = self.directory / f"{first_seq:020d}{SEGMENT_SUFFIX}"
        with self._lock:
            self._segments.append((first_seq, path))
        self._segment_first = first_seq
        self._segment_fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._segment_size = 0
        fsync_directory(self.directory)

    def _drop_committed_segments(self) -> None:
        """Delete every segment, except the one being written, whose records no one needs again
        (the store has them, and the alert evaluator unless it is MAX_HELD_SEGMENTS behind)."""
        checkpoint = self.checkpoint
        with self._lock:
            removable = []
            done = [index for index in range(1, len(self._segments)) if self._segments[index][0] - 1 <= checkpoint.committed]
            held = [index for index in done if self._segments[index][0] - 1 > checkpoint.replay_after]
            for _ in range(len(done) - min(len(held), MAX_HELD_SEGMENTS)):
                removable.append(self._segments.pop(0)[1])
        for path in removable:
            path.unlink(missing_ok=True)

    def _read_checkpoint(self) -> Checkpoint:
        path = self.directory / CHECKPOINT_NAME
        if not path.exists():
            return Checkpoint(epoch=uuid.uuid4().hex)
        data = orjson.loads(path.read_bytes())
        inflight = tuple(data["inflight"]) if data.get("inflight") else None
        evaluated = int(data["evaluated"]) if data.get("evaluated") is not None else None
        return Checkpoint(data["epoch"], int(data["committed"]), inflight, evaluated)  # type: ignore[arg-type]

    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        path = self.directory / CHECKPOINT_NAME
        temp = path.with_suffix(".tmp")
        body = {"epoch": checkpoint.epoch, "committed": checkpoint.committed, "inflight": checkpoint.inflight,
                "evaluated": checkpoint.evaluated}
        with open(temp, "wb") as handle:
            handle.write(orjson.dumps(body))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        fsync_directory(self.directory)
        self.checkpoint = checkpoint


def _read_segment(path: Path) -> tuple[list[_Frame], int]:
    """Parse a segment; return its intact frames and the length of the intact prefix. Raise
    WalDamaged when the prefix ends at a frame that was once durable (see the module doc)."""
    data = path.read_bytes()
    frames: list[_Frame] = []
    offset = 0
    while (frame := _frame_at(data, offset)) is not None:
        frames.append(frame)
        offset += FRAME.size + len(frame.body)
    if offset < len(data) and _batch_starts_after(data, offset):
        raise WalDamaged(
            f"wal segment {path} is damaged at byte {offset}, before records of a later group commit that "
            "were acknowledged: refusing to cut them off; restore the data directory from a backup, "
            "or move the segment aside to give up its records"
        )
    return frames, offset


def _frame_at(data: bytes, offset: int) -> _Frame | None:
    """The intact frame starting at `offset`, or None (short, wrong magic or checksum)."""
    if offset + FRAME.size > len(data):
        return None
    magic, seq, length, crc = FRAME.unpack_from(data, offset)
    end = offset + FRAME.size + length
    if magic not in (MAGIC, SEALED_MAGIC) or end > len(data):
        return None
    body = memoryview(data)[offset + FRAME.size : end]
    if _crc(seq, body) != crc or (magic == SEALED_MAGIC and length < 1 + OVERHEAD):
        return None
    return _Frame(seq, magic == SEALED_MAGIC, body, offset)


def _batch_starts_after(data: bytes, damaged_at: int) -> bool:
    """Whether an intact sealed frame opening a later group commit follows `damaged_at`."""
    position = data.find(_SEALED_MARK, damaged_at + 1)
    while position != -1:
        frame = _frame_at(data, position)
        if frame is not None and frame.sealed and frame.body[0] & BATCH_START:
            return True
        position = data.find(_SEALED_MARK, position + 1)
    return False


def _crc(seq: int, body: bytes | memoryview) -> int:
    return zlib.crc32(body, zlib.crc32(seq.to_bytes(8, "little")))


def _write_all(fd: int, buffers: list[bytes | memoryview]) -> None:
    pending = [memoryview(b) for b in buffers]
    max_iov = os.sysconf("SC_IOV_MAX")
    while pending:
        written = os.writev(fd, pending[:max_iov])
        while written and pending:
            if written >= len(pending[0]):
                written -= len(pending.pop(0))
            else:
                pending[0] = pending[0][written:]
                written = 0

