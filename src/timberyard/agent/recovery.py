"""Lines that rotation moved out of a watched path's reach, read anyway — and read once.

- **copytruncate**: logrotate copies the file, then truncates it. Lines written after our last
  read and before the truncation are only in the copy. When a truncation is seen, the copy is
  looked for next to the file (same name stem, same head fingerprint, at least as long as our
  offset) and read from our offset to its end. A copy found while the original still runs is
  marked as read, so globs that match it do not send it twice (the Filebeat failure). What
  remains lost is what logrotate itself loses (lines written between its copy and its
  truncate), and everything since our last read if the copy was compressed and removed before
  we looked (`poll_interval`).
- **Rotations back to back**: a file that came to the path after our last look and was rotated
  away before the next one was never seen there. It is next to the path (same name stem),
  unknown, and written since that look; it is read whole.
- **Rotation while the agent was stopped**: a file the state file knows at a watched path,
  renamed away meanwhile, is found by its inode in the same directory and finished from its
  saved offset (the file now at the path is new and read from its start).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Collection, Mapping

from timberyard.agent import identity, neighbours
from timberyard.agent.identity import FileId
from timberyard.agent.metrics import Metrics
from timberyard.agent.openfiles import OpenFiles, open_file
from timberyard.agent.reader import FileReader
from timberyard.agent.state import State
from timberyard.agent.stream import FileStream, Source

log = logging.getLogger("timberyard.agent")

MIN_COPY_HEAD = 256  # a shorter head could be a banner that new files share with old ones
READ_ALL = 64 * 1024 * 1024


class Recovery:
    def __init__(self, files: OpenFiles, state: State, metrics: Metrics) -> None:
        self.files = files
        self.state = state
        self.metrics = metrics
        self.consumed_copies: dict[FileId, int] = {}  # copies read as their original's rest: where a glob starts them

    def read_copy(self, path: str, fid: FileId, head: tuple[int, str], offset: int, source: Source, out: list[str]) -> None:
        """`path` (the file `fid`, which started with `head`) was truncated after we read `offset`
        bytes of it: read [offset, end) of its copy, if there is one."""
        found_copy = neighbours.find_copy(path, fid, head, offset) if offset else None
        if found_copy is None:
            return
        copy_path, found = found_copy
        copy_fid = FileId.of(found)
        fd = open_file(copy_path)
        config = self.files.config
        reader = FileReader(source.file, copy_fid, fd, offset, max_line_bytes=config.max_line_bytes, partial_timeout=0)
        stream = FileStream(reader, source, rules=self.files.rules, metrics=self.metrics, multiline_timeout=0)
        while stream.pump(out, READ_ALL, time.monotonic()):
            pass
        stream.finish(out)
        self.files.checkpoints[copy_fid.key] = {"path": copy_path, "offset": reader.pos, "head": list(reader.head),
                                                "check": identity.check_at(fd, reader.pos), "seen": int(time.time())}
        reader.close()
        if copy_fid not in self.files.streams:  # if a glob matches it later, it starts at its end
            self.consumed_copies[copy_fid] = found.st_size
        self.metrics.add(copies_recovered=1)
        log.info("read %s bytes of %s that the truncation of %s left only there", found.st_size - offset, copy_path, path)

    def is_copy(self, path: str, fd: int) -> bool:
        """Whether a file that just appeared is a copy of a file being read (copytruncate's copy)."""
        directory, name = os.path.split(os.path.realpath(path))
        for stream in self.files.streams.values():
            length, digest = stream.reader.head
            original = os.path.basename(stream.watched)
            if (stream.directory == directory and length >= MIN_COPY_HEAD and name != original
                    and name.startswith(neighbours.stem(original)) and identity.head_matches(fd, length, digest)):
                return True
        return False

    def read_missed(self, watched: str, source: Source, since: float, current: FileId, others: Collection[str]) -> None:
        """Read whole the files that lived at `watched` only between our look at `since` (wall
        clock) and now: unknown siblings written since, that are neither watched themselves
        (`others`) nor copies of a file we read."""
        for path, found in neighbours.siblings(watched):
            fid = FileId.of(found)
            if (fid == current or found.st_mtime <= since or path in others or fid in self.files.streams
                    or self.state.get(fid.key) is not None or fid in self.consumed_copies):
                continue
            fd = open_file(path)
            if self.is_copy(path, fd):
                os.close(fd)
                continue
            self.files.add(watched, fid, fd, 0, source, draining=True)
            self.metrics.add(rotations=1)
            log.info("%s was at %s for less than a poll interval; reading it", path, watched)

    def resume_renamed(self, watched: Mapping[str, Source]) -> None:
        """At start: finish, from its saved offset, each file renamed away from a watched path
        while the agent was stopped."""
        for key, entry in list(self.state.entries.items()):
            path = entry.get("path", "")
            fid = FileId.parse(key) if ":" in key else None
            if fid is None or fid in self.files.streams or path not in watched:
                continue
            moved = neighbours.find_inode(os.path.dirname(os.path.realpath(path)), fid)
            if moved is None:
                continue
            fd = open_file(moved)
            if not identity.head_matches(fd, *entry["head"]) or os.fstat(fd).st_size <= entry["offset"]:
                os.close(fd)
                continue
            stream = self.files.add(path, fid, fd, entry["offset"], watched[path], draining=True)
            stream.checkpointed = entry["offset"]
            log.info("%s was rotated to %s while the agent was stopped; reading it from offset %d", path, moved, entry["offset"])
