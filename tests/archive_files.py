"""Reading archive files back in tests, whatever their format, into the `/v1/export` shape
(store/export.py `export_line`), so a Parquet file is checked against the same lines a JSON
file must hold."""

from __future__ import annotations

import gzip
import io
from typing import Any

import orjson
import pyarrow.parquet as pq

from timberyard.store.export import RESERVED


def export_lines(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """The lines of one (plain) archive file, in file order, as `export_line` gives them."""
    if fmt == "json":
        return [orjson.loads(line) for line in gzip.decompress(data).splitlines()]
    return [_from_columns(row) for row in pq.read_table(io.BytesIO(data)).to_pylist()]


def _from_columns(row: dict[str, Any]) -> dict[str, Any]:
    meta = orjson.loads(row["_meta"]) if row["_meta"] is not None else {}
    line: dict[str, Any] = {k: v for k, v in meta.items() if k not in RESERVED}
    line.update({"_ts": int(row["_ts"].timestamp() * 1000), **{k: row[k] for k in ("_host", "_app", "_line", "level", "_file", "_tag", "_lid", "_ip", "_mac")}})
    if row["_env"] is not None:
        line["_env"] = row["_env"]
    for name in ("_label", "_annotation"):
        if row[name]:
            line[name] = dict(row[name])
    if row["_template"] is not None:
        line["_template"] = row["_template"]
    if meta:
        line["_meta"] = meta
    return line
