"""An account's archived files of a time range, made readable as plain files (gzipped JSON
lines, Parquet) in one private directory, so chDB's `file()` reads them all with one glob per
format and the same SQL whatever the destination.

Why a directory of our own: the SQL then names only paths we made (`<dir>/*.json.gz`,
`<dir>/*.parquet`, bound as parameters), never an archive key, a bucket or a credential. A plain file of a local
destination is linked in place (no copy); an S3 object is downloaded; an encrypted file is
opened (AES-256-GCM: one that fails authentication stops the search) and its plain bytes written
here, streamed a megabyte at a time (downloads and decryption alike), so memory stays small
whatever the size of a file. The directory is under the data directory (decrypted lines are
as private as the store's) and is removed when the `with` block ends, so is a partly written
file of a failed download or decryption; what a killed node left there is removed when the
node next starts (`clear_leftovers`).

Which files: the account's own records of delivered files (meta/archives.py), never a listing
of the destination, and each key must parse as a data file of this account.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from timberyard.archive import envelope, layout
from timberyard.archive.destination import Destination, DestinationError, open_destination
from timberyard.archive.localdir import LocalDirectory
from timberyard.core.errors import ConfigError, TimberyardError
from timberyard.core.outbound import OutboundPolicy
from timberyard.meta.archives import ArchiveRecord, FileRecord

STAGING_DIR = "archive-staging"  # under the data directory
GLOB_CHARS = set("*?{}[]")  # what file() expands in a path; quotes are harmless (the path is a bound parameter)


@dataclass(frozen=True)
class Places:
    """Where the node keeps what staging needs: local destinations' root, its data directory,
    and where it may connect."""

    local_root: Path
    data_dir: Path
    outbound: OutboundPolicy


class ArchiveReadError(TimberyardError):
    """An archived file could not be read (corrupt, or not in the archive format)."""

    status = 502
    code = "ArchiveUnreadable"


@dataclass(frozen=True)
class Staged:
    directory: Path
    files: list[tuple[FileRecord, Path]]  # each archive file and where it is readable now

    @property
    def globs(self) -> dict[str, str]:
        """Per format staged ("json", "parquet"), the path pattern chDB's `file()` reads its files with."""
        found = {path.name.partition(".")[2] for _, path in self.files}
        return {fmt: str(self.directory / f"*{ext}") for fmt, ext in layout.EXTENSIONS.items() if ext[1:] in found}


@contextmanager
def staged(record: ArchiveRecord, files: list[FileRecord], places: Places) -> Iterator[Staged]:
    """`files` of `record`'s account, readable as plain `.json.gz` or `.parquet` files for as long as the block runs."""
    parent = places.data_dir / STAGING_DIR
    if GLOB_CHARS & set(str(parent)):
        raise ConfigError(f"the data directory {places.data_dir} has one of {''.join(sorted(GLOB_CHARS))} in its path, "
                          "which chDB's file() would read as a pattern; archive search and restore need a plain path")
    parent.mkdir(mode=0o700, exist_ok=True)
    directory = Path(tempfile.mkdtemp(prefix=f"{record.account_id}.", dir=parent))
    try:
        destination = open_destination(record.config["destination"], places.local_root, places.outbound)
        ready = [(f, _stage_one(record, destination, f, directory / f"{index:06d}")) for index, f in enumerate(files)]
        yield Staged(directory, ready)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def clear_leftovers(data_dir: Path) -> int:
    """Remove what a node that died in the middle of a search or restore left staged (decrypted
    lines among it), so nothing outlives the block that needed it. Only at start, under the
    data directory's lock: no search or restore of this node is running then. Returns how many
    stagings were removed."""
    parent = data_dir / STAGING_DIR
    if not parent.is_dir():
        return 0
    leftovers = list(parent.iterdir())
    for path in leftovers:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    return len(leftovers)


def _stage_one(record: ArchiveRecord, destination: Destination, file: FileRecord, stem: Path) -> Path:
    parsed = layout.parse_data_key(file.key)
    if parsed is None or parsed.account != record.account_id:
        raise DestinationError(f"archive record {file.key!r} is not a data file of account {record.account_id}")
    encrypted = parsed.encrypted
    target = stem.with_name(stem.name + layout.EXTENSIONS[parsed.format])
    if isinstance(destination, LocalDirectory):
        source = destination.path(file.key)
        if not source.is_file():
            raise DestinationError(f"archived file {source} is missing; run `timberyard archive verify`")
    else:
        source = target.with_suffix(".download")
        with _private(source) as out:
            destination.fetch(file.key, out)
    if not encrypted:
        if source.parent == target.parent:
            source.rename(target)
        else:
            os.symlink(source, target)
        return target
    with source.open("rb") as sealed, _private(target) as out:
        envelope.open_sealed_file(sealed, source.stat().st_size, out, record.keys)
    if source.parent == target.parent:
        source.unlink()
    return target


def _private(path: Path) -> BinaryIO:
    """A new file only the node's user can read (decrypted lines are as private as the store)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
