"""Which file is this? Identity by (device, inode), confirmed by the file's content.

A path says little: rotation moves a file to another name and puts a new file at the old one.
The inode follows the file through renames, but is reused once a file is deleted, and says
nothing about a file truncated and rewritten while the agent was stopped. So two content
fingerprints back it up:

- the **head**: a hash of the first bytes (up to 1 KiB). The same inode with another head is
  another file (inode reuse); another inode with the same head is a copy (copytruncate).
- the **check**: a hash of the bytes just before the saved offset. When they differ, the file
  was truncated and written again, even if it grew past the old offset meanwhile.

Only hashes are kept in the state file, never log content.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

HEAD_BYTES = 1024
CHECK_BYTES = 64


@dataclass(frozen=True, slots=True)
class FileId:
    dev: int
    ino: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileId:
        return cls(stat.st_dev, stat.st_ino)

    @property
    def key(self) -> str:
        return f"{self.dev}:{self.ino}"

    @classmethod
    def parse(cls, key: str) -> FileId:
        dev, ino = key.split(":")
        return cls(int(dev), int(ino))


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def head(fd: int) -> tuple[int, str]:
    """(length, hash) of the file's first bytes, up to HEAD_BYTES."""
    data = os.pread(fd, HEAD_BYTES, 0)
    return len(data), digest(data)


def head_matches(fd: int, length: int, expected: str) -> bool:
    """Whether the file starts with the bytes that hashed to `expected` (length `length`)."""
    data = os.pread(fd, length, 0)
    return len(data) == length and digest(data) == expected


def check_at(fd: int, offset: int) -> str:
    """Hash of the up to CHECK_BYTES bytes before `offset`; '' at the start of the file."""
    start = max(0, offset - CHECK_BYTES)
    return digest(os.pread(fd, offset - start, start)) if offset else ""
