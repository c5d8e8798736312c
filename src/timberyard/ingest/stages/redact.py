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
    changed = _none(len(batch))

    def note(lines: pa.BooleanArray) -> None:
        nonlocal changed
        changed = pc.or_(changed, lines)

    values, lines = _strings(batch.column("line"), redactor, within, repeated=False)
    batch.columns["line"] = values
    note(lines)
    for name in REPEATED_COLUMNS:
        if name in batch.columns:
            batch.columns[name], lines = _strings(batch.columns[name], redactor, within, repeated=True)
            note(lines)
    for name in LIST_COLUMNS:
        if name in batch.columns:
            batch.columns[name], lines = _lists(batch.columns[name], redactor, within)
            note(lines)
    for name in MAP_COLUMNS:
        if name in batch.columns:
            batch.columns[name], lines = _maps(batch.columns[name], redactor, within)
            note(lines)
    note(_redact_fields(batch.fields, redactor, within))
    return changed


# -- fields --------------------------------------------------------------------------------------


def _redact_fields(fields: FieldColumns, redactor: Redactor, within: pa.BooleanArray | None) -> pa.BooleanArray:
    changed = _none(fields.length)
    for path, values in list(fields.items()):
        kind = column_kind(values)
        if redactor.is_secret_key(path):
            new, lines = _secret(values, redactor.secret_marker, within)
        elif kind == STRING:
            new, lines = _strings(values, redactor, within, repeated=False)
        elif kind == NUMBER:
            new, lines = _numbers(values, redactor, within)
        elif kind == JSON:
            new, lines = _json_arrays(values, redactor, within)
        else:
            continue
        if lines.true_count:
            fields.set(path, new)
            changed = pc.or_(changed, lines)
    return pc.or_(changed, _rename_paths(fields, redactor, within))


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


def _numbers(values: pa.Array, redactor: Redactor, within: pa.BooleanArray | None) -> tuple[pa.Array, pa.BooleanArray]:
    """Numbers whose digits hold a match (a card number as a JSON number) become null."""
    if pa.types.is_floating(values.type):
        whole = pc.fill_null(pc.and_(pc.equal(pc.floor(values), values), pc.less(pc.abs(values), 9e18)), False)
        as_int = pc.cast(pc.if_else(whole, values, pa.scalar(None, values.type)), pa.int64())
        texts = pc.coalesce(pc.cast(as_int, pa.string()), pc.cast(values, pa.string()))
    else:
        texts = pc.cast(values, pa.string())
    _, lines = _strings(texts, redactor, within, repeated=False)
    if not lines.true_count:
        return values, lines
    return pc.if_else(lines, pa.scalar(None, values.type), values), lines


def _json_arrays(values: pa.Array, redactor: Redactor, within: pa.BooleanArray | None) -> tuple[pa.Array, pa.BooleanArray]:
    """JSON arrays: the strings and numbers inside them, keeping the JSON valid."""
    storage = values.storage
    _, candidates = _strings(storage, redactor, within, repeated=False)
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


def _strings(
    values: pa.Array, redactor: Redactor, within: pa.BooleanArray | None, *, repeated: bool
) -> tuple[pa.Array, pa.BooleanArray]:
    """Redact a string column (only where `within`); the values and which changed."""
    if within is not None:
        positions = pc.indices_nonzero(within)
        if not len(positions):
            return values, _none(len(values))
        subset, changed = _strings(values.take(positions), redactor, None, repeated=repeated)
        if not changed.true_count:
            return values, _none(len(values))
        return pc.replace_with_mask(values, within, subset), pc.replace_with_mask(_none(len(values)), within, changed)
    if not repeated:
        return redactor.redact(values)
    encoded = values.dictionary_encode()
    distinct, changed = redactor.redact(encoded.dictionary)
    if not changed.true_count:
        return values, _none(len(values))
    return distinct.take(encoded.indices), pc.fill_null(changed.take(encoded.indices), False)


def _lists(values: pa.ListArray, redactor: Redactor, within: pa.BooleanArray | None) -> tuple[pa.Array, pa.BooleanArray]:
    offsets, parents = _layout(values)
    items = values.flatten()
    new_items, changed = _strings(items, redactor, _per_item(within, parents), repeated=True)
    if not changed.true_count:
        return values, _none(len(values))
    rebuilt = pa.ListArray.from_arrays(offsets, new_items, type=values.type, mask=values.is_null())
    return rebuilt, _lines_of(changed, parents, len(values))


def _maps(values: pa.MapArray, redactor: Redactor, within: pa.BooleanArray | None) -> tuple[pa.Array, pa.BooleanArray]:
    offsets, parents = _layout(values)
    start, end = values.offsets[0].as_py(), values.offsets[-1].as_py()
    keys = values.keys.slice(start, end - start)
    items = values.items.slice(start, end - start)
    new_items, changed = _strings(items, redactor, _per_item(within, parents), repeated=True)
    if not changed.true_count:
        return values, _none(len(values))
    rebuilt = pa.MapArray.from_arrays(offsets, keys, new_items, type=values.type, mask=values.is_null())
    return rebuilt, _lines_of(changed, parents, len(values))


def _layout(values: pa.ListArray | pa.MapArray) -> tuple[pa.Array, np.ndarray]:
    """Zero-based offsets of a (possibly sliced) list column, and each item's line."""
    raw = values.offsets.to_numpy()
    raw = raw - raw[0]
    parents = np.repeat(np.arange(len(values), dtype=np.int64), np.diff(raw))
    return pa.array(raw, pa.int32()), parents


def _per_item(within: pa.BooleanArray | None, parents: np.ndarray) -> pa.BooleanArray | None:
    return None if within is None else within.take(pa.array(parents))


def _lines_of(changed: pa.BooleanArray, parents: np.ndarray, length: int) -> pa.BooleanArray:
    flags = np.zeros(length, dtype=bool)
    flags[parents[changed.to_numpy(zero_copy_only=False)]] = True
    return pa.array(flags)


def _none(length: int) -> pa.BooleanArray:
    return pa.array(np.zeros(length, dtype=bool))
