"""Searches of a log file's directory, for what rotation moved beside it.

Rotation leaves its products next to the file, named after it (`app.log.1`, `app.log-20261204`,
kubelet's `0.log.20261204-101500`): a renamed file is found by its inode, copytruncate's copy
by its head fingerprint, a file that lived at the path between two looks by its name stem and
its modification time. Compressed copies are never candidates: their bytes are not the file's.
"""

from __future__ import annotations

import os
import stat as stat_module
from collections.abc import Iterator

from timberyard.agent import identity
from timberyard.agent.identity import FileId

COMPRESSED = (".gz", ".xz", ".bz2", ".zst", ".zip")


def stem(path: str) -> str:
    """`app` of `app.log`: the part rotated names keep."""
    return os.path.basename(path).split(".")[0]


def siblings(path: str) -> Iterator[tuple[str, os.stat_result]]:
    """Regular, uncompressed files beside `path` (its real directory) named after it, with their stat."""
    directory, name = os.path.split(os.path.realpath(path))
    prefix = stem(name)
    try:
        with os.scandir(directory) as entries:
            found = [entry for entry in entries if entry.name != name and entry.name.startswith(prefix) and not entry.name.endswith(COMPRESSED)]
    except OSError:
        return
    for entry in found:
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat_module.S_ISREG(info.st_mode):
            yield entry.path, info


def find_inode(directory: str, fid: FileId) -> str | None:
    """Where the file `fid` is now in `directory` (renamed by rotation), if it is still there."""
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.inode() == fid.ino and entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_dev == fid.dev:
                    return entry.path
    except OSError:
        pass
    return None


def find_copy(path: str, fid: FileId, head: tuple[int, str], offset: int) -> tuple[str, os.stat_result] | None:
    """copytruncate's copy of `path`: the newest sibling starting with `head` and at least `offset` long."""
    best: tuple[str, os.stat_result] | None = None
    for candidate, info in siblings(path):
        if FileId.of(info) == fid or info.st_size < offset or (best is not None and info.st_mtime <= best[1].st_mtime):
            continue
        try:
            with open(candidate, "rb") as handle:
                if identity.head_matches(handle.fileno(), *head):
                    best = (candidate, info)
        except OSError:
            continue
    return best
