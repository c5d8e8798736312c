"""Stage 2, parse: fields, a time and a level from the text of each line.

Each line is read by the first of these that reads it:
1. the account's custom parsing rules, in their order, each only within its scope query;
2. JSON objects (parse/jsonline.py): every key becomes a field;
3. the built-in formats (parse/formats.py), vectorised with RE2;
4. logfmt (parse/logfmt.py).
The format that read a line is kept in `format` (searchable as `_format`). A line's own time
becomes its time when the sender gave none, under the same time policy as the sender's times;
its own level likewise, and a line still without a level gets the level word its text starts
with (parse/levels.py). The sender's meta wins over a parsed field of the same name. Finally
every field takes the kind its path has in the account (ingest/field_types.py); paths the
account has not had yet are recorded only after redaction and exclusion (stages/__init__.py).

Per-line Python runs only for JSON and logfmt lines, and for `key=value` tails of formats.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.fields import FieldColumns, scatter_indices
from timberyard.ingest.batch import LineBatch, Problems
from timberyard.ingest.field_types import AccountFieldTypes
from timberyard.ingest.stages.context import Context
from timberyard.ingest.stages.normalise import settle_times
from timberyard.parse.format import Extracted, LineFormat, extract
from timberyard.parse.formats import FORMATS
from timberyard.parse import times
from timberyard.parse.jsonline import parse_json_line
from timberyard.parse.jsonline import stated as stated_by
from timberyard.parse.jsonlines import read_json_lines, stated_levels, stated_times
from timberyard.parse.levels import canonical_levels, detect_levels
from timberyard.parse.logfmt import parse_logfmt, parse_pairs, read_pairs


class _Reading:
    """What the parsers found so far, as full-length columns."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.unclaimed = pa.repeat(True, length)
        self.format = pa.repeat(pa.scalar("", pa.string()), length)
        self.fields = FieldColumns(length)
        self.times = pa.nulls(length, pa.int64())
        self.levels = pa.nulls(length, pa.string())
        self.rows: list[tuple[int, dict[str, Any]]] = []  # fields read per line in Python
        self.pairs: list[pa.Array] = []  # `key=value` tails of formats (full length, null elsewhere)

    def claim(self, positions: pa.Array, name: str) -> None:
        if len(positions):
            read = _mask(self.length, positions)
            self.unclaimed = pc.and_not(self.unclaimed, read)
            self.format = pc.if_else(read, name, self.format)

    def found(self, times: pa.Array | None, levels: pa.Array | None) -> None:
        if times is not None:
            self.times = pc.coalesce(self.times, times)
        if levels is not None:
            self.levels = pc.coalesce(self.levels, levels)


def parse(batch: LineBatch, context: Context) -> None:
    lines = batch.column("line")
    reading = _Reading(len(batch))
    if context.rules.parsers:
        table = batch.table()
        for rule in context.rules.parsers:
            scope = reading.unclaimed if rule.scope is None else pc.and_(reading.unclaimed, rule.scope(table))
            read = _read_format(reading, rule.format, lines, scope, context.received_ms)
            if read:
                context.rules.count(rule, read, context.received_ms)
    if context.parse_lines:
        _read_json(reading, lines)
        for fmt in FORMATS:
            if not pc.any(reading.unclaimed).as_py():
                break
            _read_format(reading, fmt, lines, reading.unclaimed, context.received_ms)
        _read_logfmt(reading, lines, context.field_types, batch.problems)
    for tails in reading.pairs:
        _read_tails(reading, tails, context.field_types, batch.problems)
    if reading.rows:
        reading.fields.fill_from(context.field_types.columns(len(batch), reading.rows, batch.problems))
    batch.fields.fill_from(reading.fields)
    batch.columns["format"] = reading.format
    _settle_levels(batch, reading.levels)
    _settle_times(batch, reading.times, context)
    context.field_types.conform(batch.fields, batch.problems)


def _read_format(reading: _Reading, fmt: LineFormat, lines: pa.Array, scope: pa.BooleanArray, received_ms: int) -> int:
    """Offer the lines in `scope` to `fmt`; how many it read."""
    positions = pc.indices_nonzero(scope)
    if not len(positions):
        return 0
    found: Extracted = extract(fmt, lines.take(positions), received_ms)
    if not pc.any(found.matched).as_py():
        return 0
    read = positions.filter(found.matched)
    place = scatter_indices(reading.length, positions)
    reading.claim(read, fmt.name)
    for path, values in found.fields.items():
        reading.fields.add(path, values.take(place))
    reading.found(
        None if found.times is None else found.times.take(place),
        None if found.levels is None else found.levels.take(place),
    )
    if found.rest is not None:
        reading.pairs.append(found.rest.take(place))
    return len(read)


def _read_json(reading: _Reading, lines: pa.Array) -> None:
    """JSON objects: all of them at once with Arrow's reader, or line by line when it cannot
    read some of them (parse/jsonlines.py)."""
    candidates = pc.and_(reading.unclaimed, pc.starts_with(pc.utf8_ltrim_whitespace(lines), "{"))
    positions = pc.indices_nonzero(candidates)
    if not len(positions):
        return
    texts = lines.take(positions)
    together = read_json_lines(texts)
    if together is not None:
        place = scatter_indices(reading.length, positions)
        reading.claim(positions, "json")
        for path, values in together.fields.items():
            reading.fields.add(path, values.take(place))
        reading.found(together.times.take(place), together.levels.take(place))
        return
    read, stated, levels = [], [], []
    for index, text in zip(positions.to_pylist(), texts.to_pylist()):
        parsed = parse_json_line(text)
        if parsed is not None:
            read.append(index)
            reading.rows.append((index, parsed.fields))
            stated.append(parsed.time)
            levels.append(parsed.level)
    _found_one_by_one(reading, read, stated, levels, "json")


def _read_logfmt(reading: _Reading, lines: pa.Array, field_types: AccountFieldTypes, problems: Problems) -> None:
    """logfmt: simple lines vectorised (parse/logfmt.py `read_pairs`), the rest one by one."""
    candidates = pc.and_(reading.unclaimed, pc.match_substring(lines, "="))
    positions = pc.indices_nonzero(candidates)
    if not len(positions):
        return
    decided, read, found = read_pairs(lines.take(positions), whole=True)
    if pc.any(read).as_py():
        place = scatter_indices(reading.length, positions)
        reading.claim(positions.filter(read), "logfmt")
        columns = {path: {kind: values.take(place) for kind, values in kinds.items()} for path, kinds in found.items()}
        reading.fields.fill_from(field_types.columns_of(reading.length, columns, problems))
        by_key = {path: list(kinds.values()) for path, kinds in columns.items()}
        reading.found(stated_times(by_key, reading.length), stated_levels(by_key, reading.length))
    rest: list[int] = []
    stated, levels = [], []
    left = positions.filter(pc.invert(decided))
    for index, text in zip(left.to_pylist(), lines.take(left).to_pylist()):
        pairs = parse_logfmt(text)
        if pairs:
            rest.append(index)
            reading.rows.append((index, pairs))
            time, level, _ = stated_by(pairs)
            stated.append(time)
            levels.append(level)
    if rest:
        _found_one_by_one(reading, rest, stated, levels, "logfmt")


def _read_tails(reading: _Reading, tails: pa.Array, field_types: AccountFieldTypes, problems: Problems) -> None:
    """The `key=value` tail a format left (null on lines it did not read): simple tails
    vectorised, the rest one by one. The format's own fields win over a tail's."""
    present = pc.indices_nonzero(pc.is_valid(tails))
    if not len(present):
        return
    decided, _, found = read_pairs(tails.take(present), whole=False)
    if found:
        place = scatter_indices(reading.length, present)
        columns = {path: {kind: values.take(place) for kind, values in kinds.items()} for path, kinds in found.items()}
        reading.fields.fill_from(field_types.columns_of(reading.length, columns, problems))
    left = present.filter(pc.invert(decided))
    for index, text in zip(left.to_pylist(), tails.take(left).to_pylist()):
        if pairs := parse_pairs(text):
            reading.rows.append((index, pairs))


def _found_one_by_one(reading: _Reading, read: list[int], stated: list[Any], levels: list[Any], name: str) -> None:
    """Claim lines read in Python, with the times (numbers or text) and levels they state."""
    reading.claim(pa.array(read, pa.int64()), name)
    numbers = pa.array([value if isinstance(value, int | float) and not isinstance(value, bool) else None for value in stated], pa.float64())
    texts = pa.array([value if isinstance(value, str) else None for value in stated], pa.string())
    millis = pc.coalesce(times.stated(numbers), times.stated(texts))
    reading.found(millis.take(scatter_indices(reading.length, read)), _sparse(reading.length, read, levels, pa.string()))


def _settle_levels(batch: LineBatch, found: pa.Array) -> None:
    """The sender's level, else the one the line's format states, else the one its text starts with."""
    levels = batch.column("level")
    missing = pc.equal(levels, "")
    stated = pc.fill_null(canonical_levels(found), "")
    levels = pc.if_else(pc.and_(missing, pc.not_equal(stated, "")), stated, levels)
    missing = pc.equal(levels, "")
    positions = pc.indices_nonzero(missing)
    if len(positions):
        detected = detect_levels(batch.column("line").take(positions))
        levels = pc.if_else(missing, detected.take(scatter_indices(len(batch), positions)), levels)
    batch.columns["level"] = levels


def _settle_times(batch: LineBatch, found: pa.Array, context: Context) -> None:
    """A line's own time where the sender gave none (under the time policy), else the receive time."""
    sender = batch.column("ts").cast(pa.int64())
    own = pc.if_else(sender.is_null(), found, pa.scalar(None, pa.int64()))
    if own.null_count < len(own):
        own = settle_times(batch, own, context, "line")
        sender = batch.column("ts").cast(pa.int64())
    times = pc.fill_null(pc.coalesce(sender, own), context.received_ms)
    batch.columns["ts"] = times.cast(pa.timestamp("ms", tz="UTC"))


def _mask(length: int, positions: pa.Array) -> pa.BooleanArray:
    flags = np.zeros(length, dtype=bool)
    flags[positions.to_numpy()] = True
    return pa.array(flags)


def _sparse(length: int, positions: list[int], values: Iterable[Any], kind: pa.DataType) -> pa.Array:
    if not positions:
        return pa.nulls(length, kind)
    return pa.array(list(values), kind).take(scatter_indices(length, pa.array(positions, pa.int64())))
