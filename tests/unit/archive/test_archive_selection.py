"""Which archive files a search or restore reads (by hour, from the account's own records only),
how they are staged for chDB (plain in place, encrypted opened, another account's refused),
the search over them in the embedded store (newest day first, up to the limit), sealed files
opened in pieces, and the retention rule of a restore; on a real SQLite metadata database, a
local directory and the embedded store."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from timberyard.archive import envelope, layout
from timberyard.archive.destination import DestinationError
from timberyard.archive.localdir import LocalDirectory
from timberyard.archive.restore import DAY_MS, check_range
from timberyard.archive.search import search_files
from timberyard.archive.staging import ArchiveReadError, Places, clear_leftovers, staged
from timberyard.core.errors import BadRequest, ConfigError
from timberyard.core.outbound import OutboundPolicy
from timberyard.meta import archives
from timberyard.meta.sealing import Sealer
from timberyard.meta.archives import FileRecord
from timberyard.meta.database import MetaDB
from timberyard.search import compile_sql, parse
from timberyard.store.chdb import ChdbStore

HOUR = 1_764_932_400_000  # 2025-12-05T11:00Z
H = layout.HOUR_MS


@pytest.fixture
def db(tmp_path: Path) -> Iterator[MetaDB]:
    with MetaDB.open(f"sqlite:///{tmp_path / 'metadata.sqlite3'}") as db:
        yield db


def deliver(db: MetaDB, sealer: Sealer, account: str, hours: list[tuple[int, int]], encrypted: bool = False) -> None:
    """Archive settings for `account` and a record of a delivered file per (hour, n)."""
    key_id, key = envelope.new_key()
    files = [FileRecord(layout.data_key(account, hour, n, encrypted), hour, n, "0" * 64, 1, 1) for hour, n in hours]

    def work(session: object) -> None:
        archives.save_settings(session, sealer, account, True, {"destination": {"type": "local", "path": account}},  # type: ignore[arg-type]
                               {key_id: key}, key_id, "test")
        archives.record_run(session, account, files, 1, 1, None, datetime.now(UTC))  # type: ignore[arg-type]

    db.transact(work, write=True)


def test_files_are_picked_by_overlapping_hour_from_the_accounts_own_records(db: MetaDB) -> None:
    sealer = Sealer(os.urandom(32))
    mine, theirs = db.create_account("mine").id, db.create_account("theirs").id
    deliver(db, sealer, mine, [(HOUR - H, 0), (HOUR, 0), (HOUR, 1), (HOUR + H, 0), (HOUR + 2 * H, 0)])
    deliver(db, sealer, theirs, [(HOUR, 0), (HOUR + H, 0)])

    def picked(from_ms: int, to_ms: int) -> list[tuple[int, int]]:
        return [(f.hour_ms, f.n) for f in db.transact(archives.files_between, mine, from_ms, to_ms, write=False)]

    assert picked(HOUR + 10, HOUR + H - 1) == [(HOUR, 0), (HOUR, 1)]  # within one hour: its file and its late file
    assert picked(HOUR - 1, HOUR + H) == [(HOUR - H, 0), (HOUR, 0), (HOUR, 1), (HOUR + H, 0)]  # inclusive ends
    assert picked(HOUR + 3 * H, HOUR + 4 * H) == []
    assert all(mine in f.key for f in db.transact(archives.files_between, mine, 0, 2**50, write=False))
    assert len(db.transact(archives.files_between, theirs, 0, 2**50, write=False)) == 2


def test_staging_reads_plain_files_in_place_opens_encrypted_ones_and_refuses_foreign_keys(db: MetaDB, tmp_path: Path) -> None:
    sealer = Sealer(os.urandom(32))
    account = db.create_account("stage").id
    deliver(db, sealer, account, [])
    record = db.transact(archives.get, sealer, account, write=False)
    assert record is not None
    root = tmp_path / "archives"
    destination = LocalDirectory(root / account)
    plain = gzip.compress(b'{"_line": "in the clear", "_ts": 1}\n')
    sealed_plain = gzip.compress(b'{"_line": "sealed", "_ts": 2}\n')
    files = [FileRecord(layout.data_key(account, HOUR, 0, False), HOUR, 0, "", 1, len(plain)),
             FileRecord(layout.data_key(account, HOUR, 1, True), HOUR, 1, "", 1, 0)]
    destination.put(files[0].key, plain)
    destination.put(files[1].key, envelope.seal(sealed_plain, record.current_key, record.keys[record.current_key]))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with staged(record, files, Places(root, data_dir, OutboundPolicy())) as staging:
        linked, opened = (path for _, path in staging.files)
        assert linked.is_symlink() and linked.read_bytes() == plain
        assert not opened.is_symlink() and opened.read_bytes() == sealed_plain
        assert staging.globs == {"json": str(staging.directory / "*.json.gz")} and staging.directory.parent == data_dir / "archive-staging"
        directory = staging.directory
    assert not directory.exists()
    columns = b"PAR1 stands in for a Parquet file PAR1"
    files.append(FileRecord(layout.data_key(account, HOUR, 2, True, "parquet"), HOUR, 2, "", 1, 0))
    destination.put(files[2].key, envelope.seal(columns, record.current_key, record.keys[record.current_key]))
    with staged(record, files, Places(root, data_dir, OutboundPolicy())) as staging:
        assert staging.files[2][1].name.endswith(".parquet") and staging.files[2][1].read_bytes() == columns
        assert staging.globs == {"json": str(staging.directory / "*.json.gz"), "parquet": str(staging.directory / "*.parquet")}
        directory = staging.directory
    assert not directory.exists()
    foreign = FileRecord(layout.data_key("someone-else", HOUR, 0, False), HOUR, 0, "", 1, 1)
    with pytest.raises(DestinationError, match="not a data file of account"), staged(record, [foreign], Places(root, data_dir, OutboundPolicy())):
        pass
    missing = FileRecord(layout.data_key(account, HOUR + H, 0, False), HOUR + H, 0, "", 1, 1)
    with pytest.raises(DestinationError, match="missing"), staged(record, [missing], Places(root, data_dir, OutboundPolicy())):
        pass


def test_leftover_stagings_are_cleared_and_nothing_beside_them(tmp_path: Path) -> None:
    assert clear_leftovers(tmp_path) == 0  # no staging directory yet
    staging = tmp_path / "archive-staging"
    (staging / "acct.a1").mkdir(parents=True)
    (staging / "acct.a1" / "000000.json.gz").write_bytes(b"lines")
    (staging / "stray.download").write_bytes(b"half")
    outside = tmp_path / "archives"
    outside.mkdir()
    (outside / "kept.json.gz").write_bytes(b"an archive")
    (staging / "acct.link").symlink_to(outside, target_is_directory=True)
    assert clear_leftovers(tmp_path) == 3
    assert list(staging.iterdir()) == [] and (outside / "kept.json.gz").read_bytes() == b"an archive"


def test_a_restore_before_the_retention_is_refused() -> None:
    now = HOUR + 40 * DAY_MS
    check_range(now - 29 * DAY_MS, now, 30, now=now)
    with pytest.raises(BadRequest, match="30-day retention"):
        check_range(now - 31 * DAY_MS, now, 30, now=now)


def write_hour(destination: LocalDirectory, account: str, hour: int, n: int, texts: list[str]) -> FileRecord:
    lines = b"".join(orjson.dumps({"_ts": hour + i, "_line": text, "_lid": str(hour + i), "_app": "a", "_meta": {"n": i}}) + b"\n"
                     for i, text in enumerate(texts))
    key = layout.data_key(account, hour, n, False)
    destination.put(key, gzip.compress(lines))
    return FileRecord(key, hour, n, "", len(texts), 0)


def test_search_reads_the_newest_days_first_and_stops_at_the_limit(db: MetaDB, tmp_path: Path, chdb_store: ChdbStore) -> None:
    sealer = Sealer(os.urandom(32))
    account = db.create_account("search").id
    deliver(db, sealer, account, [])
    record = db.transact(archives.get, sealer, account, write=False)
    assert record is not None
    root = tmp_path / "archives"
    destination = LocalDirectory(root / account)
    day = 86_400_000
    files = [write_hour(destination, account, HOUR - day, 0, ["old match 0", "old other"]),
             write_hour(destination, account, HOUR, 0, ["new match 0", "new match 1"]),
             write_hour(destination, account, HOUR, 1, ["late match 2"])]
    places = Places(root, tmp_path / "it's \"quoted\" data", OutboundPolicy())  # quotes reach chDB only as a bound parameter
    places.data_dir.mkdir()
    match = compile_sql(parse("match"))

    def found(limit: int, query: str = "match") -> list[str]:
        rows = search_files(chdb_store, record, files, places, 0, HOUR + day, compile_sql(parse(query)), limit)
        return [row["line"] for row in rows]

    assert found(10) == ["new match 1", "new match 0", "late match 2", "old match 0"]  # by time, newest first
    assert found(2) == ["new match 1", "new match 0"]
    assert found(10, "n:1") == ["new match 1", "old other"]  # fields of the archive's _meta
    assert found(10, "nowhere") == []
    narrow = search_files(chdb_store, record, files, places, HOUR + 1, HOUR + day, match, 10)
    assert [row["line"] for row in narrow] == ["new match 1"]  # the range, not only the files' hours
    assert not list((places.data_dir / "archive-staging").iterdir())  # nothing left behind
    destination.put(files[0].key, b"not gzip at all")
    with pytest.raises(ArchiveReadError, match="could not be read"):
        search_files(chdb_store, record, files, places, 0, HOUR + day, match, 10)
    with pytest.raises(ConfigError, match="pattern"):
        search_files(chdb_store, record, files, Places(root, tmp_path / "data[1]", OutboundPolicy()), 0, HOUR + day, match, 10)


def test_a_sealed_file_opens_in_pieces_and_any_altered_byte_fails() -> None:
    key_id, key = envelope.new_key()
    plain = os.urandom(envelope.PIECE_BYTES * 2 + 17)  # several pieces and a remainder
    sealed = envelope.seal(plain, key_id, key)
    out = io.BytesIO()
    envelope.open_sealed_file(io.BytesIO(sealed), len(sealed), out, {key_id: key})
    assert out.getvalue() == plain
    for where in (8, len(sealed) // 2, len(sealed) - 1):  # header, ciphertext, tag
        altered = bytearray(sealed)
        altered[where] ^= 1
        with pytest.raises(envelope.EnvelopeError):
            envelope.open_sealed_file(io.BytesIO(bytes(altered)), len(altered), io.BytesIO(), {key_id: key})
    with pytest.raises(envelope.EnvelopeError, match="truncated"):
        envelope.open_sealed_file(io.BytesIO(sealed[:40]), 40, io.BytesIO(), {key_id: key})
