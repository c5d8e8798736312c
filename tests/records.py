"""Durable records for tests that start below the ingest pipeline (the WAL, the batcher, the store)."""

from __future__ import annotations

import time
from typing import Any

import pyarrow as pa

from timberyard.core.fields import FieldColumns
from timberyard.core.records import FIELDS, RECORD_SCHEMA, TIMESTAMP


def record(
    account: str,
    lines: list[str],
    *,
    first_id: int = 1,
    fields: list[dict[str, Any] | None] | None = None,
    stored: list[bool] | None = None,
    **columns: list[Any],
) -> pa.Table:
    """A record as the pipeline writes it: RECORD_SCHEMA columns (defaults for those not given)
    and the fields of each line (flattened dotted paths)."""
    count = len(lines)
    now = int(time.time() * 1000)
    values: dict[str, list[Any]] = {
        "account": [account] * count,
        "ts": [now] * count,
        "id": list(range(first_id, first_id + count)),
        "ingester": ["http"] * count,
        "line": lines,
        "tags": [[] for _ in lines],
        "labels": [[] for _ in lines],
        "annotations": [[] for _ in lines],
        "retention_days": [30] * count,
        "template": [0] * count,
        "stored": stored or [True] * count,
        **columns,
    }
    arrays = []
    for spec in RECORD_SCHEMA:
        given = values.get(spec.name, [""] * count)
        arrays.append(pa.array(given, pa.int64()).cast(TIMESTAMP) if spec.type == TIMESTAMP else pa.array(given, spec.type))
    found = FieldColumns.from_rows(count, [(i, row) for i, row in enumerate(fields or []) if row])
    return pa.Table.from_arrays([*arrays, found.to_struct()], names=[*RECORD_SCHEMA.names, FIELDS])


def serialise(table: pa.Table) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()
