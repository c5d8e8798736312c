"""Sample lines of a firing, in LogDNA's export shape (the shape webhooks already expect)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from timberyard.core.fields import FieldColumns
from timberyard.core.records import FIELDS
from timberyard.store.export import export_line

COLUMNS = (
    "id", "host", "app", "level", "env", "file", "ip", "mac", "tags", "line", "labels", "annotations", "template",
)


def sample_lines(table: pa.Table, positions: np.ndarray) -> list[dict[str, Any]]:
    """The lines at `positions` of a durable batch, export-shaped."""
    taken = table.take(pa.array(positions, pa.int64()))
    rows = taken.select(list(COLUMNS)).to_pylist()
    times = taken.column("ts").cast(pa.int64()).to_pylist()
    fields = FieldColumns.from_struct(taken.column(FIELDS)).rows(range(taken.num_rows))
    for row, ts, values in zip(rows, times, fields):
        row.update(ts_ms=ts, fields=values, labels=dict(row["labels"] or ()), annotations=dict(row["annotations"] or ()))
    return [export_line(row) for row in rows]


class Samples:
    """Sample lines of one batch, each made once however many alerts want it (a thousand alerts
    on the same words want the same first lines of a window)."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self._made: dict[int, dict[str, Any]] = {}

    def at(self, positions: np.ndarray) -> list[dict[str, Any]]:
        wanted = positions.tolist()
        missing = [position for position in dict.fromkeys(wanted) if position not in self._made]
        if missing:
            self._made.update(zip(missing, sample_lines(self.table, np.array(missing, np.int64))))
        return [self._made[position] for position in wanted]
