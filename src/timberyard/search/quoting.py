"""Writing query text from values: the inverse of the lexer's quoting, so code that builds a
query for a user (an anomaly's link to its lines, say) never pastes a value in as syntax."""

from __future__ import annotations


def quoted(value: str) -> str:
    """`value` as one double-quoted value the lexer reads back exactly: a backslash before
    each `"` and `\\`, nothing else changed."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def exact_field(name: str, value: str) -> str:
    """`name:==="value"`: lines whose field `name` is exactly `value`, case included. `name` is
    ours (a built-in field), never the caller's."""
    return f"{name}:==={quoted(value)}"


def any_of(name: str, values: list[str] | tuple[str, ...]) -> str:
    """`name:["a","b"]`: lines whose field `name` is one of `values` (whole values, any case)."""
    return f"{name}:[{','.join(quoted(value) for value in values)}]"
