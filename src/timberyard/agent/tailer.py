"""Following watched paths through rotation, truncation, deletion and restarts.

Every watched path is checked with `stat` (every `poll_interval` while it is active — at most
CHECKS_PER_S checks a second across busy paths — and every 1-5 s while idle; only the paths
that are due are looked at). What is at the path is
told apart by identity (identity.py):

- **Same file, grown**: read on. **Same file, shorter**, or its bytes before our offset changed:
  truncated (copytruncate); the lines only its copy holds are read from the copy (recovery.py).
- **Another file at the path** (rename+create rotation, kubelet rotation): the old file is read
  to its end (the writer may still be finishing) and let go (openfiles.py); the new file is
  read from its start, and files that came and went between two looks are found beside it.
- **Nothing at the path** (deleted, or renamed and not yet replaced): the open file is read to
  its end and closed as soon as it is deleted, so its disk space is freed promptly.

**Where a file starts**: state entries are keyed by identity and confirmed by the head and
check fingerprints, so a known file resumes at its saved offset and a file truncated while
the agent was stopped starts over. A file that appears while the agent runs, or replaced a
known one, is read from its start. The lookback policy decides only for files present at start
that the agent never saw.
"""

from __future__ import annotations

import heapq
import logging
import os
import stat as stat_module
import time
from dataclasses import dataclass
from typing import Any

from timberyard.agent import identity
from timberyard.agent.config import AgentConfig, FileInput
from timberyard.agent.discovery import Discovery
from timberyard.agent.identity import FileId
from timberyard.agent.kubernetes import CANONICAL_DIR, PodMetadata, container_origin
from timberyard.agent.metrics import Metrics
from timberyard.agent.openfiles import ACTIVE_S, OpenFiles, open_file
from timberyard.agent.recovery import Recovery
from timberyard.agent.rules import LineRules
from timberyard.agent.state import State
from timberyard.agent.stream import FileStream, Source

log = logging.getLogger("timberyard.agent")

SMALL_FILE = 8192  # lookback smallfiles: files under this size are read from their start
READ_PER_FILE = 1024 * 1024  # per round, so one busy file cannot starve the others
IDLE_MAX_S = 5.0  # the longest an idle path goes unchecked
CHECKS_PER_S = 5000  # of busy paths: about 6% of a core


@dataclass
class Watch:
    path: str
    source: Source
    stream: FileStream | None = None
    next_check: float = 0.0
    checked_at: float = 0.0  # wall-clock time of the last check (file mtimes are wall-clock)


class Tailer:
    def __init__(self, config: AgentConfig, state: State, metrics: Metrics, *, metadata: PodMetadata | None = None) -> None:
        self.config = config
        self.state = state
        self.metrics = metrics
        self.discovery = Discovery(config)
        self.files = OpenFiles(config, metrics, LineRules(config.include_lines, config.exclude_lines, config.redact), metadata)
        self.recovery = Recovery(self.files, state, metrics)
        self.watches: dict[str, Watch] = {}
        self._due: list[tuple[float, str]] = []  # (next check, path): only due watches are looked at
        self._wanting = 0  # closed files that grew and wait for a descriptor
        self._next_scan = 0.0
        self._scanned_at = 0.0  # wall-clock time of the last scan
        self._starting = True
        self._known_paths = {entry["path"] for entry in state.entries.values() if "path" in entry}
        metrics.gauge("files_watched", "Paths watched.", lambda: len(self.watches))

    def tick(self, out: list[str], now: float) -> int:
        """One round: find files, check the due ones, read what grew. Returns bytes read."""
        self.watch(out, now)
        read = 0
        for stream in self.files.readable(now):
            if self.files.worth_reading(stream, now):
                read += stream.pump(out, READ_PER_FILE, now)
                if stream.reader.truncation is not None:
                    self._truncated(stream, out)
            stream.flush_due(out, now)
        self.files.finish_drained(now, out)
        self.files.limit(self._wanting, out)
        self._wanting = 0
        return read

    def watch(self, out: list[str], now: float) -> None:
        """Find files and check the due ones, without reading. While reading pauses (the outbox
        is full), this keeps new and rotated files open, so a rotation that deletes old files
        cannot take a file away before its lines are read."""
        if now >= self._next_scan:
            began = time.monotonic()
            self._scan(now, out)
            # A scan of a huge tree may take a while: keep its share of a core small.
            self._next_scan = now + max(self.config.scan_interval, 5 * (time.monotonic() - began))
        while self._due and self._due[0][0] <= now:
            _, path = heapq.heappop(self._due)
            watch = self.watches.get(path)
            if watch is not None and watch.next_check <= now:
                self._check(watch, now, out)

    def take_checkpoints(self) -> dict[str, dict[str, Any] | None]:
        return self.files.take_checkpoints()

    def finish_all(self, out: list[str]) -> None:
        self.files.finish_all(out)

    def close(self) -> None:
        self.files.close_all()

    # -- finding and checking paths -----------------------------------------------------------

    def _scan(self, now: float, out: list[str]) -> None:
        scanned_at = time.time()
        found = self.discovery.scan()
        for path in self.watches.keys() - found.keys():
            watch = self.watches.pop(path)
            if watch.stream is not None:
                self.files.drain(watch.stream)
        new = [path for path in found if path not in self.watches]
        if self._starting:  # files the state knows first: a copy must not be read before its original's truncation is seen
            new.sort(key=lambda path: self._state_entry(path) is None)
        for path in new:
            # A path that appeared since the last scan may have been rotated already (a new
            # log that rotates fast): as if it had been checked then, what went away is found.
            self.watches[path] = watch = Watch(path, self._source(path, found[path]), checked_at=self._scanned_at)
            self._check(watch, now, out)
        if self._starting:
            self.recovery.resume_renamed({path: watch.source for path, watch in self.watches.items()})
            self._starting = False
        self._scanned_at = scanned_at

    def _check(self, watch: Watch, now: float, out: list[str]) -> None:
        stream = watch.stream
        idle = now - stream.reader.last_active if stream is not None else IDLE_MAX_S * 10
        # Active files every poll_interval; idle ones every second; long-idle ones and paths
        # without a file every 5 s (what comes and goes meanwhile is found beside the path).
        self._schedule(watch, now + (self._active_interval() if idle < ACTIVE_S else max(1.0, min(IDLE_MAX_S, idle / 10))))
        since, watch.checked_at = watch.checked_at, time.time()
        try:
            found = os.stat(watch.path)
        except OSError:
            if stream is not None:
                self.files.drain(stream)
                watch.stream = None
            return
        if not stat_module.S_ISREG(found.st_mode):
            return
        fid = FileId.of(found)
        if stream is not None and stream.reader.fid == fid:
            self.files.draining.discard(fid)
            stream.reader.size = found.st_size
            if stream.reader.fd is None and found.st_size != stream.reader.pos:
                if self.files.has_room:
                    self.files.reopen(stream, watch.path)
                else:
                    self._wanting += 1  # room is made at the end of this round
                    self._schedule(watch, now + self.config.poll_interval)
            return
        if stream is not None:
            self.metrics.add(rotations=1)
            self.files.drain(stream)
        if stream is not None or (since and not self._starting):
            self.recovery.read_missed(watch.path, watch.source, since, fid, self.watches.keys())
        replaced = stream is not None or (self._starting and watch.path in self._known_paths)
        watch.stream = self._open(watch.path, fid, watch.source, replaced, out)
        if watch.stream is not None and not self._starting:  # a file that just came is active: it may rotate soon
            self._schedule(watch, now + self._active_interval())

    def _active_interval(self) -> float:
        """`poll_interval`, stretched so that checks stay under CHECKS_PER_S however many files
        are busy (a rotation is then seen later, never missed: the old file is still open and
        what came and went is found beside the path)."""
        return max(self.config.poll_interval, len(self.watches) / CHECKS_PER_S)

    def _schedule(self, watch: Watch, when: float) -> None:
        watch.next_check = when
        heapq.heappush(self._due, (when, watch.path))

    def _source(self, path: str, item: FileInput) -> Source:
        origin = container_origin(path)
        name = os.path.basename(path)
        multiline = item.multiline or self.config.multiline
        if origin is not None:
            return Source(CANONICAL_DIR + name, item.app or origin["container"], multiline, item.meta, item.tags, origin)
        return Source(path, item.app or name, multiline, item.meta, item.tags)

    def _state_entry(self, path: str) -> dict[str, Any] | None:
        try:
            return self.state.get(FileId.of(os.stat(path)).key)
        except OSError:
            return None

    # -- opening: where a file starts -----------------------------------------------------------

    def _open(self, path: str, fid: FileId, source: Source, replaced: bool, out: list[str]) -> FileStream | None:
        if fid in self.files.streams:  # the same file under another watched name, or back at its path
            self.files.draining.discard(fid)
            return self.files.streams[fid]
        try:
            fd = open_file(path)
        except OSError as exc:
            log.warning("cannot read %s: %s", path, exc.strerror)
            return None
        fid = FileId.of(os.fstat(fd))
        offset = self._start_offset(fd, fid, path, source, replaced, out)
        stream = self.files.add(path, fid, fd, offset, source)
        if self.state.get(fid.key) is not None:
            stream.checkpointed = offset
        return stream

    def _start_offset(self, fd: int, fid: FileId, path: str, source: Source, replaced: bool, out: list[str]) -> int:
        size = os.fstat(fd).st_size
        if fid in self.recovery.consumed_copies:
            return min(self.recovery.consumed_copies.pop(fid), size)
        entry = self.state.get(fid.key)
        if entry is not None and identity.head_matches(fd, *entry["head"]):
            offset = entry["offset"]
            if self._starting and self.config.lookback == "none":
                return size
            if size < offset or (entry.get("check") and identity.check_at(fd, offset) != entry["check"]):
                log.warning("%s was truncated while the agent was stopped; reading it from the start", path)
                self.metrics.add(truncations=1)
                self.recovery.read_copy(path, fid, tuple(entry["head"]), offset, source, out)  # type: ignore[arg-type]
                return 0
            return offset
        if not self._starting:
            return size if self.recovery.is_copy(path, fd) else 0  # a new file is read whole; a copy was read as its original
        if replaced or entry is not None:  # replaced a file we knew, or reuses a known inode: new since our last run
            return 0
        lookback = self.config.lookback
        return 0 if lookback == "start" or (lookback == "smallfiles" and size < SMALL_FILE) else size

    def _truncated(self, stream: FileStream, out: list[str]) -> None:
        cut = stream.reader.truncation
        assert cut is not None
        stream.reader.truncation = None
        self.metrics.add(truncations=1)
        self.recovery.read_copy(stream.watched, stream.reader.fid, cut.head, cut.offset, stream.source, out)
