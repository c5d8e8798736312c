"""A directory on the node's own disks (or a mounted NFS/SMB share) as an archive destination.

Promise: a put is atomic and durable: the bytes go to a temporary file in the target
directory, are fsynced, renamed over the key, and the directory is fsynced, so after a crash a
key holds its old object or its new one, never part of one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from timberyard.archive.destination import DestinationError, ObjectMissing


class LocalDirectory:
    def __init__(self, root: Path) -> None:
        self.root = root

    def describe(self) -> str:
        return f"local directory {self.root}"

    def path(self, key: str) -> Path:
        """The file that holds `key`, refusing a key that would leave the directory."""
        if key.startswith("/") or ".." in key.split("/"):
            raise DestinationError(f"archive key {key!r} leaves the destination directory")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with temp.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, path)
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise DestinationError(f"cannot write {path}: {exc.strerror or exc}") from None

    def get(self, key: str) -> bytes:
        path = self.path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ObjectMissing(f"{path} does not exist") from None
        except OSError as exc:
            raise DestinationError(f"cannot read {path}: {exc.strerror or exc}") from None

    def fetch(self, key: str, out: BinaryIO) -> None:
        path = self.path(key)
        try:
            with path.open("rb") as source:
                shutil.copyfileobj(source, out)
        except FileNotFoundError:
            raise ObjectMissing(f"{path} does not exist") from None
        except OSError as exc:
            raise DestinationError(f"cannot read {path}: {exc.strerror or exc}") from None

    def list(self, prefix: str) -> list[str]:
        base = self.path(prefix.rstrip("/")) if prefix.rstrip("/") else self.root
        start = base if base.is_dir() else base.parent
        if not start.is_dir():
            return []
        found = []
        for path in start.rglob("*"):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found.append(key)
        return sorted(found)

    def remove(self, key: str) -> None:
        try:
            self.path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise DestinationError(f"cannot remove {self.path(key)}: {exc.strerror or exc}") from None
