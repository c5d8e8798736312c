"""A line format: an RE2 pattern whose named groups are fields, applied to a column of lines.

Built-in formats (parse/formats.py) and an account's custom parsing rules are both
`LineFormat`s, and both run vectorised through Arrow's RE2 (`extract`), so a format costs no
per-line Python and no pattern can backtrack catastrophically (RE2 runs in linear time).

Group names are field paths, with `__` standing for the `.` of a nested name (`request__path`
is `request.path`). A group named with a leading `_` is not a field: `time` and `level` name
the groups holding the line's own time and level, which become the line's time and level
rather than fields, and a `rest` group's text is read as `key=value` pairs (nginx's combined
format followed by `rt=0.012 urt="0.010"`, say). Values in `absent` (nginx's "-") mean "no value".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.fields import scatter_indices

# (values as text, receive time in epoch ms) -> epoch ms, null where unreadable
TimeReader = Callable[[pa.Array, int], pa.Array]

NUMBER_KINDS = ("int", "float")
_INTEGER = r"^-?[0-9]{1,18}$"
_DECIMAL = r"^-?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]{1,3})?$"


@dataclass(frozen=True)
class LineFormat:
    name: str  # stored in the `format` column, searchable as `_format:<name>`
    pattern: str  # RE2; anchor it with ^ so lines of other formats fail fast
    kinds: Mapping[str, str] = field(default_factory=dict)  # group -> "int" | "float" | "bool"; others are strings
    absent: frozenset[str] = frozenset({"-"})
    time: str | None = None  # the group with the line's time
    read_time: TimeReader | None = None
    level: str | None = None  # the group with the line's level
    levels: Mapping[str, str] = field(default_factory=dict)  # the format's own level codes -> level names
    rest: str | None = None  # a group whose text is `key=value` pairs that become fields too (parse/logfmt.py)
    signature: str | None = None  # a short RE2 every line of the format matches (see `extract`)

    def field_name(self, group: str) -> str:
        return group.replace("__", ".")


@dataclass
class Extracted:
    matched: pa.BooleanArray  # lines the format read
    fields: dict[str, pa.Array]  # path -> typed values, null where a line has none
    times: pa.Array | None  # epoch ms (int64), null where none or unreadable
    levels: pa.Array | None  # level words as the format writes them, null where none
    rest: pa.Array | None  # the `rest` group's text, for the stage to read as key=value pairs


def extract(fmt: LineFormat, lines: pa.Array, received_ms: int) -> Extracted:
    """Read every line of `lines` that matches `fmt` (a line that does not is left alone);
    `received_ms` lets a time without a year or zone be placed (see parse/times.py).

    Arrow compiles a pattern anew on every call, and a format's pattern takes 50 us to 1 ms to
    compile: on a request of 1,000 lines that costs more than matching. So the format's short
    `signature` first picks the lines that may be of the format, and the full pattern runs
    (compiled once) only when there are any, and only over those."""
    candidates = pc.fill_null(pc.match_substring_regex(lines, fmt.signature or fmt.pattern), False)
    positions = pc.indices_nonzero(candidates)
    if not len(positions):
        return Extracted(candidates, {}, None, None, None)
    found = pc.extract_regex(lines.take(positions), fmt.pattern)
    read = found.is_valid()
    if not pc.all(read).as_py():
        positions, found = positions.filter(read), found.filter(read)
    matched = _mask(len(lines), positions)
    place = scatter_indices(len(lines), positions)
    absent = _absent(fmt)
    fields: dict[str, pa.Array] = {}
    times = levels = rest = None
    for index in range(found.type.num_fields):
        group = found.type.field(index).name
        values = found.field(index)
        if group == fmt.level:  # before `absent`: a format's level code may be "-" (Redis)
            mapped = _map_levels(values, fmt.levels) if fmt.levels else values
            levels = pc.if_else(pc.equal(mapped, ""), None, mapped).take(place)
            continue
        values = pc.if_else(pc.is_in(values, value_set=absent), None, values)
        if group == fmt.time:
            times = fmt.read_time(values, received_ms).take(place) if fmt.read_time else None
        elif group == fmt.rest:
            rest = values.take(place)
        elif not group.startswith("_"):
            fields[fmt.field_name(group)] = _typed(values, fmt.kinds.get(group)).take(place)
    return Extracted(matched, fields, times, levels, rest)


def _mask(length: int, positions: pa.Array) -> pa.BooleanArray:
    flags = np.zeros(length, dtype=bool)
    flags[positions.to_numpy()] = True
    return pa.array(flags)


def _absent(fmt: LineFormat) -> pa.Array:
    return pa.array(sorted(fmt.absent | {""}), pa.string())


def _map_levels(values: pa.Array, mapping: Mapping[str, str]) -> pa.Array:
    codes = pa.array(list(mapping), pa.string())
    names = pa.array(list(mapping.values()), pa.string())
    return pc.coalesce(pc.take(names, pc.index_in(values, value_set=codes)), values)


def _typed(values: pa.Array, kind: str | None) -> pa.Array:
    """Strings as they are; numbers and booleans converted, null where a value is not one."""
    if kind == "int":
        ok = pc.fill_null(pc.match_substring_regex(values, _INTEGER), False)
        return pc.cast(pc.if_else(ok, values, None), pa.int64())
    if kind == "float":
        ok = pc.fill_null(pc.match_substring_regex(values, _DECIMAL), False)
        numbers = pc.cast(pc.if_else(ok, values, None), pa.float64())
        return pc.if_else(pc.fill_null(pc.is_finite(numbers), False), numbers, None)  # 1e999 is not a number we keep
    if kind == "bool":
        lowered = pc.utf8_lower(values)
        return pc.if_else(pc.is_in(lowered, value_set=pa.array(["true", "false"])), pc.equal(lowered, "true"), None)
    return values
