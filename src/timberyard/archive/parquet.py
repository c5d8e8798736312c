"""Parquet archive files: the `/v1/export` fields as columns, for analytics tools (DuckDB,
pandas, Spark, ClickHouse) that read Parquet directly.

The store hands each page of a run as Arrow columns (store/export.py `EXPORT_COLUMNS_SQL`);
an hour's run of lines in the page is one slice, cast to SCHEMA and written as one row group
of that hour's file, zstd-compressed into memory as it is written. So no Python object is made
per line, memory holds the page and the compressed files, and a file's row groups are the
pages that held its lines: in id (receive) order, as in the JSON files.

`_ts` is a timestamp in milliseconds, UTC (Parquet TIMESTAMP(MILLIS, isAdjustedToUTC)): exact
for the store's ms times, and read as a time by every Parquet reader without a conversion the
reader must know about. `_meta` is the line's fields as JSON text, one column whatever fields
lines carry, so every file has the same schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from timberyard.archive.staging import ArchiveReadError

ZSTD_LEVEL = 3

SCHEMA = pa.schema([
    ("_ts", pa.timestamp("ms", tz="UTC")),
    ("_host", pa.string()), ("_app", pa.string()), ("_line", pa.string()), ("level", pa.string()), ("_file", pa.string()),
    ("_tag", pa.list_(pa.string())), ("_lid", pa.string()), ("_ip", pa.string()), ("_mac", pa.string()), ("_env", pa.string()),
    ("_label", pa.map_(pa.string(), pa.string())), ("_annotation", pa.map_(pa.string(), pa.string())),
    ("_template", pa.string()), ("_meta", pa.string()),
])


class ParquetHourFile:
    """One hour's lines as a Parquet file in memory, a row group per page that held them."""

    def __init__(self) -> None:
        self.sink = pa.BufferOutputStream()
        self.writer = pq.ParquetWriter(self.sink, SCHEMA, compression="zstd", compression_level=ZSTD_LEVEL)
        self.lines = 0

    def add(self, page: pa.Table) -> None:
        """Write `page` (the page's lines of this hour, with at least SCHEMA's columns) as a row group."""
        self.writer.write_table(page.select(SCHEMA.names).cast(SCHEMA), row_group_size=max(1, page.num_rows))
        self.lines += page.num_rows

    def finish(self) -> bytes:
        self.writer.close()
        return self.sink.getvalue().to_pybytes()


def read_lines(path: Path, key: str, batch: int) -> Iterator[dict[str, Any]]:
    """The lines of a plain Parquet archive file in the shape restore takes (archive/restore.py):
    `_ts` in epoch ms, `_meta` parsed, maps as dicts, unset fields left out; read `batch` rows at
    a time. A file that is not one of ours is an ArchiveReadError."""
    try:
        for rows in pq.ParquetFile(path).iter_batches(batch_size=batch, columns=SCHEMA.names):
            rows = rows.set_column(0, "_ts", pc.cast(rows.column(0), pa.int64()))
            for row in rows.to_pylist():
                line = {k: v for k, v in row.items() if v is not None}
                line["_meta"] = orjson.loads(line["_meta"]) if "_meta" in line else None
                line["_label"], line["_annotation"] = dict(row["_label"] or ()), dict(row["_annotation"] or ())
                yield line
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise ArchiveReadError(f"archived file {key} is unreadable: {exc}") from None
