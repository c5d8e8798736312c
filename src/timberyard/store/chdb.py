"""The embedded backend: ClickHouse in-process through chDB, data in a local directory.

Calls release the GIL inside chDB, so the node runs them in worker threads while the event
loop keeps serving requests. chDB runs one query per session at a time anyway, and a query that
waits for another inside chDB can hold the GIL that an insert reading Arrow data through
`Python()` needs: a deadlock. So calls queue on a Python lock instead, which releases the GIL.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
from chdb import session

from timberyard.core.errors import TimberyardError
from timberyard.store import schema
from timberyard.store.base import StoreStats
from timberyard.store.params import encode_params


class StoreError(TimberyardError):
    code = "StoreError"


def merge_threads() -> int:
    """Background merge threads: ClickHouse's default of 16 is for servers; on a small machine
    that many concurrent merges (each rebuilding the text index) multiply memory and compete
    with inserts for the cores."""
    return max(2, os.cpu_count() or 2)


class ChdbStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.url = f"chdb://{self.path}"
        self.path.mkdir(parents=True, exist_ok=True)
        self._session = session.Session(f"{self.path}?background_pool_size={merge_threads()}")
        self._lock = threading.Lock()
        # Row values come back as JSON numbers, not the quoted strings ClickHouse uses for 64-bit ints.
        self._run("SET output_format_json_quote_64bit_integers = 0")
        for name, value in schema.JSON_SETTINGS.items():
            self._run(f"SET {name} = {value}")

    def create_schema(self) -> None:
        """Bring the log table to the newest schema (store/schema.py), recording each version."""
        self._run(f"CREATE DATABASE IF NOT EXISTS {schema.DATABASE}")
        had_logs = bool(self.select("EXISTS TABLE " + schema.LOG_TABLE, {})[0]["result"])
        had_migrations = bool(self.select("EXISTS TABLE " + schema.MIGRATIONS_TABLE, {})[0]["result"])
        self._run(schema.CREATE_MIGRATIONS_TABLE)
        applied = 0
        if had_migrations:
            applied = int(self.select(f"SELECT max(version) AS v FROM {schema.MIGRATIONS_TABLE}", {})[0]["v"])
        elif had_logs:
            applied = 1  # the first release kept no record: its table is version 1
        for version, statements in schema.pending(applied):
            for statement in statements:
                self._run(statement)
            self._run(f"INSERT INTO {schema.MIGRATIONS_TABLE} (version) VALUES ({version})")

    def schema_version(self) -> int:
        return int(self.select(f"SELECT max(version) AS v FROM {schema.MIGRATIONS_TABLE}", {})[0]["v"])

    def insert(self, table: pa.Table, dedup_token: str) -> None:
        if not table.num_rows:
            return
        rows = table  # noqa: F841 -- read by name by chDB's Python() table function below
        self._run(schema.insert_statement("Python(rows)"), {"token": dedup_token})

    def select(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        payload = self._run(sql + " FORMAT JSONEachRow", params)
        return [orjson.loads(row) for row in payload.splitlines()]

    def select_arrow(self, sql: str, params: Mapping[str, Any]) -> pa.Table:
        payload = self._run(sql + " FORMAT Arrow", params, "Arrow")
        return pa.ipc.open_file(pa.BufferReader(payload)).read_all()

    def stats(self) -> StoreStats:
        rows = self.select(
            "SELECT sum(rows) AS lines, sum(data_compressed_bytes) AS data, "
            "sum(secondary_indices_compressed_bytes) AS idx, sum(bytes_on_disk) AS disk "
            "FROM system.parts WHERE active AND database = {db:String} AND table = 'logs'",
            {"db": schema.DATABASE},
        )
        row = rows[0]
        return StoreStats(int(row["lines"]), int(row["data"]), int(row["idx"]), int(row["disk"]))

    def merges_running(self) -> int:
        rows = self.select("SELECT count() AS merges FROM system.merges WHERE database = {db:String}", {"db": schema.DATABASE})
        return int(rows[0]["merges"])

    def close(self) -> None:
        self._session.close()

    def _run(self, sql: str, params: Mapping[str, Any] | None = None, output: str = "JSONEachRow") -> bytes:
        try:
            with self._lock:
                result = self._session.query(sql, output, params=encode_params(params or {}))
        except Exception as exc:  # chDB raises plain RuntimeError with ClickHouse's message
            raise StoreError(f"store query failed: {exc}") from exc
        return result.bytes()
