"""Stage 3, redact: mask sensitive values before anything is written to disk.

Each redaction rule of the account (in order, each within its scope query, which is read from
the lines as they arrived) runs its `Redactor` (parse/redaction.py) over every text a line
carries: the line; its host, app, level, env, file, ip, mac and Kubernetes names; its tags;
the values of its labels and annotations; and every field: strings (`_unparsed`,
`_conflicts.*` and `_overflow` included), the strings and numbers inside JSON arrays, and
numbers (a card number sent as a JSON number is removed: a number cannot hold the marker).
Fields named like password or secret lose their whole value when the rule uses the
password detector, and a field whose name itself holds a detected value is renamed.

Vectorised: RE2 over each column, low-cardinality columns once per distinct value; per-line
Python only for candidate card numbers (Luhn) and for JSON arrays that hold a match.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.fields import JSON, NUMBER, STRING, FieldColumns, JsonColumn, column_kind, json_text
from timberyard.ingest.batch import LineBatch
from timberyard.ingest.rules.compiled import RedactRule
from timberyard.ingest.stages.context import Context
from timberyard.parse.redaction import Redactor

# Columns whose values repeat across a batch: redacted once per distinct value.
REPEATED_COLUMNS = ("host", "app", "level", "env", "file", "ip", "mac", "k8s_namespace", "k8s_pod", "k8s_container", "k8s_node")
LIST_COLUMNS = ("tags",)
MAP_COLUMNS = ("labels", "annotations")


def redact(batch: LineBatch, context: Context) -> None:
    rules = context.rules.redactions
    if not rules:
        return
    for rule, changed in zip(rules, apply_redactions(batch, rules)):
        context.rules.count(rule, changed.true_count, context.received_ms)


def apply_redactions(batch: LineBatch, rules: tuple[RedactRule, ...]) -> list[pa.BooleanArray]:
    """Apply `rules` to the batch in place; for each rule, the lines it changed."""
    table = batch.table() if any(rule.scope is not None for rule in rules) else None
    changed = []
    for rule in rules:
        within = None if rule.scope is None or table is None else rule.scope(table)
        if within is not None and not pc.any(within).as_py():
            changed.append(_none(len(batch)))
            continue
        changed.append(_redact_batch(batch, rule.redactor, within))
    return changed


def _redact_batch(batch: LineBatch, redactor: Redactor, within: pa.BooleanArray | None) -> pa.BooleanArray:
    """One rule over every text of the batch, in a single pass of the redactor."""
    texts = _OnePass(redactor, len(batch), within)
    texts.column(batch.columns, "line", repeated=False)
    for name in REPEATED_COLUMNS:
        if name in batch.columns:
            texts.column(batch.columns, name, repeated=True)
    for name in LIST_COLUMNS:
        if name in batch.columns:
            texts.nested(batch.columns, name)
    for name in MAP_COLUMNS:
        if name in batch.columns:
            texts.nested(batch.columns, name)
    changed = _redact_fields(batch.fields, redactor, within, texts)
    return pc.or_(texts.run(), changed)


class _OnePass:
    """The texts of a batch, gathered and redacted with one call of the redactor.

    Arrow compiles a pattern on every call, and a redactor's screening pattern (all its
    detectors at once) is large: one call for the whole batch instead of one per column and
    field makes redaction several times faster on batches of a few thousand lines. Each part
    says how to put its redacted values back and which lines that changed."""

    def __init__(self, redactor: Redactor, length: int, within: pa.BooleanArray | None) -> None:
        self.redactor, self.length, self.within = redactor, length, within
        self.rows = None if within is None else pc.indices_nonzero(within)
        self.parts: list[tuple[pa.Array, Any]] = []

    def add(self, values: pa.Array, put: Any) -> None:
        """Redact `values` (strings); `put(new values, changed)` stores them and returns the
        lines they changed (a mask over the batch)."""
        if len(values):
            self.parts.append((values, put))

    def column(self, columns: dict[str, pa.Array], name: str, *, repeated: bool) -> None:
        values = columns[name]
        subset = values if self.rows is None else values.take(self.rows)
        if not repeated:
            def put(new: pa.Array, changed: pa.BooleanArray) -> pa.BooleanArray:
                columns[name] = self._back(values, new)
                return self._lines(changed)

            self.add(subset, put)
            return
        encoded = subset.dictionary_encode()

        def put_distinct(new: pa.Array, changed: pa.BooleanArray) -> pa.BooleanArray:
            columns[name] = self._back(values, new.take(encoded.indices))
            return self._lines(pc.fill_null(changed.take(encoded.indices), False))

        self.add(encoded.dictionary, put_distinct)

    def nested(self, columns: dict[str, pa.Array], name: str) -> None:
        """Tags (lists) and labels or annotations (maps): their items."""
        values = columns[name]
        offsets, parents = _layout(values)
        if isinstance(values, pa.MapArray):
            start, end = values.offsets[0].as_py(), values.offsets[-1].as_py()
            keys, items = values.keys.slice(start, end - start), values.items.slice(start, end - start)
        else:
            keys, items = None, values.flatten()
        item_rows = None if self.within is None else pc.indices_nonzero(self.within.take(pa.array(parents)))
        subset = items if item_rows is None else items.take(item_rows)

        def put(new: pa.Array, changed: pa.BooleanArray) -> pa.BooleanArray:
            all_new = new if item_rows is None else pc.replace_with_mask(items, self.within.take(pa.array(parents)), new)
            all_changed = changed if item_rows is None else pc.replace_with_mask(
                _none(len(items)), self.within.take(pa.array(parents)), changed
            )
            if keys is None:
                columns[name] = pa.ListArray.from_arrays(offsets, all_new, type=values.type, mask=values.is_null())
            else:
                columns[name] = pa.MapArray.from_arrays(offsets, keys, all_new, type=values.type, mask=values.is_null())
            return _lines_of(all_changed, parents, self.length)

        self.add(subset, put)

    def run(self) -> pa.BooleanArray:
        """Redact every part at once and put the results back; the lines that changed."""
        changed_lines = _none(self.length)
        if not self.parts:
            return changed_lines
        sizes = [len(values) for values, _ in self.parts]
        new, changed = self.redactor.redact(pa.concat_arrays([values.cast(pa.string()) for values, _ in self.parts]))
        offset = 0
        for (_, put), size in zip(self.parts, sizes):
            part_changed = changed.slice(offset, size)
            if part_changed.true_count:
                changed_lines = pc.or_(changed_lines, put(new.slice(offset, size), part_changed))
            offset += size
        return changed_lines

    def _back(self, values: pa.Array, new: pa.Array) -> pa.Array:
        new = new.cast(values.type)
        return new if self.within is None else pc.replace_with_mask(values, self.within, new)

    def _lines(self, changed: pa.BooleanArray) -> pa.BooleanArray:
        return changed if self.within is None else pc.replace_with_mask(_none(self.length), self.within, changed)


# -- fields --------------------------------------------------------------------------------------


def _redact_fields(fields: FieldColumns, redactor: Redactor, within: pa.BooleanArray | None, texts: _OnePass) -> pa.BooleanArray:
    """Fields: strings and numbers join the batch's one pass; secrets, JSON arrays and names
    that hold a match are handled here."""
    changed = _none(fields.length)
    for path, values in list(fields.items()):
        kind = column_kind(values)
        if redactor.is_secret_key(path):
            new, lines = _secret(values, redactor.secret_marker, within)
            if lines.true_count:
                fields.set(path, new)
                changed = pc.or_(changed, lines)
        elif kind == STRING:
            _field_strings(fields, path, values, texts)
        elif kind == NUMBER:
            _field_numbers(fields, path, values, texts)
        elif kind == JSON:
            new, lines = _json_arrays(values, redactor, within)
            if lines.true_count:
                fields.set(path, new)
                changed = pc.or_(changed, lines)
    return pc.or_(changed, _rename_paths(fields, redactor, within))


def _field_strings(fields: FieldColumns, path: str, values: pa.Array, texts: _OnePass) -> None:
    present = values.is_valid() if texts.within is None else pc.and_(values.is_valid(), texts.within)
    rows = pc.indices_nonzero(present)

    def put(new: pa.Array, changed: pa.BooleanArray) -> pa.BooleanArray:
        current = fields.get(path)
        assert current is not None
        fields.set(path, pc.replace_with_mask(current, present, new.cast(current.type)))
        return pc.replace_with_mask(_none(fields.length), present, changed)

    texts.add(values.take(rows), put)


def _field_numbers(fields: FieldColumns, path: str, values: pa.Array, texts: _OnePass) -> None:
    """Numbers whose digits hold a match (a card number sent as a JSON number) become null."""
    present = values.is_valid() if texts.within is None else pc.and_(values.is_valid(), texts.within)
    rows = pc.indices_nonzero(present)
    numbers = values.take(rows)
    if pa.types.is_floating(numbers.type):
        whole = pc.fill_null(pc.and_(pc.equal(pc.floor(numbers), numbers), pc.less(pc.abs(numbers), 9e18)), False)
        as_int = pc.cast(pc.if_else(whole, numbers, pa.scalar(None, numbers.type)), pa.int64())
        digits = pc.coalesce(pc.cast(as_int, pa.string()), pc.cast(numbers, pa.string()))
    else:
        digits = pc.cast(numbers, pa.string())

    def put(_: pa.Array, changed: pa.BooleanArray) -> pa.BooleanArray:
        lines = pc.replace_with_mask(_none(fields.length), present, changed)
        current = fields.get(path)
        assert current is not None
        fields.set(path, pc.if_else(lines, pa.scalar(None, current.type), current))
        return lines

    texts.add(digits, put)


def _secret(values: pa.Array, marker: str, within: pa.BooleanArray | None) -> tuple[pa.Array, pa.BooleanArray]:
    """A field named like a password: every value goes (text becomes the marker, others null)."""
    present = values.is_valid()
    hit = present if within is None else pc.and_(present, within)
    if not hit.true_count:
        return values, _none(len(values))
    if column_kind(values) == STRING:
        return pc.if_else(hit, pa.scalar(marker, values.type), values), hit
    storage = values.storage if isinstance(values.type, JsonColumn) else values
    kept = pc.if_else(hit, pa.scalar(None, storage.type), storage)
    return (JsonColumn.wrap(kept) if isinstance(values.type, JsonColumn) else kept), hit


def _json_arrays(values: pa.Array, redactor: Redactor, within: pa.BooleanArray | None) -> tuple[pa.Array, pa.BooleanArray]:
    """JSON arrays: the strings and numbers inside them, keeping the JSON valid."""
    storage = values.storage
    present = storage.is_valid() if within is None else pc.and_(storage.is_valid(), within)
    _, hit = redactor.redact(pc.if_else(present, storage, pa.scalar(None, pa.string())))
    candidates = pc.and_(pc.fill_null(hit, False), present)
    if not candidates.true_count:
        return values, candidates
    positions = pc.indices_nonzero(candidates).to_pylist()
    documents = [orjson.loads(text) for text in storage.take(pa.array(positions, pa.int64())).to_pylist()]
    leaves: list[str] = []
    for document in documents:
        _collect(document, leaves)
    redacted, leaf_changed = redactor.redact(pa.array(leaves, pa.string()))
    replaced = iter(zip(redacted.to_pylist(), leaf_changed.to_pylist()))
    texts = [json_text(_rebuild(document, replaced, redactor)) for document in documents]
    new_storage = pc.replace_with_mask(storage, candidates, pa.array(texts, pa.string()))
    lines = pc.fill_null(pc.not_equal(new_storage, storage), False)
    return JsonColumn.wrap(new_storage), lines


def _collect(value: Any, into: list[str]) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _collect(item, into)
    elif isinstance(value, list):
        for item in value:
            _collect(item, into)
    elif isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        into.append(value if isinstance(value, str) else json_text(value))


def _rebuild(value: Any, replaced: Any, redactor: Redactor, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _rebuild(v, replaced, redactor, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebuild(item, replaced, redactor) for item in value]
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        text, changed = next(replaced)
        if key and redactor.is_secret_key(key):
            return redactor.secret_marker if isinstance(value, str) else None
        if not changed:
            return value
        return text if isinstance(value, str) else None
    return value


def _rename_paths(fields: FieldColumns, redactor: Redactor, within: pa.BooleanArray | None) -> pa.BooleanArray:
    """A field whose name holds a match (`{"bob@example.com": 1}`) moves to the redacted name."""
    paths = list(fields)
    changed = _none(fields.length)
    if not paths:
        return changed
    renamed, hit = redactor.redact(pa.array(paths, pa.string()))
    for path, new_path, moved in zip(paths, renamed.to_pylist(), hit.to_pylist()):
        if not moved:
            continue
        values = fields.get(path)
        assert values is not None
        present = values.is_valid() if within is None else pc.and_(values.is_valid(), within)
        if not present.true_count:
            continue
        nothing = pa.scalar(None, values.storage.type if isinstance(values.type, JsonColumn) else values.type)
        storage = values.storage if isinstance(values.type, JsonColumn) else values
        going = pc.if_else(present, storage, nothing)
        staying = pc.if_else(present, nothing, storage)
        if isinstance(values.type, JsonColumn):
            going, staying = JsonColumn.wrap(going), JsonColumn.wrap(staying)
        if staying.null_count == len(staying):
            fields.drop(path)
        else:
            fields.set(path, staying)
        fields.add(new_path, going)
        changed = pc.or_(changed, present)
    return changed


# -- columns -------------------------------------------------------------------------------------


def _layout(values: pa.ListArray | pa.MapArray) -> tuple[pa.Array, np.ndarray]:
    """Zero-based offsets of a (possibly sliced) list column, and each item's line."""
    raw = values.offsets.to_numpy()
    raw = raw - raw[0]
    parents = np.repeat(np.arange(len(values), dtype=np.int64), np.diff(raw))
    return pa.array(raw, pa.int32()), parents


def _lines_of(changed: pa.BooleanArray, parents: np.ndarray, length: int) -> pa.BooleanArray:
    flags = np.zeros(length, dtype=bool)
    flags[parents[changed.to_numpy(zero_copy_only=False)]] = True
    return pa.array(flags)


def _none(length: int) -> pa.BooleanArray:
    return pa.array(np.zeros(length, dtype=bool))
