"""Counting queries over the log table: time histograms and top values of a field.

Like store.queries, each starts from the account predicate and carries user text only as bound
parameters; column names come from fixed tables here, never from the request.
"""

from __future__ import annotations

from typing import Any

from timberyard.search.ast import Field
from timberyard.search.to_sql import path_identifier
from timberyard.store.queries import Compiled, range_where
from timberyard.store.schema import LOG_TABLE

GROUP_COLUMNS = ("level", "app", "host")
FACET_COLUMNS = (
    "host", "app", "level", "env", "file", "k8s_namespace", "k8s_pod", "k8s_container", "k8s_node", "ingester",
    "format",
)  # fmt: skip


def select_histogram(
    account: str, from_ms: int, to_ms: int, search: Compiled | None, width_ms: int, buckets: int, by: str | None
) -> tuple[str, dict[str, Any]]:
    """Line counts per bucket of `width_ms` from `from_ms` (a line at `to_ms` itself counts in
    the last bucket): one row per value of `by` (one row in all without it), each with `counts`,
    an array of `buckets` counts.

    The `countResample` combinator counts into the buckets inside one aggregation keyed by the
    value alone; grouping by (bucket, value) instead took twice as long on 10M lines, most of it
    hashing the pairs.
    """
    where, params = range_where(account, from_ms, to_ms, search)
    params.update(width=width_ms, buckets=buckets, last=buckets - 1)
    bucket = "least(intDiv(toUnixTimestamp64Milli(ts) - {from_ms:Int64}, {width:Int64}), {last:Int64})"
    value, group = "'' AS value", ""
    if by is not None:
        assert by in GROUP_COLUMNS, by
        value, group = f"toString({by}) AS value", f" GROUP BY {by}"
    sql = (
        f"SELECT {value}, countResample(0, {{buckets:UInt32}}, 1)({bucket}) AS counts "
        f"FROM {LOG_TABLE} WHERE {' AND '.join(where)}{group}"
    )
    return sql, params


def select_facet(
    account: str, from_ms: int, to_ms: int, search: Compiled | None, field: Field, limit: int
) -> tuple[str, dict[str, Any]]:
    """The most common values of `field` among matching lines; lines without it are skipped."""
    where, params = range_where(account, from_ms, to_ms, search)
    params["limit"] = limit
    if field.kind == "column":
        assert field.name in FACET_COLUMNS, field.name
        value = f"toString({field.name})"
        where.append(f"{field.name} != ''")
    elif field.kind == "tags":
        value = "arrayJoin(tags)"
    elif field.kind == "template":
        value = "toString(template)"
        where.append("template != 0")
    elif field.kind == "label":
        params["f0"] = field.name
        value = "labels[{f0:String}]"
        where.append("mapContains(labels, {f0:String})")
    else:
        params["f0"] = path_identifier(field.path)
        kind = "dynamicType({f0:Identifier})"
        # Strings as themselves; numbers, booleans and arrays as their JSON text; any other type
        # (old rows' fields computed from `meta` can come back as Date or DateTime) as its text.
        value = (
            f"multiIf({kind} = 'String', dynamicElement({{f0:Identifier}}, 'String'), "
            f"{kind} IN ('Int64', 'UInt64', 'Float64', 'Bool') OR startsWith({kind}, 'Array'), "
            "toJSONString({f0:Identifier}), toString({f0:Identifier}))"
        )
        where.append(f"{kind} != 'None'")
    sql = (
        f"SELECT {value} AS value, count() AS count FROM {LOG_TABLE} WHERE {' AND '.join(where)} "
        "GROUP BY value ORDER BY count DESC, value ASC LIMIT {limit:UInt32}"
    )
    return sql, params
