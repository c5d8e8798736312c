"""An alert's lines as one vectorised test: its search query AND the viewer's filters, within
the access scope of whoever saved it (an alert never counts or samples lines its author could
not read; `scoped_query` is the same rule for the store's dry run).

The filters mean what they mean in the viewer's SQL (store/queries.py): exact host, app and
level values, any of the tags; levels are compared in canonical spelling. Compiled once per
distinct (query, filters) and shared by every alert that selects the same lines.
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
from timberyard.search.to_arrow import compile_filter

Selector = Callable[[pa.Table], np.ndarray]  # one bool per line


def scoped_query(query: str, scope: tuple[str, ...] | None) -> Node | None:
    """The query limited to `scope` (group scope queries, any of which lets a line through;
    None: the whole account); None when nothing limits the lines."""
    node = parse(query) if query else None
    if scope is None:
        return node
    limit = union_of_scopes(list(scope))
    return limit if node is None else And((limit, node))


def compile_selection(query: str, filters: ViewFilters, scope: tuple[str, ...] | None = None) -> Selector:
    node = scoped_query(query, scope)
    matches = compile_filter(node) if node is not None else None
    exact = [
        (column, pa.array(values, pa.string()))
        for column, values in (
            ("host", filters.hosts),
            ("app", filters.apps),
            ("level", tuple(normalise_level(level) for level in filters.levels)),
        )
        if values
    ]
    tags = pa.array(filters.tags, pa.string()) if filters.tags else None

    def select(table: pa.Table) -> np.ndarray:
        keep = np.ones(table.num_rows, dtype=bool)
        for column, values in exact:
            keep &= pc.fill_null(pc.is_in(table.column(column), value_set=values), False).to_numpy(zero_copy_only=False)
        if tags is not None:
            column = table.column("tags").combine_chunks()
            hit = pc.fill_null(pc.is_in(pc.list_flatten(column), value_set=tags), False).to_numpy(zero_copy_only=False)
            owners = pc.list_parent_indices(column).to_numpy()
            keep &= np.bincount(owners[hit], minlength=table.num_rows).astype(bool)
        if matches is not None and keep.any():
            keep &= pc.fill_null(matches(table), False).to_numpy(zero_copy_only=False)
        return keep

    return select
