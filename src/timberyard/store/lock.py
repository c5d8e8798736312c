"""One owning process per data directory.

chDB must not open a data directory that another process has open, so the server takes an
exclusive `flock` on `<data_dir>/owner.lock` and writes who it is into it. A second process gets a
DataDirLocked error naming the owner instead of corrupting the store. The kernel drops the lock
when the owner dies, kill -9 included, so a stale file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from timberyard.core.errors import DataDirLocked

LOCK_NAME = "owner.lock"


class DataDirLock:
    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            raise DataDirLocked(
                f"data directory {self.path.parent} is in use by {owner}; "
                "stop that process or use another --data-dir (the CLI talks to a running server over HTTP)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(_owner_record()).encode())
        os.fsync(fd)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _owner_record() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(sys.argv),
        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _read_owner(fd: int) -> str:
    try:
        record = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {record['pid']} on {record['host']} ({record['command']}, since {record['since']})"
    except (ValueError, KeyError, OSError):
        return "another process"
