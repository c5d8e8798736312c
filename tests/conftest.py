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

# The suite runs on this many pytest-xdist workers unless told otherwise: many integration tests
# wait on servers, sockets and timers, so a second worker keeps CI's second core busy.
WORKERS = 2


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Default to `-n 2 --dist loadfile`, set here rather than in addopts so that `-p no:xdist`
    still works. `-n N` (`-n 0`: in-process) overrides it; a run of one test file, or of tests
    within one file, and `--pdb`/`--trace`/`--sw` runs stay in-process, paying for no workers.
    A file's tests run on one worker, in order, so a module's fixtures (a node, say) start once."""
    if hasattr(config, "workerinput") or not hasattr(config.option, "numprocesses"):
        return  # an xdist worker, or `-p no:xdist`
    if config.option.numprocesses is None and not _in_process(config):
        config.option.numprocesses = WORKERS
    if config.option.numprocesses and config.option.dist == "no":
        config.option.dist = "loadfile"


def _in_process(config: pytest.Config) -> bool:
    if any(getattr(config.option, name, False) for name in ("usepdb", "trace", "stepwise", "collectonly")):
        return True
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        return False  # the default run: testpaths
    files = {Path(config.invocation_params.dir, arg.split("::", 1)[0]).resolve() for arg in config.args}
    return len(files) == 1 and next(iter(files)).is_file()


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
