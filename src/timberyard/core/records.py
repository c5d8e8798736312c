"""The shape of a durable batch of lines: what the ingest pipeline writes to the write-ahead log
and what the store, live tail and every other consumer of durable batches read.

A record is an Arrow record batch with the columns of `RECORD_SCHEMA` followed by `fields`, a
struct with one child per dotted field path (which paths there are varies by batch; see
ingest/fields.py). Columnar from the moment a request is decoded, so no layer below ingest
does per-line Python work. The receive time is not a column of its own: it is the high bits of
the line's `id` (see ingest/ids.py), and the store derives its `received` column from them.
`stored` is false for lines an exclusion rule keeps for live tail and alerts only.
`template` is the id of the line's log template (insights/miner.py), 0 for none: mining off,
or a line written before templates were mined.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("ms", tz="UTC")
STRING_MAP = pa.map_(pa.string(), pa.string())

# A line id is its receive time in ms shifted left by this many bits, plus a counter.
ID_COUNTER_BITS = 20

RECORD_SCHEMA = pa.schema(
    [
        ("account", pa.string()),
        ("ts", TIMESTAMP),
        ("id", pa.uint64()),
        ("ingester", pa.string()),
        ("host", pa.string()),
        ("app", pa.string()),
        ("level", pa.string()),
        ("env", pa.string()),
        ("file", pa.string()),
        ("ip", pa.string()),
        ("mac", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("k8s_namespace", pa.string()),
        ("k8s_pod", pa.string()),
        ("k8s_container", pa.string()),
        ("k8s_node", pa.string()),
        ("line", pa.string()),
        ("format", pa.string()),
        ("template", pa.uint64()),
        ("labels", STRING_MAP),
        ("annotations", STRING_MAP),
        ("retention_days", pa.uint16()),
        ("stored", pa.bool_()),
    ]
)
FIELDS = "fields"


@dataclass(frozen=True)
class DurableBatch:
    """A record of the write-ahead log, decoded: lines that are on disk and may be acknowledged."""

    seq: int  # the record's sequence number in the log
    table: pa.Table  # RECORD_SCHEMA columns and FIELDS

    @property
    def lines(self) -> int:
        return self.table.num_rows
