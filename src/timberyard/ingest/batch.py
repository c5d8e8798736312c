"""What every source hands the pipeline: lines of one account from one source, columnar.

A source (the LogDNA HTTP API, syslog, a drain, the agent) decodes what it received into a
`LineBatch` and calls `Pipeline.accept`. Only `line` is required; every other column defaults
to empty, a time of null means "when it arrived", and the sender's structured fields (LogDNA's
meta, syslog's structured data) arrive as `meta`: flattened objects of some of the lines
(core/fields.py `flatten`), which the normalise stage turns into typed columns, `fields`. The
stages then complete and change the batch in place, one job each (see ingest/stages/).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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


Note = Callable[[int, str], str]  # (lines of the request concerned, the first of them as "3 (0-based)") -> text


@dataclass
class _Entry:
    name: str
    origins: np.ndarray  # which lines, by position in the request(s) as received
    note: Note | None


class Problems:
    """Per-line problems that did not fail the request: counted in /metrics and described in
    the answer's `warnings` (line numbers there count from 0, the first line of the request, and
    say so: "line 3 (0-based): ...", since a person reading one cannot guess).

    A problem is recorded with the lines it concerns, by their position when the batch was
    received (`rows` maps the batch's current rows there as lines are dropped), so when the
    pipeline processes several requests as one batch, each request is told only its own."""

    def __init__(self) -> None:
        self.entries: list[_Entry] = []
        self.rows: np.ndarray | None = None  # current row -> position as received; None: the same

    def add(self, name: str, where: pa.BooleanArray | Sequence[int], note: Note | None = None) -> None:
        """Record problem `name` for the lines `where` selects (a mask over the batch's current
        rows, or their indexes), described by `note(count, first line)` when given."""
        assert name in PROBLEMS, name
        if isinstance(where, pa.BooleanArray | pa.ChunkedArray):
            positions = np.flatnonzero(pc.fill_null(where, False).to_numpy(zero_copy_only=False))
        else:
            positions = np.asarray(where, dtype=np.int64)
        if len(positions):
            origins = positions if self.rows is None else self.rows[positions]
            self.entries.append(_Entry(name, origins, note))

    def keep(self, mask: np.ndarray) -> None:
        """The batch kept only the rows `mask` selects."""
        rows = np.arange(len(mask)) if self.rows is None else self.rows
        self.rows = rows[mask]

    @property
    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.entries:
            counts[entry.name] = counts.get(entry.name, 0) + len(entry.origins)
        return counts

    @property
    def samples(self) -> list[str]:
        """The first five notes, as the request's answer gives them."""
        notes = [entry for entry in self.entries if entry.note is not None]
        return [entry.note(len(entry.origins), f"{int(entry.origins.min())} (0-based)") for entry in notes[:5]]  # type: ignore[misc]

    def shifted(self, offset: int) -> list[_Entry]:
        return [_Entry(entry.name, entry.origins + offset, entry.note) for entry in self.entries]

    def within(self, start: int, stop: int) -> Problems:
        """The problems of the lines received at positions start..stop-1, renumbered from 0."""
        part = Problems()
        for entry in self.entries:
            inside = entry.origins[(entry.origins >= start) & (entry.origins < stop)]
            if len(inside):
                part.entries.append(_Entry(entry.name, inside - start, entry.note))
        return part


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
        self.problems.keep(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))

    @classmethod
    def merge(cls, batches: Sequence[LineBatch]) -> LineBatch:
        """Several batches of one account, source and time policy as one, in order: the stages
        cost much the same for 1,000 lines as for 10,000, so requests that wait together are
        processed together. `Problems.within` splits the problems back."""
        first = batches[0]
        if len(batches) == 1:
            return first
        names = {name for batch in batches for name in batch.columns}
        columns = {name: pa.concat_arrays([batch.column(name) for batch in batches]) for name in names}
        meta, offset, problems = [], 0, Problems()
        for batch in batches:
            meta.extend((offset + index, fields) for index, fields in batch.meta)
            problems.entries.extend(batch.problems.shifted(offset))
            offset += len(batch)
        return cls(first.account, first.ingester, columns, meta, problems, first.import_times)


# Columns the stages add on the way to the write-ahead log.
STAGE_COLUMNS: dict[str, pa.DataType] = {
    "id": pa.uint64(),
    "k8s_namespace": pa.string(),
    "k8s_pod": pa.string(),
    "k8s_container": pa.string(),
    "k8s_node": pa.string(),
    "format": pa.string(),
    "template": pa.uint64(),  # null until the templates stage; 0 in the record when it does not run
    "stored": pa.bool_(),
    "retention_days": pa.uint16(),  # null: the account's
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
    if kind == TIMESTAMP or pa.types.is_integer(kind):
        return pa.nulls(count, kind)
    if kind == pa.bool_():
        return pa.repeat(pa.scalar(True), count)
    if pa.types.is_list(kind) or pa.types.is_map(kind):
        return pa.array([[]] * count, kind)
    return pa.repeat(pa.scalar("", kind), count)
