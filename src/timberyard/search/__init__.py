"""LogDNA's search language: parse once, then run as ClickHouse SQL, an Arrow filter or a predicate.

Pure: no I/O. `parse` gives an AST (timberyard.search.ast); `compile_sql` lowers it to a WHERE
fragment with bound parameters; `compile_filter` to a vectorised filter over Arrow batches of
lines; `compile_predicate` to a function of a row dict. The lowerings agree on every case of
tests/unit/search/conformance_cases.py.
"""

from __future__ import annotations

from timberyard.search.ast import Node
from timberyard.search.errors import QuerySyntaxError
from timberyard.search.parser import parse
from timberyard.search.to_arrow import compile_filter
from timberyard.search.to_predicate import compile_predicate
from timberyard.search.to_sql import compile_sql

__all__ = ["Node", "QuerySyntaxError", "compile_filter", "compile_predicate", "compile_sql", "parse"]
