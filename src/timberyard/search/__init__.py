"""LogDNA's search language: parse once, then run as ClickHouse SQL or as a Python predicate.

Pure: no I/O. `parse` gives an AST (timberyard.search.ast); `compile_sql` lowers it to a WHERE
fragment with bound parameters; `compile_predicate` lowers it to a function of a row dict. The
two lowerings agree on every case of tests/unit/search/conformance_cases.py.
"""

from __future__ import annotations

from timberyard.search.ast import Node
from timberyard.search.errors import QuerySyntaxError
from timberyard.search.parser import parse
from timberyard.search.to_predicate import compile_predicate
from timberyard.search.to_sql import compile_sql

__all__ = ["Node", "QuerySyntaxError", "compile_predicate", "compile_sql", "parse"]
