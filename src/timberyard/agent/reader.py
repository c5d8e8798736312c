"""One file being read: bytes in, complete lines with their offsets out.

- Reads at an explicit offset (`pread`), so the descriptor's own position never matters and a
  file can be closed while idle and reopened where it was.
- Truncation is seen two ways: the file became shorter than our offset, or the bytes just
  before our offset changed (truncated and rewritten past the old offset before we looked).
  The 64 bytes before the offset are re-read with every read, so this costs no extra call.
- A last line without its newline is held until the newline comes or `partial_line_timeout`
  passes (then it is sent as it is; what follows later is a line of its own).
- A line longer than `max_line_bytes` is cut, marked and counted; the rest of it is skipped as
  it arrives, so memory stays bounded however long the line is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from timberyard.agent.identity import CHECK_BYTES, HEAD_BYTES, FileId, head

CHUNK = 256 * 1024
TRUNCATED_MARK = b" [timberyard-agent: truncated]"


@dataclass
class Truncation:
    """The file shrank under us: we had read up to `offset` of the content with head `head`."""

    offset: int
    head: tuple[int, str]
    lines: int  # how many of the lines of that read came before it


class FileReader:
    def __init__(self, path: str, fid: FileId, fd: int, offset: int, *, max_line_bytes: int, partial_timeout: float) -> None:
        self.path = path  # the path the lines are reported under (kept across rotation)
        self.fid = fid
        self.fd: int | None = fd
        self.pos = offset
        self.max_line_bytes = max_line_bytes
        self.partial_timeout = partial_timeout
        self.head = head(fd)
        self.size = os.fstat(fd).st_size
        self._check = os.pread(fd, min(offset, CHECK_BYTES), offset - min(offset, CHECK_BYTES))
        self._buffer = b""
        self._partial_since = 0.0
        self._skipping = False
        self.truncated_lines = 0
        self.bytes_read = 0
        self.last_active = 0.0
        self.truncation: Truncation | None = None  # set when truncation was seen; the tailer takes it

    @property
    def consumed(self) -> int:
        """Offset up to which every byte is in a line handed out (or skipped as too long)."""
        return self.pos - len(self._buffer)

    @property
    def at_eof(self) -> bool:
        return self.pos >= self.size and not self._buffer

    @property
    def holding(self) -> bool:
        return bool(self._buffer)

    def read(self, limit: int, now: float) -> list[tuple[bytes, int]]:
        """Complete lines as (bytes, start offset), reading at most about `limit` bytes."""
        assert self.fd is not None
        lines: list[tuple[bytes, int]] = []
        taken = 0
        while taken < limit:
            back = len(self._check)
            data = os.pread(self.fd, CHUNK + back, self.pos - back)
            if data[:back] != self._check:
                self._truncated(len(lines))
                continue
            chunk = data[back:]
            if not chunk:
                self.size = os.fstat(self.fd).st_size
                if self.size < self.pos:
                    self._truncated(len(lines))
                    continue
                break
            taken += len(chunk)
            self.bytes_read += len(chunk)
            self.last_active = now
            self._check = chunk[-CHECK_BYTES:] if len(chunk) >= CHECK_BYTES else (self._check + chunk)[-CHECK_BYTES:]
            self._split(chunk, lines, now)
        self.size = max(self.size, self.pos)
        return lines

    def _split(self, chunk: bytes, lines: list[tuple[bytes, int]], now: float) -> None:
        base = self.pos - len(self._buffer)
        self.pos += len(chunk)
        parts = (self._buffer + chunk).split(b"\n") if self._buffer else chunk.split(b"\n")
        rest = parts.pop()
        limit = self.max_line_bytes
        offset = base
        for part in parts:
            start, offset = offset, offset + len(part) + 1
            if self._skipping:
                self._skipping = False
                continue
            if len(part) > limit:
                part = self._cut(part)
            elif part[-1:] == b"\r":
                part = part[:-1]
            lines.append((part, start))
        if len(rest) > limit:
            if not self._skipping:
                lines.append((self._cut(rest), offset))
                self._skipping = True
            rest = b""
        elif self._skipping:
            rest = b""
        if rest and not self._buffer:
            self._partial_since = now
        self._buffer = rest

    def _cut(self, part: bytes) -> bytes:
        self.truncated_lines += 1
        return part[: self.max_line_bytes - len(TRUNCATED_MARK)] + TRUNCATED_MARK

    def _truncated(self, lines_before: int) -> None:
        """Start again from the top; the lines read before are still handed out."""
        assert self.fd is not None
        self.truncation = Truncation(self.consumed, self.head, lines_before)
        self.pos, self._check, self._buffer, self._skipping = 0, b"", b"", False
        self.head = head(self.fd)
        self.size = os.fstat(self.fd).st_size

    def flush_partial(self, now: float, force: bool = False) -> tuple[bytes, int] | None:
        """The held last line, once it waited `partial_timeout` without its newline (or `force`)."""
        if self._buffer and (force or now - self._partial_since >= self.partial_timeout):
            line, start = self._buffer, self.pos - len(self._buffer)
            self._buffer = b""
            return line, start
        return None

    def refresh_head(self) -> None:
        """Hash more of the head while the file is shorter than the fingerprint length."""
        if self.fd is not None and self.head[0] < HEAD_BYTES and self.size > self.head[0]:
            self.head = head(self.fd)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
