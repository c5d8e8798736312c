"""Log storage: the Store protocol, its backends, and the durable path into it (WAL, batcher)."""

from __future__ import annotations

from pathlib import Path

from timberyard.core.errors import ConfigError
from timberyard.store.base import Store


def open_store(url: str) -> Store:
    """Open the backend a URL names: `chdb:///abs/path` is the embedded default."""
    if url.startswith("chdb://"):
        from timberyard.store.chdb import ChdbStore

        return ChdbStore(Path(url.removeprefix("chdb://")))
    raise ConfigError(f"unsupported store_url {url!r}: use chdb:///path (ClickHouse server support is planned)")
