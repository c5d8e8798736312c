"""The shape of a stored log line, shared by ingest (which builds it) and the store (which keeps it).

Batches travel as Arrow record batches with `LOG_SCHEMA`: columnar from the moment a request is
decoded, so no layer below ingest does per-line Python work. The receive time is not a column
of its own: it is the high bits of the line's `id` (see ingest/ids.py), and the store derives
its `received` column from them.
"""

from __future__ import annotations

import pyarrow as pa

TIMESTAMP = pa.timestamp("ms", tz="UTC")
STRING_MAP = pa.map_(pa.string(), pa.string())

# A line id is its receive time in ms shifted left by this many bits, plus a counter.
ID_COUNTER_BITS = 20

LOG_SCHEMA = pa.schema(
    [
        ("account", pa.string()),
        ("ts", TIMESTAMP),
        ("id", pa.uint64()),
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
        ("meta", pa.string()),
        ("labels", STRING_MAP),
        ("annotations", STRING_MAP),
        ("retention_days", pa.uint16()),
    ]
)
