"""Small files that must be right after a crash: secrets created once, directory entries synced.

A secret (a signing key, a cookie key) is written to a private temporary file, fsync'd and
hard-linked into place, so a crash never leaves half a key, two processes starting at once end
up with the same key, and an existing key is never overwritten.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def fsync_directory(directory: Path) -> None:
    """Make a file's creation, rename or deletion in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def create_once(path: Path, content: bytes, mode: int = 0o600) -> bool:
    """Create `path` holding `content` unless it exists; True when this call created it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
    finally:
        temporary.unlink(missing_ok=True)
    fsync_directory(path.parent)
    return True


def replace_atomically(path: Path, content: bytes) -> None:
    """Write `path` whole or not at all: a temporary file beside it, fsync'd, renamed over it,
    and the rename made durable. A crash leaves the old file or the new one, never half."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_directory(path.parent)
