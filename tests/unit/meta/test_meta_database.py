from __future__ import annotations

import threading
from datetime import UTC
from pathlib import Path

from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo


def _pragma(db: MetaDB, name: str) -> object:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_open_creates_the_parent_directory(db: MetaDB, db_path: Path) -> None:
    assert db_path.is_file()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(db: MetaDB) -> None:
    assert _pragma(db, "journal_mode") == "wal"
    assert _pragma(db, "busy_timeout") == 5000
    assert _pragma(db, "foreign_keys") == 1


def test_timestamps_come_back_in_utc(db: MetaDB, account: AccountInfo) -> None:
    assert db.get_account(account.id) == account
    assert account.created_at.tzinfo is UTC


def test_two_instances_on_one_file_both_write(db_url: str) -> None:
    with MetaDB.open(db_url) as first, MetaDB.open(db_url) as second:
        one = first.create_account("one")
        two = second.create_account("two")
        assert {a.name for a in first.list_accounts()} == {"one", "two"}
        errors: list[BaseException] = []

        def mint(db: MetaDB, account_id: str) -> None:
            try:
                for _ in range(20):
                    db.create_key(account_id, "ingestion")
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [
            threading.Thread(target=mint, args=(db, account.id))
            for db, account in [(first, one), (second, two), (first, two), (second, one)]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(second.list_keys(one.id)) == len(first.list_keys(two.id)) == 40


def test_concurrent_opens_of_a_new_file_both_migrate_safely(db_url: str) -> None:
    opened: list[MetaDB] = []
    errors: list[BaseException] = []

    def open_db() -> None:
        try:
            opened.append(MetaDB.open(db_url))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=open_db) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        opened[0].create_account("after-race")
        assert [a.name for a in opened[-1].list_accounts()] == ["after-race"]
    finally:
        for db in opened:
            db.close()
