"""The store protocol: what the rest of the node may ask of a log store.

Backends (embedded chDB today, a ClickHouse server later) implement these few calls; the SQL
they run comes from `store.queries`, so every backend answers the same questions the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa


@dataclass(frozen=True)
class StoreStats:
    lines: int
    data_bytes: int
    index_bytes: int
    disk_bytes: int


class Store(Protocol):
    url: str

    def create_schema(self) -> None:
        """Create the database and tables, or migrate them to the newest schema (idempotent)."""

    def insert(self, table: pa.Table, dedup_token: str) -> None:
        """Insert rows shaped by `schema.insert_rows`; re-sending a token already seen is a no-op."""

    def select(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Run a read query with bound parameters and return its rows."""

    def select_arrow(self, sql: str, params: Mapping[str, Any]) -> pa.Table:
        """The same, as an Arrow table: a large result without a Python object per value
        (ClickHouse's `Arrow` output format on every backend)."""

    def stats(self) -> StoreStats:
        """Line count and sizes of the log table."""

    def merges_running(self) -> int:
        """Background merges in progress (a backlog after a burst of inserts slows queries)."""

    def close(self) -> None:
        """Release the backend (flushes nothing: inserts are synchronous)."""
