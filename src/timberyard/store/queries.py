"""Read queries over the log table, as SQL text plus bound parameters.

Every query starts from the account predicate: there is no way to build one without it. User
text (queries, host names, tags) only ever travels as parameter values; a search query arrives
already compiled by timberyard.search, whose parameters are named q0, q1, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from timberyard.store.schema import LOG_TABLE

EXPORT_COLUMNS = (
    "toUnixTimestamp64Milli(ts) AS ts_ms, id, host, app, level, env, file, ip, mac, tags, line, meta, labels, annotations"
)


@dataclass(frozen=True)
class LineQuery:
    account: str
    from_ms: int
    to_ms: int
    limit: int
    search: tuple[str, dict[str, Any]] | None = None  # a compiled query: (WHERE fragment, params)
    hosts: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    prefer: Literal["head", "tail"] = "tail"


def select_lines(query: LineQuery) -> tuple[str, dict[str, Any]]:
    """Lines in a time range matching all filters; `head` = the earliest, `tail` = the latest."""
    params: dict[str, Any] = {"account": query.account, "from_ms": query.from_ms, "to_ms": query.to_ms, "limit": query.limit}
    where = [
        "account = {account:String}",
        "ts >= fromUnixTimestamp64Milli({from_ms:Int64})",
        "ts <= fromUnixTimestamp64Milli({to_ms:Int64})",
    ]
    for column, values in (("host", query.hosts), ("app", query.apps), ("level", query.levels)):
        if values:
            params[column + "s"] = list(values)
            where.append(f"{column} IN {{{column}s:Array(String)}}")
    if query.tags:
        params["tags"] = list(query.tags)
        where.append("hasAny(tags, {tags:Array(String)})")
    if query.search is not None:
        fragment, search_params = query.search
        params.update(search_params)
        where.append(fragment)
    order = "ASC" if query.prefer == "head" else "DESC"
    sql = (
        f"SELECT {EXPORT_COLUMNS} FROM {LOG_TABLE} WHERE {' AND '.join(where)} "
        f"ORDER BY ts {order}, id {order} LIMIT {{limit:UInt32}}"
    )
    return sql, params
