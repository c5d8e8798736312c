"""The state file: how far each file (and the journal) has been delivered.

An entry moves forward only when the node has acknowledged every line before its offset (or
those lines are safe in the spool). The file is replaced atomically — written to a temporary
file, fsync'd, renamed over the old one, and the directory fsync'd — so after a crash or a
power cut it is the old state or the new one, never empty or torn.

Entries are keyed by file identity (`dev:ino`), not path, so a file keeps its offset when
rotation renames it. Each entry's JSON is cached and only changed entries are encoded again,
so saving stays cheap with ten thousand files.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("timberyard.agent")

VERSION = 1
FORGET_AFTER_S = 3 * 86400  # entries of files not seen for this long are dropped


class StateDirBusy(Exception):
    pass


class State:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "state.json"
        self.entries: dict[str, dict[str, Any]] = {}
        self._encoded: dict[str, str] = {}
        self._lock_fd: int | None = None

    def open(self) -> State:
        """Take the directory (one agent per state directory) and read the saved state."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / "agent.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 200, 0).decode(errors="replace").strip()
            os.close(fd)
            raise StateDirBusy(f"another agent uses the state directory {self.directory} ({owner or 'pid unknown'}); "
                               "give each agent its own state_dir") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}\n".encode(), 0)
        self._lock_fd = fd
        self._load()
        return self

    def _load(self) -> None:
        try:
            saved = json.loads(self.path.read_bytes())
            entries = saved["entries"] if saved.get("version") == VERSION else {}
        except FileNotFoundError:
            return
        except (ValueError, KeyError, TypeError, AttributeError):
            aside = self.path.with_name(f"state.json.unreadable-{int(time.time())}")
            os.replace(self.path, aside)
            log.error("the state file could not be read and was moved to %s; files start by the lookback policy", aside)
            return
        horizon = time.time() - FORGET_AFTER_S
        self.entries = {key: entry for key, entry in entries.items() if entry.get("seen", 0) >= horizon}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.entries.get(key)

    def commit(self, checkpoints: dict[str, dict[str, Any] | None]) -> None:
        """Apply acknowledged progress: an entry per key, or None to forget a finished file."""
        for key, entry in checkpoints.items():
            self._encoded.pop(key, None)
            if entry is None:
                self.entries.pop(key, None)
            else:
                self.entries[key] = entry

    def save(self) -> None:
        body = ",".join(self._entry_json(key) for key in self.entries)
        data = f'{{"version":{VERSION},"saved":{time.time():.3f},"entries":{{{body}}}}}'.encode()
        temporary = self.path.with_name("state.json.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, self.path)
        directory = os.open(self.directory, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def _entry_json(self, key: str) -> str:
        encoded = self._encoded.get(key)
        if encoded is None:
            encoded = self._encoded[key] = f"{json.dumps(key)}:{json.dumps(self.entries[key], separators=(',', ':'))}"
        return encoded

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
