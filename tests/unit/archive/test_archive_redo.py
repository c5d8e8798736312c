"""An interrupted run is redone under the names its first attempt wrote, even when the account's
format and encryption changed in between (they are pinned with its range); the runs after it
take the new settings. On a real SQLite metadata database, a local directory and the embedded
store."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from timberyard.archive import envelope, layout
from timberyard.archive.destination import DestinationError
from timberyard.archive.exporter import Archiver
from timberyard.archive.localdir import LocalDirectory
from timberyard.core.outbound import OutboundPolicy
from timberyard.core.records import ID_COUNTER_BITS
from timberyard.meta import archives
from timberyard.meta.database import MetaDB
from timberyard.meta.sealing import Sealer
from timberyard.store.chdb import ChdbStore
from timberyard.store.schema import LOG_TABLE

H = layout.HOUR_MS


def add_lines(store: ChdbStore, account: str, first_id: int, hours: list[int]) -> None:
    for index, hour in enumerate(hours):
        store.select(
            f"INSERT INTO {LOG_TABLE} (account, ts, id, host, line, retention_days) SELECT {{account:String}}, "
            "fromUnixTimestamp64Milli({ts:Int64}), {id:UInt64}, 'h', {line:String}, 30",
            {"account": account, "ts": hour + index, "id": first_id + index, "line": f"line {first_id + index}"},
        )


def test_a_redo_keeps_the_interrupted_runs_names_and_later_runs_take_the_new_settings(
    db: MetaDB, chdb_store: ChdbStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealer = Sealer(os.urandom(32))
    account = db.create_account("redo-" + uuid.uuid4().hex[:8]).id
    key_id, key = envelope.new_key()
    settings = {"destination": {"type": "local", "path": "redo"}, "format": "json", "encryption": False}
    db.transact(archives.save_settings, sealer, account, True, settings, {key_id: key}, key_id, "test", write=True)
    now = int(time.time() * 1000)
    start = layout.hour_of(now) - 3 * H
    received = (now - 60_000) << ID_COUNTER_BITS  # a minute ago
    add_lines(chdb_store, account, received, [start, start, start + H, start + 2 * H])
    archiver = Archiver(db, chdb_store, sealer, Ed25519PrivateKey.generate(), tmp_path, outbound=OutboundPolicy(),
                        settle_s=0, pending_floor=lambda: None)

    put = LocalDirectory.put
    puts: list[str] = []

    def failing_put(self: LocalDirectory, name: str, data: bytes) -> None:
        puts.append(name)
        if len(puts) == 2:
            raise DestinationError("the destination went away")
        put(self, name, data)

    monkeypatch.setattr(LocalDirectory, "put", failing_put)
    with pytest.raises(DestinationError):
        archiver.run(account)
    first_attempt = puts[0]
    assert first_attempt.endswith(".json.gz") and (tmp_path / "redo" / first_attempt).is_file()
    monkeypatch.setattr(LocalDirectory, "put", put)

    changed = {**settings, "format": "parquet", "encryption": True}
    db.transact(archives.save_settings, sealer, account, True, changed, {key_id: key}, key_id, "test", write=True)
    redo = archiver.run(account)
    assert [f.key for f in redo.files] == [layout.data_key(account, start + h * H, 0, False, "json") for h in range(3)]
    assert redo.files[0].key == first_attempt and redo.lines == 4  # overwritten, not left beside a .parquet.enc twin
    assert sorted(p.name for p in (tmp_path / "redo").rglob("*") if p.is_file() and "digest" not in p.name) == sorted(
        k.split("/")[-1] for k in (f.key for f in redo.files))

    time.sleep(0.01)
    add_lines(chdb_store, account, int(time.time() * 1000) << ID_COUNTER_BITS, [start])  # a late line of the first hour, received now
    later = archiver.run(account)
    assert [f.key for f in later.files] == [layout.data_key(account, start, 1, True, "parquet")]
