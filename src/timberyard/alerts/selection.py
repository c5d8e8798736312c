"""An alert's lines as one vectorised test: its search query AND the viewer's filters, within
the access scope of whoever saved it (an alert never counts or samples lines its author could
not read; `scoped_query` is the same rule for the store's dry run).

The filters mean what they mean in the viewer's SQL (store/queries.py): exact host, app and
level values, any of the tags; levels are compared in canonical spelling. Compiled once per
distinct (query, filters) and shared by every alert that selects the same lines; the tests
themselves are shared, per batch, by every selection that makes them (`SharedBatch`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.auth.scopes import union_of_scopes
from timberyard.meta.views import ViewFilters
from timberyard.parse.levels import normalise_level
from timberyard.search import parse
from timberyard.search.ast import And, Node
from timberyard.search.to_arrow import SharedBatch, compile_filter


def scoped_query(query: str, scope: tuple[str, ...] | None) -> Node | None:
    """The query limited to `scope` (group scope queries, any of which lets a line through;
    None: the whole account); None when nothing limits the lines."""
    node = parse(query) if query else None
    if scope is None:
        return node
    limit = union_of_scopes(list(scope))
    return limit if node is None else And((limit, node))


class Selection:
    """An alert's selection compiled: `node` (the scoped query, None: every line) and exact
    filters, tested on one account's lines of a batch as a `SharedBatch`, whose kept answers
    let every alert of the account that names the same term, app or level share one test."""

    def __init__(self, query: str, filters: ViewFilters, scope: tuple[str, ...] | None = None) -> None:
        self.node = scoped_query(query, scope)
        self._matches = compile_filter(self.node) if self.node is not None else None
        self._exact = [
            (column, tuple(values))
            for column, values in (
                ("host", filters.hosts),
                ("app", filters.apps),
                ("level", tuple(normalise_level(level) for level in filters.levels)),
            )
            if values
        ]
        self._tags = tuple(filters.tags)

    def __call__(self, lines: SharedBatch | pa.Table) -> np.ndarray:
        """One bool per line."""
        if not isinstance(lines, SharedBatch):
            lines = SharedBatch(lines)
        if not self._exact and not self._tags and self._matches is not None:  # most alerts: a query alone
            return self._query(lines)
        keep = np.ones(lines.num_rows, dtype=bool)
        for column, values in self._exact:
            keep &= _kept(lines, ("in", column, values), lambda: _any_of(lines, column, values))
        if self._tags:
            keep &= _kept(lines, ("tags", self._tags), lambda: _any_tag(lines, self._tags))
        if self._matches is not None and keep.any():
            keep &= self._query(lines)
        return keep

    def _query(self, lines: SharedBatch) -> np.ndarray:
        assert self._matches is not None
        found = self._matches(lines)
        return (pc.fill_null(found, False) if found.null_count else found).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def compile_selection(query: str, filters: ViewFilters, scope: tuple[str, ...] | None = None) -> Selection:
    return Selection(query, filters, scope)


def _kept(lines: SharedBatch, key: object, compute: Callable[[], np.ndarray]) -> np.ndarray:
    if key not in lines.answers:
        lines.answers[key] = compute()
    return lines.answers[key]  # type: ignore[return-value]


def _any_of(lines: SharedBatch, column: str, values: tuple[str, ...]) -> np.ndarray:
    found = pc.is_in(lines.batch.column(column), value_set=pa.array(values, pa.string()))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _any_tag(lines: SharedBatch, tags: tuple[str, ...]) -> np.ndarray:
    column = lines.batch.column("tags").combine_chunks()
    hit = pc.fill_null(pc.is_in(pc.list_flatten(column), value_set=pa.array(tags, pa.string())), False)
    owners = pc.list_parent_indices(column).to_numpy()
    return np.bincount(owners[hit.to_numpy(zero_copy_only=False)], minlength=lines.num_rows).astype(bool)
