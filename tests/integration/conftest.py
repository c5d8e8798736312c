"""Fixtures for integration tests; the server helpers live in tests/servers.py (importable as `servers`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from receivers import HttpReceiver, http_receiver
from servers import Server, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per test module; tests keep apart by host/app names or their own accounts."""
    running = start_server(tmp_path_factory.mktemp("node"))
    yield running
    if running.process is not None:
        running.stop()


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """An HTTP receiver on loopback that records what alert webhooks send it."""
    with http_receiver() as found:
        yield found
