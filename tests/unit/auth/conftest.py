from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from clock import Clock

from timberyard.meta.database import MetaDB
from timberyard.meta.info import NewAccount


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'metadata.sqlite3'}"


@pytest.fixture
def db(db_url: str) -> Iterator[MetaDB]:
    with MetaDB.open(db_url) as db:
        yield db


@pytest.fixture
def other_db(db_url: str, db: MetaDB) -> Iterator[MetaDB]:
    """A second handle on the same file, standing in for another process (the CLI)."""
    with MetaDB.open(db_url) as other:
        yield other


@pytest.fixture
def tenant(db: MetaDB) -> NewAccount:
    return db.create_account_with_keys("acme")
