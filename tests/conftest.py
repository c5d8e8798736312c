"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo
from timberyard.store.chdb import ChdbStore

# The suite draws the same examples on every run, so it fails for a change, never for an
# unlucky draw on an unrelated commit. `HYPOTHESIS_PROFILE=explore scripts/test ...` draws new
# ones (and three times as many); pin what it finds with @example so the suite keeps it.
settings.register_profile("suite", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(scope="session")
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    """One embedded store per test process: chDB opens one data path per process at a time.
    Tests stay independent by writing under their own account ids."""
    store = ChdbStore(Path(tmp_path_factory.mktemp("store")))
    store.create_schema()
    yield store
    store.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[MetaDB]:
    """A migrated metadata database of the test's own (tests/unit/meta has its own, by URL)."""
    with MetaDB.open(f"sqlite:///{tmp_path / 'metadata.sqlite3'}") as db:
        yield db


@pytest.fixture
def account(db: MetaDB) -> AccountInfo:
    return db.create_account("acme")
