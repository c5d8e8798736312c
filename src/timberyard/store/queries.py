"""Read queries over the log table, as SQL text plus bound parameters.

Every query starts from the account predicate: there is no way to build one without it. User
text (queries, host names, tags) only ever travels as parameter values; a search query arrives
already compiled by timberyard.search, whose parameters are named q0, q1, ...

Lines are totally ordered by (ts, id): `id` is unique per line, so a position in that order
(a keyset cursor) names exactly one gap between two lines, and paging by "strictly after the
last line seen" visits every line once however many lines arrive meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from timberyard.core.records import ID_COUNTER_BITS
from timberyard.store.export import EXPORT_COLUMNS_SQL, EXPORT_JSON, EXPORT_JSON_WITH
from timberyard.store.schema import LOG_TABLE

EXPORT_COLUMNS = (
    "toUnixTimestamp64Milli(ts) AS ts_ms, id, ingester, host, app, level, env, file, ip, mac, tags, line, format, template, fields, "
    "labels, annotations, k8s_namespace, k8s_pod, k8s_container, k8s_node"
)

Compiled = tuple[str, dict[str, Any]]  # a compiled search: (WHERE fragment, params)
Position = tuple[int, int]  # (ts in epoch ms, id): a place in the (ts, id) order


@dataclass(frozen=True)
class LineQuery:
    account: str
    from_ms: int
    to_ms: int
    limit: int
    search: Compiled | None = None
    hosts: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    prefer: Literal["head", "tail"] = "tail"
    after: Position | None = None  # keyset: only lines strictly past this position in the order
    source: str = LOG_TABLE  # SQL our code writes (a table, or archive/search.py's subquery), never user text


def range_where(account: str, from_ms: int, to_ms: int, search: Compiled | None = None) -> tuple[list[str], dict[str, Any]]:
    """The account predicate, an inclusive time range and a compiled search, as WHERE terms."""
    params: dict[str, Any] = {"account": account, "from_ms": from_ms, "to_ms": to_ms}
    where = [
        "account = {account:String}",
        "ts >= fromUnixTimestamp64Milli({from_ms:Int64})",
        "ts <= fromUnixTimestamp64Milli({to_ms:Int64})",
    ]
    if search is not None:
        fragment, search_params = search
        params.update(search_params)
        where.append(fragment)
    return where, params


def select_arrived(
    account: str, from_ms: int, to_ms: int, search: Compiled | None, filters: Any
) -> tuple[str, dict[str, Any]]:
    """How many lines the node received in [from_ms, to_ms) (by line id, whose high bits are
    the receive time) that match a search and the viewer's `filters` (apps, hosts, levels, tags)."""
    params: dict[str, Any] = {
        "account": account, "id_from": from_ms << ID_COUNTER_BITS, "id_to": to_ms << ID_COUNTER_BITS,
    }
    where = ["account = {account:String}", "id >= {id_from:UInt64}", "id < {id_to:UInt64}"]
    if search is not None:
        params.update(search[1])
        where.append(search[0])
    for column, values in (("host", filters.hosts), ("app", filters.apps), ("level", filters.levels)):
        if values:
            params[column + "s"] = list(values)
            where.append(f"{column} IN {{{column}s:Array(String)}}")
    if filters.tags:
        params["tags"] = list(filters.tags)
        where.append("hasAny(tags, {tags:Array(String)})")
    return f"SELECT count() AS matches FROM {LOG_TABLE} WHERE {' AND '.join(where)}", params


def select_scope_split(account: str, from_ms: int, to_ms: int, search: Compiled | None, scope: Compiled) -> tuple[str, dict[str, Any]]:
    """Of the stored lines received in [from_ms, to_ms) that match `search` (None: all),
    how many there are (`lines`) and how many `scope` (an access scope, compiled with its
    own parameter prefix) lets through (`inside`)."""
    params: dict[str, Any] = {"account": account, "id_from": from_ms << ID_COUNTER_BITS, "id_to": to_ms << ID_COUNTER_BITS}
    where = ["account = {account:String}", "id >= {id_from:UInt64}", "id < {id_to:UInt64}", *_scope(search, params)]
    fragment, scope_params = scope
    params.update(scope_params)
    return f"SELECT count() AS lines, countIf({fragment}) AS inside FROM {LOG_TABLE} WHERE {' AND '.join(where)}", params


def select_lines(query: LineQuery) -> tuple[str, dict[str, Any]]:
    """Lines in a time range matching all filters; `head` = the earliest, `tail` = the latest."""
    where, params = range_where(query.account, query.from_ms, query.to_ms, query.search)
    params["limit"] = query.limit
    for column, values in (("host", query.hosts), ("app", query.apps), ("level", query.levels)):
        if values:
            params[column + "s"] = list(values)
            where.append(f"{column} IN {{{column}s:Array(String)}}")
    if query.tags:
        params["tags"] = list(query.tags)
        where.append("hasAny(tags, {tags:Array(String)})")
    order = "ASC" if query.prefer == "head" else "DESC"
    if query.after is not None:
        where.extend(_past(query.after, ">" if order == "ASC" else "<", params))
    sql = (
        f"SELECT {EXPORT_COLUMNS} FROM {query.source} WHERE {' AND '.join(where)} "
        f"ORDER BY ts {order}, id {order} LIMIT {{limit:UInt32}}"
    )
    return sql, params


def _past(position: Position, sign: str, params: dict[str, Any]) -> list[str]:
    """Terms for "strictly past `position`": the plain `ts` bound lets the primary key prune."""
    params["pos_ts"], params["pos_id"] = position
    pos_ts = "fromUnixTimestamp64Milli({pos_ts:Int64})"
    return [f"ts {sign}= {pos_ts}", f"(ts, id) {sign} ({pos_ts}, {{pos_id:UInt64}})"]


def select_line_by_id(account: str, line_id: int, scope: Compiled | None = None) -> tuple[str, dict[str, Any]]:
    """The line with this id, if it is in the account and matches `scope` (the caller's access
    scope, compiled with its own parameter prefix)."""
    params: dict[str, Any] = {"account": account, "id": line_id}
    where = ["account = {account:String}", "id = {id:UInt64}", *_scope(scope, params)]
    sql = f"SELECT {EXPORT_COLUMNS} FROM {LOG_TABLE} WHERE {' AND '.join(where)} LIMIT 1"
    return sql, params


def select_template_seen(account: str, template: int, app: str, scope: Compiled) -> tuple[str, dict[str, Any]]:
    """One stored line of `app` with this template that `scope` (an access scope) lets through,
    if any: whether a scoped caller may read the template's text."""
    params: dict[str, Any] = {"account": account, "template": template, "app": app}
    where = ["account = {account:String}", "app = {app:String}", "template = {template:UInt64}", *_scope(scope, params)]
    return f"SELECT id FROM {LOG_TABLE} WHERE {' AND '.join(where)} LIMIT 1", params


def _scope(scope: Compiled | None, params: dict[str, Any]) -> list[str]:
    if scope is None:
        return []
    fragment, scope_params = scope
    params.update(scope_params)
    return [fragment]


def select_neighbours(
    account: str,
    position: Position,
    same: dict[str, str],
    count: int,
    direction: Literal["before", "after"],
    scope: Compiled | None = None,
) -> tuple[str, dict[str, Any]]:
    """The `count` lines nearest `position` on one side, sharing the values in `same`
    (column name → value; the column names are ours, never the caller's) and matching `scope`,
    nearest first."""
    params: dict[str, Any] = {"account": account, "limit": count}
    where = ["account = {account:String}", *_scope(scope, params)]
    for index, (column, value) in enumerate(sorted(same.items())):
        assert column in ("host", "app"), column
        params[f"same{index}"] = value
        where.append(f"{column} = {{same{index}:String}}")
    sign, order = ("<", "DESC") if direction == "before" else (">", "ASC")
    where.extend(_past(position, sign, params))
    sql = (
        f"SELECT {EXPORT_COLUMNS} FROM {LOG_TABLE} WHERE {' AND '.join(where)} "
        f"ORDER BY ts {order}, id {order} LIMIT {{limit:UInt32}}"
    )
    return sql, params


def select_stored_ids(account: str, from_ms: int, to_ms: int, low_id: int, high_id: int) -> tuple[str, dict[str, Any]]:
    """The ids the store holds among one account's lines of a batch being sent again (its time
    span and id span): what an interrupted insert of it did store."""
    where, params = range_where(account, from_ms, to_ms)
    where.append("id BETWEEN {low_id:UInt64} AND {high_id:UInt64}")
    params.update(low_id=low_id, high_id=high_id)
    return f"SELECT id FROM {LOG_TABLE} WHERE {' AND '.join(where)}", params


def select_id_span(account: str, after_id: int, through_id: int) -> tuple[str, dict[str, Any]]:
    """How many lines have `after_id < id <= through_id`, and the first and last `ts` among them
    (epoch ms): the `ts` range the pages of an export of that id range need to scan (the table
    is sorted by ts, so the bound spares them the account's older and newer lines)."""
    params: dict[str, Any] = {"account": account, "after_id": after_id, "through_id": through_id}
    sql = (
        "SELECT count() AS lines, toUnixTimestamp64Milli(min(ts)) AS first_ms, toUnixTimestamp64Milli(max(ts)) AS last_ms "
        f"FROM {LOG_TABLE} WHERE account = {{account:String}} AND id > {{after_id:UInt64}} AND id <= {{through_id:UInt64}}"
    )
    return sql, params


def select_nth_id(account: str, after_id: int, through_id: int, n: int) -> tuple[str, dict[str, Any]]:
    """The `n`-th smallest line id (1-based) with `after_id < id <= through_id`, if there are that many."""
    params: dict[str, Any] = {"account": account, "after_id": after_id, "through_id": through_id, "offset": n - 1}
    sql = (
        f"SELECT id FROM {LOG_TABLE} WHERE account = {{account:String}} AND id > {{after_id:UInt64}} "
        "AND id <= {through_id:UInt64} ORDER BY id LIMIT 1 OFFSET {offset:UInt64}"
    )
    return sql, params


@dataclass(frozen=True)
class ExportPage:
    """One page of an export of the lines with `after_id < id <= through_id`, whose `ts` lies in
    [first_ms, last_ms] (select_id_span): the next `limit` of them by id."""

    account: str
    after_id: int
    through_id: int
    first_ms: int
    last_ms: int
    limit: int
    bucket_ms: int  # the `bucket` column: the start of each line's `ts` bucket of this length (an hour)


def select_export_page(page: ExportPage) -> tuple[str, dict[str, Any]]:
    """A page of export-shaped JSON lines (store/export.py), each ending in a newline, with their
    `ts_ms`, `id` and `bucket`, ordered by bucket then id: a bucket's lines are contiguous, and
    in id order across pages. The page's ids are picked first from the id column alone, so the
    other columns are read only for the page's lines and the range is never sorted whole."""
    return _export_page(page, f"WITH {EXPORT_JSON_WITH} SELECT toUnixTimestamp64Milli(ts) AS ts_ms, id, "
                              f"{_BUCKET}, concat({EXPORT_JSON}, '\\n') AS json")


def select_export_columns(page: ExportPage) -> tuple[str, dict[str, Any]]:
    """The same page as `select_export_page`, as the `/v1/export` fields in columns
    (store/export.py `EXPORT_COLUMNS_SQL`) for Parquet archives, with `id` and `bucket`."""
    return _export_page(page, f"SELECT id, {_BUCKET}, {EXPORT_COLUMNS_SQL}")


_BUCKET = "toUnixTimestamp64Milli(ts) - positiveModulo(toUnixTimestamp64Milli(ts), {bucket_ms:Int64}) AS bucket"


def _export_page(page: ExportPage, select: str) -> tuple[str, dict[str, Any]]:
    where, params = range_where(page.account, page.first_ms, page.last_ms)
    where += ["id > {after_id:UInt64}", "id <= {through_id:UInt64}"]
    params.update(after_id=page.after_id, through_id=page.through_id, limit=page.limit, bucket_ms=page.bucket_ms)
    where_sql = " AND ".join(where)
    sql = (
        f"{select} FROM {LOG_TABLE} WHERE {where_sql} "
        f"AND id IN (SELECT id FROM {LOG_TABLE} WHERE {where_sql} ORDER BY id LIMIT {{limit:UInt32}}) "
        "ORDER BY bucket, id SETTINGS output_format_json_quote_64bit_integers = 0, output_format_json_escape_forward_slashes = 0"
    )
    return sql, params
