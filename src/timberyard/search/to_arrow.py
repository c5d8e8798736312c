"""The AST as a vectorised filter over a batch of lines: live tail, ingest rules and alerts.

`compile_filter(node)` gives a function of an Arrow table or record batch that returns one
boolean per line, computed a column at a time with pyarrow.compute: no Python runs per line, so
dozens of tails can each test every durable batch. The batch has the line columns of
core/records.py (`line`, `host`, ..., `tags` list, `labels` map, `ingester`, `format`) and
`fields`, a struct with one child per dotted path as `FieldColumns.to_struct` makes it; a
column the batch lacks counts as empty.

Terms are matched with the RE2 pattern the SQL uses (`text.term_pattern`) and Arrow's regex
engine is RE2 too, so the two agree by construction; phrases and field values fold case with
`ascii_lower`, ASCII-only like ClickHouse's `lower` and `positionCaseInsensitive`. The meaning
of each node matches `to_sql` exactly; tests/unit/search/conformance_cases.py holds both.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.fields import BOOLEAN, NUMBER, STRING, column_kind
from timberyard.search.ast import (
    And,
    Compare,
    Field,
    FieldExists,
    FieldIn,
    FieldMatch,
    MatchAll,
    Node,
    Not,
    Or,
    Phrase,
    TemplateIn,
    Term,
)
from timberyard.search.text import NUMBER_PATTERN, ascii_lower, parse_number, term_pattern

Batch = pa.Table | pa.RecordBatch
Filter = Callable[[Batch], pa.BooleanArray]
# A test of strings: true, false or null (for null input) per value.
StringTest = Callable[[pa.Array], pa.Array]

_FIELDS = "fields"


class SharedBatch:
    """One batch that many filters test, as an alert engine tests each durable batch with every
    alert of an account: each column is read as one array once, and each node's answer over the
    whole batch is computed once and kept (`answers`), so a term, an app or a level that a
    hundred alerts name costs one test. Only for the batch it was made for."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.num_rows = batch.num_rows
        self.columns: dict[str, pa.Array | None] = {}
        self.answers: dict[object, pa.BooleanArray | np.ndarray] = {}  # by search node, or a caller's own key

    def column(self, name: str) -> pa.Array | None:
        if name not in self.columns:
            values = self.batch.column(name) if name in self.batch.schema.names else None
            if isinstance(values, pa.ChunkedArray):
                values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
            self.columns[name] = values
        return self.columns[name]

    def text(self, name: str) -> pa.Array:
        """A string column with nulls as "" (an absent column: all "")."""
        values = self.column(name)
        if values is None:
            return pa.repeat(pa.scalar("", pa.string()), self.num_rows)  # type: ignore[no-any-return]
        return pc.fill_null(values, "") if values.null_count else values

    def knows(self, node: Node) -> bool:
        """Whether the answer for `node` over the whole batch is kept (or is a NOT of one)."""
        return node in self.answers or (isinstance(node, Not) and self.knows(node.item))


class _Lines:
    """Lines of a batch being tested: all of them, or the subset (`rows`, indices into the batch)
    an AND or OR has not decided yet. A column is read as one array (shared by every filter that
    tests the same `SharedBatch`), taken to the subset when a check first needs it, and kept for
    the other checks; nulls read as ""."""

    def __init__(self, shared: SharedBatch, rows: pa.Array | None = None) -> None:
        self.shared = shared
        self.rows = rows
        self.length = shared.num_rows if rows is None else len(rows)
        self._mine: dict[str, pa.Array | None] = {}

    def subset(self, selected: np.ndarray) -> _Lines:
        positions = pa.array(np.flatnonzero(selected))
        return _Lines(self.shared, positions if self.rows is None else self.rows.take(positions))

    def _batch_column(self, name: str) -> pa.Array | None:
        return self.shared.column(name)

    def _cached(self, key: str, read: Callable[[], pa.Array | None]) -> pa.Array | None:
        if key not in self._mine:
            values = read()
            self._mine[key] = values if values is None or self.rows is None else values.take(self.rows)
        return self._mine[key]

    def column(self, name: str) -> pa.Array | None:
        return self._cached(name, lambda: self._batch_column(name))

    def text(self, name: str) -> pa.Array:
        values = self.column(name)
        if values is None:
            return self.empty()
        return pc.fill_null(values, "") if values.null_count else values

    def label(self, name: str) -> pa.Array:
        labels = self.column("labels")
        if labels is None:
            return self.empty()
        return pc.fill_null(pc.map_lookup(labels, pa.scalar(name, labels.type.key_type), "first"), "")

    def any_tag(self, test: StringTest) -> pa.BooleanArray:
        """True where `test` holds for at least one of the line's tags."""
        tags = self.column("tags")
        if tags is None:
            return self.constant(False)
        hits = pc.fill_null(test(pc.fill_null(pc.list_flatten(tags), "")), False)
        owners = pc.list_parent_indices(tags).filter(hits).to_numpy()
        found = np.zeros(self.length, dtype=bool)
        found[owners] = True
        return pa.array(found)

    def path(self, path: tuple[str, ...]) -> pa.Array | None:
        """The values of one field path (null where a line lacks it), None when no line has it."""
        name = ".".join(path)

        def read() -> pa.Array | None:
            fields = self._batch_column(_FIELDS)
            if fields is None or not pa.types.is_struct(fields.type):
                return None
            index = fields.type.get_field_index(name)
            values = None if index < 0 else pc.struct_field(fields, [index])
            return None if values is None or pa.types.is_null(values.type) else values

        return self._cached(f"{_FIELDS}.{name}", read)

    def empty(self) -> pa.Array:
        return pa.repeat(pa.scalar("", pa.string()), self.length)  # type: ignore[no-any-return]

    def constant(self, value: bool) -> pa.BooleanArray:
        return pa.repeat(pa.scalar(value), self.length)  # type: ignore[no-any-return]


Evaluate = Callable[[_Lines], pa.BooleanArray]


def compile_filter(node: Node) -> Filter:
    """A function giving, for each line of a batch, whether it matches `node` (never null). Given
    a `SharedBatch`, it shares columns and answers with the other filters that test it."""
    evaluate = _compile(node)

    def matches(batch: Batch | SharedBatch) -> pa.BooleanArray:
        return evaluate(_Lines(batch if isinstance(batch, SharedBatch) else SharedBatch(batch)))

    return matches


def _compile(node: Node) -> Evaluate:
    """The node's test, answering from (and into) the batch's kept answers: over the whole
    batch it is computed once per `SharedBatch`; over a subset, a kept answer is taken to it."""
    evaluate = _compile_node(node)

    def answered(lines: _Lines) -> pa.BooleanArray:
        answers = lines.shared.answers
        known = answers.get(node)
        if lines.rows is None:
            if known is None:
                known = answers[node] = evaluate(lines)
            return known
        return evaluate(lines) if known is None else known.take(lines.rows)

    return answered


def _compile_node(node: Node) -> Evaluate:
    match node:
        case MatchAll():
            return lambda lines: lines.constant(True)
        case And(items):
            return _decide(_cheapest_first(items), settled=False)
        case Or(items):
            return _decide(_cheapest_first(items), settled=True)
        case Not(item):
            evaluate = _compile(item)
            return lambda lines: pc.invert(evaluate(lines))
        case Term(text) | Phrase(text):
            return _containing(text, text_test(node))
        case FieldMatch(field, op, value):
            return _on_text(field, _string_test(op, value), _numbers([value]))
        case FieldIn(field, values):
            wanted = pa.array(sorted({ascii_lower(v) for v in values}), pa.string())
            return _on_text(field, lambda s: pc.is_in(pc.ascii_lower(s), value_set=wanted), _numbers(values))
        case TemplateIn(ids):
            return _template_in(pa.array(ids, pa.uint64()))
        case FieldExists(field):
            return _exists(field)
        case Compare(field, op, value):
            return _compare(field, _COMPARE[op], value)
    raise TypeError(f"not a search node: {node!r}")  # pragma: no cover


def text_test(node: Term | Phrase) -> StringTest:
    """The exact test of a term (its RE2 pattern) or a phrase (its lowered search) on lines; it
    holds only on lines that contain the node's text in any case (`_containing`)."""
    if isinstance(node, Term):
        pattern = term_pattern(node.text)
        return lambda line: pc.match_substring_regex(line, pattern)
    needle = ascii_lower(node.text)
    return lambda line: pc.match_substring(pc.ascii_lower(line), needle)


def _containing(text: str, exact: StringTest) -> Evaluate:
    """`exact` (a term's pattern, a phrase's lowered search), run only on the lines that contain
    `text` in any case. That search (RE2's literal mode, Unicode case folding) finds every line
    `exact` does and maybe a few more, and is three to four times cheaper over a whole batch (5
    vs 17-20 ms per 50,000 lines), which is what an alert engine or a live tail does for each
    term it watches."""

    def evaluate(lines: _Lines) -> pa.BooleanArray:
        line = lines.text("line")
        candidates = pc.match_substring(line, text, ignore_case=True)
        if candidates.true_count > len(candidates) * _WHOLE_BATCH_ABOVE:
            return exact(line)
        found = candidates.to_numpy(zero_copy_only=False)
        positions = np.flatnonzero(found)
        if len(positions):
            found[positions] = exact(line.take(positions)).to_numpy(zero_copy_only=False)
        return pa.array(found)

    return evaluate


# Above this share of candidate lines, the exact test over the whole batch beats taking them.
_WHOLE_BATCH_ABOVE = 0.5


def _decide(checks: list[tuple[int, Node, Evaluate]], settled: bool) -> Evaluate:
    """AND (`settled` false) or OR (true) of (cost, node, check), cheapest first. A line whose
    answer is `settled` keeps it, so a further check runs on the lines still open only (unless
    the batch already knows the check's answer for every line)."""
    combine = pc.or_ if settled else pc.and_

    def evaluate(lines: _Lines) -> pa.BooleanArray:
        mask = checks[0][2](lines)
        for cost, node, check in checks[1:]:
            still_open = len(mask) - mask.true_count if settled else mask.true_count
            if not still_open:
                break
            if still_open >= len(mask) * _SUBSET_BELOW[cost] or (lines.rows is None and lines.shared.knows(node)):
                mask = combine(mask, check(lines))
                continue
            found = mask.to_numpy(zero_copy_only=False)
            undecided = found != settled
            found[undecided] = check(lines.subset(undecided)).to_numpy(zero_copy_only=False)
            mask = pa.array(found)
        return mask

    return evaluate


# A check on a subset of lines first takes the columns it reads to that subset. On 100,000-line
# batches that pays for a check of the line's text (13 ms) while under 90% of the lines are open
# (taking the lines costs about 1 ms), and for a check of fields (0.5 ms) under half.
_SUBSET_BELOW = (0.5, 0.9)


def _cheapest_first(items: tuple[Node, ...]) -> list[tuple[int, Node, Evaluate]]:
    return sorted(((_cost(item), item, _compile(item)) for item in items), key=lambda check: check[0])


def _cost(node: Node) -> int:
    """1 for a check that reads the line's text, the dearest, else 0: an AND or OR tests fields
    first and reads the text of the lines they leave open."""
    match node:
        case Term() | Phrase():
            return 1
        case Not(item):
            return _cost(item)
        case And(items) | Or(items):
            return max(_cost(item) for item in items)
    return 0


def _numbers(values: tuple[str, ...] | list[str]) -> pa.Array | None:
    numbers = {n for v in values if (n := parse_number(v)) is not None}
    return pa.array(sorted(numbers), pa.float64()) if numbers else None


def _string_test(op: str, value: str) -> StringTest:
    if op == "prefix":
        lowered = ascii_lower(value)
        return lambda s: pc.starts_with(pc.ascii_lower(s), lowered)
    if op == "eq":
        lowered = ascii_lower(value)
        return lambda s: pc.equal(pc.ascii_lower(s), lowered)
    if op == "prefix_cs":
        return lambda s: pc.starts_with(s, value)
    return lambda s: pc.equal(s, value)


def _on_strings(field: Field, test: StringTest) -> Evaluate | None:
    """`test` on a built-in column, any tag, or a label; None for a field path, whose values
    are typed and need their own rule."""
    if field.kind == "column":
        return lambda lines: test(lines.text(field.name))
    if field.kind == "tags":
        return lambda lines: lines.any_tag(test)
    if field.kind == "label":
        return lambda lines: test(lines.label(field.name))
    return None


def _on_text(field: Field, test: StringTest, numbers: pa.Array | None) -> Evaluate:
    """`test` on the field's text; numbers in fields match by numeric equality with `numbers`,
    booleans are the text true/false, arrays and absent values never match."""
    on_strings = _on_strings(field, test)
    if on_strings is not None:
        return on_strings
    on_true, on_false = test(pa.array(["true", "false"])).to_pylist()

    def evaluate(lines: _Lines) -> pa.BooleanArray:
        values = lines.path(field.path)
        kind = None if values is None else column_kind(values)
        if kind == STRING:
            return pc.fill_null(test(values), False)
        if kind == NUMBER and numbers is not None:
            return pc.fill_null(pc.is_in(_floats(values), value_set=numbers), False)
        if kind == BOOLEAN and on_true and on_false:
            return values.is_valid()
        if kind == BOOLEAN and on_true:
            return pc.fill_null(values, False)
        if kind == BOOLEAN and on_false:
            return pc.fill_null(pc.invert(values), False)
        return lines.constant(False)

    return evaluate


def _template_in(ids: pa.Array) -> Evaluate:
    """A line without a template column, or a null in it (a batch before the templates stage),
    has template 0."""
    zero = 0 in ids.to_pylist()

    def evaluate(lines: _Lines) -> pa.BooleanArray:
        values = lines.column("template")
        if values is None:
            return lines.constant(zero)
        return pc.is_in(pc.fill_null(values.cast(pa.uint64()), 0), value_set=ids)

    return evaluate


def _exists(field: Field) -> Evaluate:
    on_strings = _on_strings(field, lambda s: pc.not_equal(s, ""))
    if on_strings is not None:
        return on_strings

    def evaluate(lines: _Lines) -> pa.BooleanArray:
        values = lines.path(field.path)
        return lines.constant(False) if values is None else values.is_valid()

    return evaluate


_COMPARE: dict[str, Callable[[pa.Array, float], pa.Array]] = {
    ">": pc.greater,
    ">=": pc.greater_equal,
    "<": pc.less,
    "<=": pc.less_equal,
}


def _compare(field: Field, test: Callable[[pa.Array, float], pa.Array], value: float) -> Evaluate:
    def on_string(texts: pa.Array) -> pa.Array:
        """Strings that are numbers by NUMBER_PATTERN, compared by value; others never."""
        numeric = pc.fill_null(pc.match_substring_regex(texts, NUMBER_PATTERN), False)
        numbers = pc.cast(pc.if_else(numeric, texts, pa.scalar(None, texts.type)), pa.float64())
        return pc.fill_null(test(numbers, value), False)

    on_strings = _on_strings(field, on_string)
    if on_strings is not None:
        return on_strings

    def evaluate(lines: _Lines) -> pa.BooleanArray:
        values = lines.path(field.path)
        kind = None if values is None else column_kind(values)
        if kind == STRING:
            return on_string(values)
        if kind == NUMBER:
            return pc.fill_null(test(_floats(values), value), False)
        return lines.constant(False)

    return evaluate


def _floats(values: pa.Array) -> pa.Array:
    """Numbers as doubles, as the store compares them (rounding integers beyond 2^53)."""
    return values if pa.types.is_float64(values.type) else pc.cast(values, pa.float64(), safe=False)
