"""The fields of a batch of lines: one typed Arrow column per dotted path.

Sender meta and what the parsers find in a line become fields. In a batch they are columnar,
one array per path with nulls where a line lacks it, so rules, live tail and alerts test them
vectorised, and the store gets them as JSON text built without per-line Python.

A field has one of JSON's kinds, as the store keeps it:
  string  -> pa.string()
  number  -> pa.int64(), or pa.float64() once any value of the batch is not a whole number
  boolean -> pa.bool_()
  json    -> pa.string() holding the JSON text of an array (the `JsonColumn` extension type)
Objects are flattened to dotted paths of at most MAX_DEPTH names; an object deeper than that
is kept whole as its JSON text, a string. JSON null is the same as absent. Whole numbers beyond
64 bits become floats (JSON's own interoperable range is that of a double).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

MAX_DEPTH = 3
MAX_FIELDS_PER_LINE = 200
MAX_KEY_CHARS = 200
CONFLICTS = "_conflicts"  # `_conflicts.<path>`: a value whose kind differs from the path's
OVERFLOW = "_overflow"  # fields beyond the per-line or per-account limits, as one JSON object's text

STRING, NUMBER, BOOLEAN, JSON = "string", "number", "boolean", "json"
KINDS = (STRING, NUMBER, BOOLEAN, JSON)
_INT64 = (-(2**63), 2**63 - 1)

# JSON text of a string needs escapes only for these; other strings are quoted as they are.
_NEEDS_ESCAPE = r'[\x00-\x1f"\\]'


def kind_of(value: object) -> str:
    if isinstance(value, str):
        return STRING
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float):
        return NUMBER
    return JSON


def flatten(obj: Mapping[str, Any], into: dict[str, Any], prefix: str = "", depth: int = 1) -> None:
    """Scalars of a decoded JSON object under dotted paths; arrays as (JSON, text) and objects
    deeper than MAX_DEPTH as their text. Empty objects and nulls leave nothing."""
    for key, value in obj.items():
        path = prefix + key[:MAX_KEY_CHARS]
        if value is None:
            continue
        if isinstance(value, dict):
            if depth < MAX_DEPTH:
                flatten(value, into, path + ".", depth + 1)
            elif value:
                into[path] = json_text(value)
        elif isinstance(value, list):
            into[path] = _JsonText(json_text(value))
        elif isinstance(value, int) and not isinstance(value, bool) and not _INT64[0] <= value <= _INT64[1]:
            into[path] = float(value)
        else:
            into[path] = value


def json_text(value: object) -> str:
    """Compact JSON text; the standard library writes what orjson will not (integers of more
    than 64 bits, which decoders never produce but Python callers may)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


class _JsonText(str):
    """The JSON text of an array, kept apart from strings while a column is built."""


class JsonColumn(pa.ExtensionType):
    """A string column whose values are JSON texts (arrays): the `json` field kind. An extension
    type, so the kind travels with the column through the write-ahead log's Arrow IPC."""

    def __init__(self) -> None:
        super().__init__(pa.string(), "timberyard.json")

    def __arrow_ext_serialize__(self) -> bytes:
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type: pa.DataType, serialized: bytes) -> JsonColumn:
        return cls()

    @classmethod
    def wrap(cls, values: pa.Array) -> pa.Array:
        if isinstance(values.type, cls):
            return values
        return pa.ExtensionArray.from_storage(cls(), values.cast(pa.string()))


pa.register_extension_type(JsonColumn())


class FieldColumns:
    """Fields of `length` lines: path -> Arrow array of that length (null where absent)."""

    def __init__(self, length: int, columns: Mapping[str, pa.Array] | None = None) -> None:
        self.length = length
        self._columns: dict[str, pa.Array] = dict(columns or {})

    # -- building -----------------------------------------------------------------------------

    @classmethod
    def from_rows(cls, length: int, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> FieldColumns:
        """Columns from flattened objects of some of the lines (`(line index, {path: value})`).
        Within a path the first value's kind wins; values of other kinds are kept as text under
        `_conflicts.<path>` (ingest/field_types.py does better, knowing the account's kinds)."""
        fields = cls(length)
        for path, by_kind in columns_by_kind(length, rows).items():
            kinds = iter(by_kind.items())
            fields.add(path, next(kinds)[1])
            for _, values in kinds:
                fields.add(f"{CONFLICTS}.{path}", text_values(values))
        return fields

    # -- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._columns)

    def __iter__(self) -> Iterator[str]:
        return iter(self._columns)

    def __contains__(self, path: object) -> bool:
        return path in self._columns

    def get(self, path: str) -> pa.Array | None:
        return self._columns.get(path)

    def items(self) -> Iterable[tuple[str, pa.Array]]:
        return self._columns.items()

    def kind(self, path: str) -> str:
        return column_kind(self._columns[path])

    # -- changing -----------------------------------------------------------------------------

    def set(self, path: str, values: pa.Array) -> None:
        assert len(values) == self.length, (path, len(values), self.length)
        self._columns[path] = values

    def drop(self, path: str) -> None:
        self._columns.pop(path, None)

    def add(self, path: str, values: pa.Array) -> None:
        """Merge `values` into the column at `path`: they fill its nulls (so the values already
        there win); numbers of both widths merge as floats; values of another kind go to
        `_conflicts.<path>` as text."""
        mine = self._columns.get(path)
        if mine is None:
            self._columns[path] = values
            return
        if not mine.null_count:
            return
        if mine.type != values.type and column_kind(mine) == column_kind(values) == NUMBER:
            mine, values = mine.cast(pa.float64(), safe=False), values.cast(pa.float64(), safe=False)
        if mine.type == values.type:
            self._columns[path] = _coalesce(mine, values)
            return
        moved = pc.and_(mine.is_null(), values.is_valid())
        if pc.any(moved).as_py():
            self.add(f"{CONFLICTS}.{path}", pc.if_else(moved, text_values(values), pa.scalar(None, pa.string())))

    def fill_from(self, other: FieldColumns) -> None:
        """`add` every column of `other` (so these win where both have a value)."""
        for path, values in other.items():
            self.add(path, values)

    def filter(self, mask: pa.BooleanArray) -> FieldColumns:
        kept = {path: values.filter(mask) for path, values in self._columns.items()}
        length = len(next(iter(kept.values()))) if kept else int(pc.sum(mask).as_py() or 0)
        return FieldColumns(length, {path: values for path, values in kept.items() if values.null_count < len(values)})

    # -- Arrow and JSON ------------------------------------------------------------------------

    def to_struct(self) -> pa.StructArray:
        """One struct column (a child per path) for the write-ahead log's Arrow batch."""
        if not self._columns:
            return pa.array([{}] * self.length, pa.struct([]))
        return pa.StructArray.from_arrays(list(self._columns.values()), names=list(self._columns))

    @classmethod
    def from_struct(cls, struct: pa.StructArray | pa.ChunkedArray) -> FieldColumns:
        if isinstance(struct, pa.ChunkedArray):
            struct = struct.combine_chunks() if struct.num_chunks != 1 else struct.chunk(0)
        columns = {struct.type.field(index).name: struct.field(index) for index in range(struct.type.num_fields)}
        return cls(len(struct), columns)

    def to_json(self) -> pa.Array:
        """Each line's fields as the text of one JSON object ("{}" for none), vectorised."""
        if not self._columns:
            return pa.repeat("{}", self.length).cast(pa.string())  # type: ignore[no-any-return]
        # Each member carries its own trailing comma and absent ones become "": joining with
        # null_handling="skip" instead drops rows where every member is null (Arrow 26).
        members = [_json_member(path, values) for path, values in self._columns.items()]
        body = pc.binary_join_element_wise(*members, "", null_handling="replace", null_replacement="")
        return pc.binary_join_element_wise("{", pc.utf8_rtrim(body, characters=","), "}", "")

    def rows(self, indices: Iterable[int]) -> list[dict[str, Any]]:
        """The fields of some lines as nested objects, the shape the store returns them in."""
        wanted = list(indices)
        if not wanted:
            return []
        taken = {path: values.take(pa.array(wanted, pa.int64())).to_pylist() for path, values in self._columns.items()}
        kinds = {path: column_kind(values) for path, values in self._columns.items()}
        result = []
        for position in range(len(wanted)):
            flat = {}
            for path, values in taken.items():
                value = values[position]
                if value is not None:
                    flat[path] = orjson.loads(value) if kinds[path] == JSON else value
            result.append(nest(flat))
        return result


def columns_by_kind(length: int, rows: Iterable[tuple[int, Mapping[str, Any]]]) -> dict[str, dict[str, pa.Array]]:
    """Each path's values as one full-length column per kind found, null elsewhere; paths and
    kinds in the order they first appear."""
    found: dict[tuple[str, str], tuple[list[int], list[Any]]] = {}
    kind_of_type = _KIND_OF_TYPE
    for index, row in rows:
        for path, value in row.items():
            kind = kind_of_type.get(type(value)) or _value_kind(value)
            slot = found.get((path, kind))
            if slot is None:
                found[(path, kind)] = ([index], [value])
            else:
                slot[0].append(index)
                slot[1].append(value)
    columns: dict[str, dict[str, pa.Array]] = {}
    for (path, kind), (at, values) in found.items():
        dense = _typed_array(kind, values)
        columns.setdefault(path, {})[kind] = dense if len(at) == length else dense.take(scatter_indices(length, at))
    return columns


def text_values(values: pa.Array) -> pa.Array:
    """Values as text: strings as they are, anything else as its JSON text."""
    return values if column_kind(values) == STRING else json_values(values)


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"user.id": 1}` -> `{"user": {"id": 1}}`, keys sorted like the store's output."""
    root: dict[str, Any] = {}
    for path in sorted(flat):
        node = root
        *parents, leaf = path.split(".")
        for name in parents:
            child = node.get(name)
            if not isinstance(child, dict):
                child = node[name] = {}
            node = child
        node[leaf] = flat[path]
    return root


def column_kind(values: pa.Array) -> str:
    kind = values.type
    if pa.types.is_boolean(kind):
        return BOOLEAN
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return NUMBER
    if isinstance(kind, JsonColumn):
        return JSON
    return STRING


def _json_member(path: str, values: pa.Array) -> pa.Array:
    """`"path":value,` for each line with a value, null elsewhere. Most paths are on a few lines
    of a batch (one app's JSON keys among many apps), so the text is made for those lines only
    and spread out after: the escaping check and the joins cost per value, not per line."""
    prefix = orjson.dumps(path).decode() + ":"
    if not values.null_count:
        return pc.binary_join_element_wise(prefix, json_values(values), ",", "")
    present = pc.indices_nonzero(values.is_valid())
    member = pc.binary_join_element_wise(prefix, json_values(values.take(present)), ",", "")
    return member.take(scatter_indices(len(values), present))


def json_values(values: pa.Array) -> pa.Array:
    """Each value as JSON text (null stays null)."""
    kind = column_kind(values)
    if kind in (NUMBER, BOOLEAN):
        return pc.cast(values, pa.string())
    if kind == JSON:
        return values.storage
    needs = pc.match_substring_regex(values, _NEEDS_ESCAPE)
    plain = pc.binary_join_element_wise('"', values, '"', "")
    if not pc.any(needs).as_py():
        return plain
    escaped = [orjson.dumps(text).decode() if flag else None for text, flag in zip(values.to_pylist(), needs.to_pylist())]
    return pc.if_else(needs, pa.array(escaped, pa.string()), plain)


def scatter_indices(length: int, at: list[int] | pa.Array) -> pa.Array:
    """Indices for `take` that put value i at position at[i] and null everywhere else."""
    positions = at.to_numpy() if isinstance(at, pa.Array) else np.asarray(at, dtype=np.int64)
    index = np.full(length, -1, dtype=np.int64)
    index[positions] = np.arange(len(positions), dtype=np.int64)
    return pa.array(index, mask=index < 0)


_KIND_OF_TYPE = {str: STRING, bool: BOOLEAN, int: NUMBER, float: NUMBER, _JsonText: JSON}


def _value_kind(value: object) -> str:
    return JSON if isinstance(value, _JsonText) else kind_of(value)


def _typed_array(kind: str, values: list[Any]) -> pa.Array:
    if kind == JSON:
        texts = [str(value) if isinstance(value, _JsonText) else json_text(value) for value in values]
        return JsonColumn.wrap(pa.array(texts, pa.string()))
    if kind == STRING:
        return pa.array(values, pa.string())
    if kind == BOOLEAN:
        return pa.array(values, pa.bool_())
    if all(type(value) is int for value in values):
        return pa.array(values, pa.int64())
    return pa.array([float(value) for value in values], pa.float64())  # a whole number beside a fraction is a double


def _coalesce(first: pa.Array, second: pa.Array) -> pa.Array:
    if isinstance(first.type, JsonColumn):
        return JsonColumn.wrap(pc.coalesce(first.storage, second.storage))
    return pc.coalesce(first, second)
