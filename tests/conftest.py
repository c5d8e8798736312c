"""Fixtures shared by unit and integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from timberyard.store.chdb import ChdbStore


@pytest.fixture(scope="session")
def chdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChdbStore]:
    """One embedded store per test process: chDB opens one data path per process at a time.
    Tests stay independent by writing under their own account ids."""
    store = ChdbStore(Path(tmp_path_factory.mktemp("store")))
    store.create_schema()
    yield store
    store.close()
