"""The first kind seen of each field, per account: later values of another kind are kept apart.

A field's kind (string, number, boolean, json) is fixed by the first line of the account that
has it, as in LogDNA and Elasticsearch's dynamic mapping, so a field compares, facets and sorts
one way. A later value of another kind is converted where nothing is lost (a number or boolean
in a string field becomes its text, "42" in a number field a number, "true" in a boolean field
a boolean); any other value is kept as text under `_conflicts.<path>` and counted. An account
has at most `max_paths` field paths; values of paths beyond that are kept together as the text
of one JSON object under `_overflow` and counted. All of it is vectorised, a column at a time.
"""

from __future__ import annotations

import threading
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from collections.abc import Iterable, Mapping
from typing import Any

from timberyard.core.fields import (
    BOOLEAN,
    CONFLICTS,
    JSON,
    NUMBER,
    OVERFLOW,
    STRING,
    FieldColumns,
    column_kind,
    columns_by_kind,
    json_values,
    text_values,
)
from timberyard.ingest.batch import Problems
from timberyard.meta import field_types
from timberyard.meta.database import MetaDB
from timberyard.search.text import NUMBER_PATTERN

RESERVED_PREFIXES = (CONFLICTS + ".", OVERFLOW)


class FieldTypes:
    """The kinds of every account's fields: read from the metadata database once per account,
    new paths written there before the lines that brought them are acknowledged."""

    def __init__(self, meta: MetaDB, max_paths: int) -> None:
        self.meta = meta
        self.max_paths = max_paths
        self._accounts: dict[str, AccountFieldTypes] = {}
        self._lock = threading.Lock()
        self._conflicts: Counter[tuple[str, str]] = Counter()

    def for_account(self, account: str) -> AccountFieldTypes:
        with self._lock:
            found = self._accounts.get(account)
        if found is None:
            kinds = self.meta.transact(field_types.kinds, account, write=False)
            with self._lock:
                found = self._accounts.setdefault(account, AccountFieldTypes(self, account, kinds))
        return found

    def record(self, account: str, new: dict[str, str]) -> dict[str, str]:
        return self.meta.transact(field_types.add_kinds, account, new, write=True)

    def count_conflicts(self, account: str, paths: Counter[str]) -> None:
        with self._lock:
            for path, count in paths.items():
                self._conflicts[(account, path)] += count

    def flush(self) -> None:
        """Write the conflict counts gathered since the last flush (a periodic chore)."""
        with self._lock:
            pending, self._conflicts = self._conflicts, Counter()
        by_account: dict[str, dict[str, int]] = {}
        for (account, path), count in pending.items():
            by_account.setdefault(account, {})[path] = count
        for account, counts in by_account.items():
            self.meta.transact(field_types.add_conflicts, account, counts, write=True)


class AccountFieldTypes:
    def __init__(self, registry: FieldTypes, account: str, kinds: dict[str, str]) -> None:
        self.registry = registry
        self.account = account
        self.kinds = kinds
        self._lock = threading.Lock()

    def columns(self, length: int, rows: Iterable[tuple[int, Mapping[str, Any]]], problems: Problems) -> FieldColumns:
        """Columns from flattened objects of some of `length` lines (sender meta, JSON lines),
        each path in its kind in the account, or else in the kind of its first value."""
        return self.columns_of(length, columns_by_kind(length, rows), problems)

    def columns_of(self, length: int, found: Mapping[str, Mapping[str, pa.Array]], problems: Problems) -> FieldColumns:
        """`columns`, from each path's values already in one column per kind."""
        fields = FieldColumns(length)
        for path, by_kind in found.items():
            kind = self.kinds.get(path) or next(iter(by_kind))
            for values in by_kind.values():
                self._merge(fields, path, kind, values, problems)
        return fields

    def conform(self, fields: FieldColumns, problems: Problems) -> None:
        """Give every column of `fields` the kind its path has in the account, in place; paths
        the account has not had keep theirs until `register`."""
        for path in list(fields):
            if path.startswith(RESERVED_PREFIXES):
                continue
            values = fields.get(path)
            assert values is not None
            kind = self.kinds.get(path)
            if kind is not None and column_kind(values) != kind:
                fields.drop(path)
                self._merge(fields, path, kind, values, problems)

    def _merge(self, fields: FieldColumns, path: str, kind: str, values: pa.Array, problems: Problems) -> None:
        """Add `values` to `path` as `kind`, converted where nothing is lost; the rest as text
        under `_conflicts.<path>`."""
        if column_kind(values) == kind:
            fields.add(path, values)
            return
        converted, leftover = _convert(values, kind)
        if converted.null_count < len(converted):
            fields.add(path, converted)
        moved = int(pc.sum(leftover).as_py() or 0)
        if moved:
            fields.add(f"{CONFLICTS}.{path}", pc.if_else(leftover, text_values(values), pa.scalar(None, pa.string())))
            problems.add(
                "field_conflicts",
                leftover,
                lambda count, _: f"{count} value(s) of {path} of another type than its first ({kind}); kept under {CONFLICTS}.{path}",
            )
            self.registry.count_conflicts(self.account, Counter({path: moved}))

    def register(self, fields: FieldColumns, problems: Problems) -> None:
        """Record the kinds of the paths the account has not had, then conform (a batch on
        another thread may have recorded a path first, with another kind). Run last, so that a
        redacted value in a key and the paths of excluded lines are never recorded."""
        if any(path not in self.kinds for path in fields):
            self._register_new(fields, problems)
            self.conform(fields, problems)

    def _register_new(self, fields: FieldColumns, problems: Problems) -> None:
        new = {path: fields.kind(path) for path in fields if path not in self.kinds}
        if not new:
            return
        with self._lock:
            new = {path: kind for path, kind in new.items() if path not in self.kinds}
            room = self.registry.max_paths - sum(1 for path in self.kinds if not path.startswith(RESERVED_PREFIXES))
            admitted = {path: kind for path, kind in new.items() if path.startswith(RESERVED_PREFIXES)}
            over = []
            for path, kind in new.items():
                if path in admitted:
                    continue
                if room > 0:
                    admitted[path] = kind
                    room -= 1
                else:
                    over.append(path)
            if admitted:
                self.kinds.update(self.registry.record(self.account, admitted))
        if over:
            _fold_into_overflow(fields, over, problems, self.registry.max_paths)


def _fold_into_overflow(fields: FieldColumns, paths: list[str], problems: Problems, limit: int) -> None:
    extra = FieldColumns(fields.length, {path: fields.get(path) for path in paths})  # type: ignore[misc]
    for path in paths:
        fields.drop(path)
    present = pc.not_equal(extra.to_json(), "{}")
    if OVERFLOW not in fields:
        fields.set(OVERFLOW, pc.if_else(present, extra.to_json(), pa.scalar(None, pa.string())))
    named = ", ".join(paths[:3])
    problems.add(
        "fields_over_limit",
        present,
        lambda count, _: f"{count} line(s) with fields beyond the account's {limit} field names ({named}); kept under {OVERFLOW}",
    )


def _convert(values: pa.Array, kind: str) -> tuple[pa.Array, pa.BooleanArray]:
    """`values` as `kind` where that loses nothing, null elsewhere; and where it could not."""
    found = column_kind(values)
    present = values.is_valid()
    if kind == STRING:
        return json_values(values) if found == JSON else pc.cast(values, pa.string()), pa.repeat(False, len(values))
    if kind == NUMBER and found == STRING:
        numeric = pc.fill_null(pc.match_substring_regex(values, NUMBER_PATTERN), False)
        converted = pc.cast(pc.if_else(numeric, values, pa.scalar(None, pa.string())), pa.float64())
        numeric = pc.fill_null(pc.is_finite(converted), False)  # "1e999" is a number too large to keep
        converted = pc.if_else(numeric, converted, pa.scalar(None, pa.float64()))
        return converted, pc.and_(present, pc.invert(numeric))
    if kind == BOOLEAN and found == STRING:
        lowered = pc.utf8_lower(values)
        known = pc.fill_null(pc.is_in(lowered, pa.array(["true", "false"])), False)
        converted = pc.if_else(known, pc.equal(lowered, "true"), pa.scalar(None, pa.bool_()))
        return converted, pc.and_(present, pc.invert(known))
    empty = pa.nulls(len(values), _ARROW_TYPES[kind])
    return empty, present


_ARROW_TYPES = {STRING: pa.string(), NUMBER: pa.float64(), BOOLEAN: pa.bool_(), JSON: pa.string()}
