"""The stages a batch goes through between its source and the write-ahead log, in order:
normalise -> parse -> redact -> exclude -> retain -> templates, each a module with one job. `process` runs them
(on a worker thread: see ingest/pipeline.py) and returns the durable record's Arrow batch."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.records import FIELDS, RECORD_SCHEMA
from timberyard.ingest.batch import LineBatch
from timberyard.ingest.stages.context import Context
from timberyard.ingest.stages.exclude import exclude
from timberyard.ingest.stages.normalise import normalise
from timberyard.ingest.stages.parse import parse
from timberyard.ingest.stages.redact import redact
from timberyard.ingest.stages.retain import retain
from timberyard.ingest.stages.templates import templates

__all__ = ["Context", "process"]


def process(batch: LineBatch, context: Context) -> pa.RecordBatch:
    normalise(batch, context)
    parse(batch, context)
    redact(batch, context)
    exclude(batch, context)
    retain(batch, context)
    templates(batch, context)
    context.field_types.register(batch.fields, batch.problems)
    return _record(batch, context)


def _record(batch: LineBatch, context: Context) -> pa.RecordBatch:
    count = len(batch)
    of_record = {
        "account": pa.repeat(pa.scalar(batch.account, pa.string()), count),
        "id": pa.array(range(context.first_id, context.first_id + count), pa.uint64()),
        "ingester": pa.repeat(pa.scalar(batch.ingester, pa.string()), count),
        "retention_days": pc.fill_null(batch.column("retention_days"), pa.scalar(context.retention_days, pa.uint16())),
        "template": pc.fill_null(batch.column("template"), 0),
    }
    arrays = [of_record[f.name] if f.name in of_record else _as(batch.column(f.name), f.type) for f in RECORD_SCHEMA]
    schema = RECORD_SCHEMA.append(pa.field(FIELDS, batch.fields.to_struct().type))
    return pa.RecordBatch.from_arrays([*arrays, batch.fields.to_struct()], schema=schema)


def _as(values: pa.Array, kind: pa.DataType) -> pa.Array:
    return values if values.type == kind else values.cast(kind)
