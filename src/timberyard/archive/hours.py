"""Reading a run's id range out of the store as gzipped JSON lines (or Parquet: archive/parquet.py),
one file per hour of `ts`.

The store builds each line's export-shaped JSON itself (store/export.py `EXPORT_JSON`) and
hands a page back as Arrow, its lines grouped by hour: an hour's run of lines is one slice of one
buffer given to zlib, with no Python object per line. Pages are keyset by id (`after < id <=
through`, the next PAGE_LINES ids) within the range's `ts` span, so each line of the range is
read exactly once, and each hour's file holds its lines in id (receive) order, as before.
Paging in the table's (ts, id) order instead reads about 0.3 s less per 100,000 lines but made
the bench's files 43% larger (bench/README.md): lines received together compress together.

With format "parquet" the same pages come as the export fields in columns
(`select_export_columns`) and each hour's run of a page is one slice written as a row group.

Compression runs on a second thread while the next page is read (the compressor and chDB both
release the GIL), one page at a time: memory holds at most the page being read, the page being
compressed and the compressed files. The compressor is zlib-ng (the `zlib-ng` package): plain
gzip files that any gunzip reads, as small as zlib's at the same level 6 and about twice as fast
(bench/README.md; ISA-L was faster still but made the files 25% larger, and archives are kept
for years).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from zlib_ng import zlib_ng

from timberyard.archive import layout
from timberyard.archive.parquet import ParquetHourFile
from timberyard.store.base import Store
from timberyard.store.queries import ExportPage, select_export_columns, select_export_page, select_id_span, select_nth_id

PAGE_LINES = 50_000
GZIP_LEVEL = 6


class HourFile:
    """One hour's lines, gzipped as they come, so memory holds only the compressed file."""

    def __init__(self) -> None:
        self.compressor = zlib_ng.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
        self.parts: list[bytes] = []
        self.lines = 0

    def add(self, data: bytes | memoryview, lines: int) -> None:
        self.parts.append(self.compressor.compress(data))
        self.lines += lines

    def finish(self) -> bytes:
        self.parts.append(self.compressor.flush())
        return b"".join(self.parts)


HourFiles = dict[int, HourFile] | dict[int, ParquetHourFile]


def read_hours(
    store: Store, account: str, after: int, through: int, *, max_lines: int | None, fmt: str = "json"
) -> tuple[HourFiles, int]:
    """The lines with `after < id <= through` as one file per hour of `ts` in `fmt` ("json":
    gzipped JSON lines, "parquet"), and where the range really ends: with `max_lines`, a longer
    range is cut at its `max_lines`-th id. Each file has `lines` and `finish()` (its bytes)."""
    span = store.select(*select_id_span(account, after, through))[0]
    if not span["lines"]:
        return {}, through
    if max_lines is not None and span["lines"] > max_lines:
        through = int(store.select(*select_nth_id(account, after, through, max_lines))[0]["id"])
    query, add = _FORMATS[fmt]
    hours: dict[int, Any] = {}
    page = ExportPage(account, after, through, int(span["first_ms"]), int(span["last_ms"]), PAGE_LINES, layout.HOUR_MS)
    with ThreadPoolExecutor(1, thread_name_prefix="archive-compress") as compressor:
        compressing: Future[None] | None = None
        while True:
            table = store.select_arrow(*query(page))
            if compressing is not None:
                compressing.result()  # one page compressing while the next is read, never more
            compressing = compressor.submit(add, table, hours)
            if table.num_rows < PAGE_LINES:
                break
            page = replace(page, after_id=pc.max(table.column("id")).as_py())
        compressing.result()
    return hours, through


def _compress(table: pa.Table, hours: dict[int, HourFile]) -> None:
    """Add a page's lines to their hours' files: each run of lines of one hour is one slice of
    the page's JSON buffer."""
    for batch in table.to_batches():
        runs = pc.run_end_encode(batch.column("bucket"))
        text = batch.column("json")
        offsets, data = _offsets(text), memoryview(text.buffers()[2] or b"")
        start = 0
        for end, hour in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
            hours.setdefault(hour, HourFile()).add(data[offsets[start].as_py():offsets[end].as_py()], end - start)
            start = end


def _write_columns(table: pa.Table, hours: dict[int, ParquetHourFile]) -> None:
    """Add a page's lines to their hours' Parquet files: each run of lines of one hour is one
    slice of the page, one row group."""
    runs = pc.run_end_encode(table.column("bucket").combine_chunks())
    start = 0
    for end, hour in zip(runs.run_ends.to_pylist(), runs.values.to_pylist(), strict=True):
        hours.setdefault(hour, ParquetHourFile()).add(table.slice(start, end - start))
        start = end


_FORMATS: dict[str, tuple[Callable[[ExportPage], tuple[str, dict[str, Any]]], Callable[[pa.Table, Any], None]]] = {
    "json": (select_export_page, _compress),
    "parquet": (select_export_columns, _write_columns),
}


def _offsets(array: pa.Array) -> pa.Array:
    """The value offsets of a string array: value i is data[offsets[i]:offsets[i + 1]]."""
    kind = pa.int64() if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type) else pa.int32()
    return pa.Array.from_buffers(kind, len(array) + 1, [None, array.buffers()[1]], offset=array.offset)
