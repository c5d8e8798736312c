"""What every source hands the pipeline: lines of one account from one source, columnar.

A source (the LogDNA HTTP API, syslog, a drain, the agent) decodes what it received into a
`LineBatch` and calls `Pipeline.accept`. Only `line` is required; every other column defaults
to empty, a time of null means "when it arrived", and the sender's structured fields (LogDNA's
meta, syslog's structured data) arrive as `meta`: flattened objects of some of the lines
(core/fields.py `flatten`), which the normalise stage turns into typed columns, `fields`. The
stages then complete and change the batch in place, one job each (see ingest/stages/).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from timberyard.core.records import FIELDS, STRING_MAP, TIMESTAMP
from timberyard.core.fields import FieldColumns

# The columns a source may give, with their Arrow types. `ts` is epoch ms (null: receive time).
SOURCE_COLUMNS: dict[str, pa.DataType] = {
    "ts": TIMESTAMP,
    "host": pa.string(),
    "app": pa.string(),
    "level": pa.string(),
    "env": pa.string(),
    "file": pa.string(),
    "ip": pa.string(),
    "mac": pa.string(),
    "tags": pa.list_(pa.string()),
    "line": pa.string(),
    "labels": STRING_MAP,
    "annotations": STRING_MAP,
}

# What each problem is called in /metrics (timberyard_ingest_<name>_total) and what it means.
PROBLEMS = {
    "truncated_lines": "Lines cut to max_line_bytes, with a marker.",
    "bad_timestamps": "Lines whose timestamp was unreadable; given the receive time.",
    "clamped_timestamps": "Lines whose timestamp was too far from now; given the receive time.",
    "bad_meta": "Lines whose meta could not be stored as fields; kept as text under _unparsed.",
    "expired_lines": "Lines older than their account's retention on arrival; not stored.",
    "field_conflicts": "Field values whose type differs from the field's first type in the account; kept under _conflicts.",
    "fields_over_limit": "Fields beyond the per-line or per-account limits; kept as text under _overflow.",
}


@dataclass
class Problems:
    """Per-line problems that did not fail the request: counted in /metrics and described in
    the answer's `warnings` (line numbers there count from 0, the first line of the request)."""

    counts: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)

    def add(self, name: str, count: int, note: str | None = None) -> None:
        assert name in PROBLEMS, name
        if count:
            self.counts[name] = self.counts.get(name, 0) + count
            if note is not None:
                self.note(note)

    def note(self, message: str) -> None:
        if len(self.samples) < 5:
            self.samples.append(message)


@dataclass
class LineBatch:
    """Lines of one account from one source. `columns` hold SOURCE_COLUMNS (at least `line`);
    `meta` the sender's fields as `(line index, flattened object)`; `import_times` keeps each
    line's own time back to the account's retention instead of applying the skew limit
    (importing old files)."""

    account: str
    ingester: str
    columns: dict[str, pa.Array]
    meta: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    import_times: bool = False
    fields: FieldColumns = field(init=False)

    def __post_init__(self) -> None:
        assert "line" in self.columns, "a batch needs its lines"
        length = len(self.columns["line"])
        for name, values in self.columns.items():
            assert name in SOURCE_COLUMNS or name in STAGE_COLUMNS, name
            assert len(values) == length, (name, len(values), length)
        self.fields = FieldColumns(length)

    def __len__(self) -> int:
        return len(self.columns["line"])

    def column(self, name: str) -> pa.Array:
        """A column, or its default (empty, or null for `ts`) when the source gave none."""
        values = self.columns.get(name)
        if values is None:
            kind = SOURCE_COLUMNS.get(name) or STAGE_COLUMNS[name]
            values = self.columns[name] = _default(kind, len(self))
        return values

    def table(self) -> pa.Table:
        """The batch as the query language's Arrow back end reads lines (search/to_arrow.py):
        every line column, `ingester`, and the fields as a struct."""
        columns = {name: self.column(name) for name in (*SOURCE_COLUMNS, *STAGE_COLUMNS) if name != "id"}
        columns["ingester"] = pa.repeat(pa.scalar(self.ingester, pa.string()), len(self))
        columns[FIELDS] = self.fields.to_struct()
        return pa.table(columns)

    def keep(self, mask: pa.BooleanArray) -> None:
        """Drop the lines where `mask` is false."""
        self.columns = {name: values.filter(mask) for name, values in self.columns.items()}
        self.fields = self.fields.filter(mask)


# Columns the stages add on the way to the write-ahead log.
STAGE_COLUMNS: dict[str, pa.DataType] = {
    "id": pa.uint64(),
    "k8s_namespace": pa.string(),
    "k8s_pod": pa.string(),
    "k8s_container": pa.string(),
    "k8s_node": pa.string(),
    "format": pa.string(),
    "stored": pa.bool_(),
}


def line_batch(
    account: str,
    ingester: str,
    lines: Sequence[str] | pa.Array,
    *,
    meta: list[dict[str, Any] | None] | None = None,
    problems: Problems | None = None,
    import_times: bool = False,
    **columns: Any,
) -> LineBatch:
    """A batch from Python values: each column a sequence, an Arrow array, or one value for
    every line (e.g. `host="web-1"`); `meta` the flattened fields of each line (or None)."""
    line_array = lines if isinstance(lines, pa.Array) else pa.array(lines, pa.string())
    count = len(line_array)
    arrays = {"line": line_array}
    for name, values in columns.items():
        if values is None:
            continue
        kind = SOURCE_COLUMNS[name]
        if isinstance(values, pa.Array):
            arrays[name] = values if values.type == kind else values.cast(kind)
        elif isinstance(values, str | int) or (name == "tags" and isinstance(values, tuple)):
            arrays[name] = _repeat(values, kind, count)
        elif isinstance(values, Mapping):
            arrays[name] = pa.array([list(values.items())] * count, kind)
        else:
            arrays[name] = pa.array(values, kind)
    rows = [(index, fields) for index, fields in enumerate(meta or ()) if fields]
    return LineBatch(account, ingester, arrays, rows, problems or Problems(), import_times)


def _repeat(value: Any, kind: pa.DataType, count: int) -> pa.Array:
    if pa.types.is_list(kind):
        return pa.array([list(value)] * count, kind)
    return pa.repeat(pa.scalar(value, kind), count)


def _default(kind: pa.DataType, count: int) -> pa.Array:
    if kind == TIMESTAMP or kind == pa.uint64():
        return pa.nulls(count, kind)
    if kind == pa.bool_():
        return pa.repeat(pa.scalar(True), count)
    if pa.types.is_list(kind) or pa.types.is_map(kind):
        return pa.array([[]] * count, kind)
    return pa.repeat(pa.scalar("", kind), count)
