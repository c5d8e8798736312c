from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "metadata.sqlite3"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"


@pytest.fixture
def db(db_url: str) -> Iterator[MetaDB]:
    with MetaDB.open(db_url) as db:
        yield db


@pytest.fixture
def account(db: MetaDB) -> AccountInfo:
    return db.create_account("acme")
