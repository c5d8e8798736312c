"""The files being read, by identity, within a budget of descriptors.

A file stays here from the moment the agent decides where it starts until it is done: read to
its end after it left its path (rotated away, deleted) and then let go. Descriptors are bounded
by `max_open_files`: idle files are closed (least recently active first) and opened again when
they grow, so ten thousand quiet files cost no more descriptors than the budget.

Each file's progress becomes a *checkpoint* (its state entry) only when its safe offset moved;
the collector hands the checkpoints to the next sealed batch, so they are committed once the
node has every line before them.
"""

from __future__ import annotations

import os
import time
from typing import Any

from timberyard.agent import identity
from timberyard.agent.config import AgentConfig
from timberyard.agent.identity import FileId
from timberyard.agent.kubernetes import PodMetadata
from timberyard.agent.metrics import Metrics
from timberyard.agent.neighbours import find_inode
from timberyard.agent.reader import FileReader
from timberyard.agent.rules import LineRules
from timberyard.agent.stream import FileStream, Source

ACTIVE_S = 5.0  # a file written this recently is read every round, even when it looked done

Entry = dict[str, Any]


def open_file(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)


class OpenFiles:
    def __init__(self, config: AgentConfig, metrics: Metrics, rules: LineRules, metadata: PodMetadata | None) -> None:
        self.config = config
        self.metrics = metrics
        self.rules = rules
        self.metadata = metadata
        self.streams: dict[FileId, FileStream] = {}
        self.draining: set[FileId] = set()  # left their path: read to the end, then let go
        self.checkpoints: dict[str, Entry | None] = {}  # None: forget the file (done and deleted)
        self._held: set[FileId] = set()  # streams holding a descriptor (at most max_open_files, draining ones aside)
        self._touched: set[FileId] = set()  # closed since the last checkpoints were taken
        metrics.gauge("files_open", "Files held open.", lambda: len(self._held))
        metrics.gauge("lag_bytes", "Bytes written to watched files and not read yet.", self._lag)

    def add(self, path: str, fid: FileId, fd: int, offset: int, source: Source, *, draining: bool = False) -> FileStream:
        """Read the file open at `fd` (watched as `path`) from `offset`."""
        reader = FileReader(source.file, fid, fd, offset, max_line_bytes=self.config.max_line_bytes,
                            partial_timeout=self.config.partial_line_timeout)
        reader.last_active = time.monotonic()
        stream = FileStream(reader, source, rules=self.rules, metrics=self.metrics,
                            multiline_timeout=self.config.multiline_timeout, metadata=self.metadata)
        stream.directory = os.path.dirname(os.path.realpath(path))
        stream.watched = path
        self.streams[fid] = stream
        self._held.add(fid)
        if draining:
            self.draining.add(fid)
        if len(self._held) > self.config.max_open_files and fid not in self.draining:
            self._close_idle(stream)  # where it starts is decided; it is opened again when there is room
        return stream

    @property
    def has_room(self) -> bool:
        return len(self._held) < self.config.max_open_files

    def readable(self, now: float) -> list[FileStream]:
        """Streams holding a descriptor and ready to be read (a new pod's may wait for its labels)."""
        return [stream for fid in list(self._held) if (stream := self.streams[fid]).ready(now)]

    def worth_reading(self, stream: FileStream, now: float) -> bool:
        reader = stream.reader
        return reader.fid in self.draining or now - reader.last_active < ACTIVE_S or reader.size > reader.pos

    def reopen(self, stream: FileStream, path: str) -> None:
        """Give a file closed while idle its descriptor again, if `path` is still that file."""
        try:
            fd = open_file(path)
        except OSError:
            return
        if FileId.of(os.fstat(fd)) != stream.reader.fid:
            os.close(fd)
            return
        stream.reader.fd = fd
        self._held.add(stream.reader.fid)
        stream.reader.last_active = time.monotonic()

    def drain(self, stream: FileStream) -> None:
        """The file left its path: read it to its end before letting it go."""
        fid = stream.reader.fid
        if stream.reader.fd is None:
            moved = find_inode(stream.directory, fid)
            if moved is not None:
                self.reopen(stream, moved)
        self.draining.add(fid)

    def finish_drained(self, now: float, out: list[str]) -> None:
        """Let go of drained files: once deleted, or `rotate_wait` without growth at their end."""
        for fid in list(self.draining):
            stream = self.streams[fid]
            reader = stream.reader
            if reader.fd is not None:
                deleted = os.fstat(reader.fd).st_nlink == 0
                if not reader.at_eof or not (deleted or now - reader.last_active >= self.config.rotate_wait):
                    continue
                stream.finish(out)
            else:
                deleted = True  # closed while idle and gone since: nothing unread is left to find
            self.checkpoints[fid.key] = None if deleted else self.entry(stream, stream.safe_offset)
            stream.checkpointed = stream.safe_offset
            self._close(stream)
            self.draining.discard(fid)
            del self.streams[fid]

    def limit(self, wanted: int, out: list[str]) -> None:
        """Keep `max_open_files`, with room for `wanted` files that grew while closed: close the
        least recently active files that wait at their end (a record still held for multiline
        joining is handed out first; a line without its newline keeps its file open)."""
        excess = len(self._held) + wanted - self.config.max_open_files
        if excess <= 0:
            return
        idle = [s for fid in self._held if fid not in self.draining and (s := self.streams[fid]).reader.at_eof]
        for stream in sorted(idle, key=lambda s: s.reader.last_active)[:excess]:
            stream.finish(out)
            self._close_idle(stream)

    def take_checkpoints(self) -> dict[str, Entry | None]:
        """Entries for every file whose safe offset moved since the last batch was sealed (only
        open files can have moved; `_touched` holds those closed since)."""
        touched, self._touched = self._touched | self._held, set()
        for fid in touched:
            stream = self.streams.get(fid)
            if stream is None:
                continue
            offset = stream.safe_offset
            if offset != stream.checkpointed:
                stream.checkpointed = offset
                self.checkpoints[stream.reader.fid.key] = self.entry(stream, offset)
        taken, self.checkpoints = self.checkpoints, {}
        return taken

    def entry(self, stream: FileStream, offset: int) -> Entry:
        """The state entry of a file read up to `offset`: where, and its content fingerprints."""
        reader = stream.reader
        reader.refresh_head()
        check = identity.check_at(reader.fd, offset) if reader.fd is not None else stream.closed_check
        return {"path": stream.watched, "offset": offset, "head": list(reader.head), "check": check, "seen": int(time.time())}

    def finish_all(self, out: list[str]) -> None:
        """At shutdown: everything held is handed out (partial lines, stack traces)."""
        for stream in self.streams.values():
            if stream.reader.fd is not None:
                stream.finish(out)

    def close_all(self) -> None:
        for fid in list(self._held):
            self._close(self.streams[fid])

    def _close(self, stream: FileStream) -> None:
        stream.reader.close()
        self._held.discard(stream.reader.fid)
        self._touched.add(stream.reader.fid)

    def _close_idle(self, stream: FileStream) -> None:
        offset = stream.safe_offset
        stream.closed_check = identity.check_at(stream.reader.fd, offset)  # type: ignore[arg-type]
        self._close(stream)

    def _lag(self) -> float:
        """Read when scraped: the files' sizes now, not as last read (reading may be paused)."""
        lag = 0
        for stream in list(self.streams.values()):
            fd = stream.reader.fd
            try:
                size = os.fstat(fd).st_size if fd is not None else stream.reader.size
            except OSError:
                continue
            lag += max(0, size - stream.reader.pos)
        return float(lag)
