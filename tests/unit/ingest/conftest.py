"""Running batches through the pipeline's stages without a server: a metadata database in a
temporary directory (field types live there) and a stage context per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from timberyard.core.fields import FieldColumns
from timberyard.ingest.batch import LineBatch
from timberyard.ingest.field_types import FieldTypes
from timberyard.ingest.rules.compiled import NO_RULES
from timberyard.ingest.stages import Context, process
from timberyard.meta.database import MetaDB

MS = 1_709_294_400_000  # 2024-03-01T12:00:00Z, the receive time in these tests
HOUR = 3_600_000


@pytest.fixture
def metadata(tmp_path: Path) -> Iterator[MetaDB]:
    db = MetaDB.open(f"sqlite:///{tmp_path / 'meta.sqlite3'}")
    yield db
    db.close()


@pytest.fixture
def account(metadata: MetaDB) -> str:
    return metadata.create_account("stages").id


@pytest.fixture
def field_types(metadata: MetaDB) -> FieldTypes:
    return FieldTypes(metadata, max_paths=1000)


@pytest.fixture
def context(account: str, field_types: FieldTypes) -> Callable[..., Context]:
    def make(**changes: Any) -> Context:
        values: dict[str, Any] = {
            "received_ms": MS,
            "first_id": 1000,
            "retention_days": 3650,
            "max_line_bytes": 32 * 1024,
            "max_skew_ms": 24 * HOUR,
            "rules": NO_RULES,
            "field_types": field_types.for_account(account),
        }
        values.update(changes)
        return Context(**values)

    return make


def column(record: pa.RecordBatch, name: str) -> list[Any]:
    return record.column(name).to_pylist()


def millis(record: pa.RecordBatch) -> list[int]:
    return record.column("ts").cast(pa.int64()).to_pylist()


def fields_of(record: pa.RecordBatch) -> list[dict[str, Any]]:
    return FieldColumns.from_struct(record.column("fields")).rows(range(record.num_rows))


def run(batch: LineBatch, context: Context) -> pa.RecordBatch:
    return process(batch, context)
