"""Searching archived lines where they lie, without re-ingesting them.

The query language's compiled WHERE fragment (search/to_sql.py, the one the live search runs)
and the live search's SELECT (store/queries.py `select_lines`) run unchanged over a subquery
that reads the staged archive files (archive/staging.py) with chDB's `file()` and renames the
`/v1/export` fields to the log table's columns: JSON lines, Parquet, or both (UNION ALL) as the
staged files' formats say. The globs and the file structures are bound parameters; the
subquery is one of three fixed texts. Archive files lack what `/v1/export` leaves out:
`ingester`, `format` and the Kubernetes columns read as empty, `template` as 0 in files written
before lines carried one. `_meta` is read as text and
made JSON only for the lines the query needs it for: parsing every line's fields as JSON took
a term search on 1M lines from 1.8 s to 3.7 s (bench/archive.py --search).

Time ranges are inclusive, in epoch ms; files are picked by their UTC hour. A file holds the
lines of one hour of `ts`, so the files of a later day hold only newer lines: `search_files`
reads a day at a time, newest first, and stops once it has `limit` lines. That answers
"the latest matches" without reading a whole month, stages (downloads, decrypts) only the days
it reads, and leaves the store's one chDB session to other queries between days.

Paging goes by position in the live search's (ts, id) order, newest first: a later page passes
`after` (the last line of the page before) and only lines strictly older are read. The caller
picks the files again from the account's records for the range up to that line's hour
(web/api/archive.py), so a page stages only the days from the cursor's back until it has its
lines: the cursor's day is staged again (downloaded and decrypted again for S3 or encrypted
files; plain local files are read in place), newer days are not.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from typing import Any

from timberyard.archive.staging import ArchiveReadError, Places, staged
from timberyard.meta.archives import ArchiveRecord, FileRecord
from timberyard.store.base import Store
from timberyard.store.chdb import StoreError
from timberyard.store.queries import Compiled, LineQuery, Position, select_lines

DAY_MS = 86_400_000

# The `/v1/export` fields an archive file holds, as ClickHouse reads them (absent: empty). A
# Parquet file's `_ts` is a timestamp (archive/parquet.py), its unset fields NULL (read as empty).
STRUCTURE = (
    "_ts Int64, _host String, _app String, _line String, level String, _file String, _tag Array(String), "
    "_lid String, _ip String, _mac String, _env String, _label Map(String, String), "
    "_annotation Map(String, String), _meta String, _template String"
)
PARQUET_STRUCTURE = STRUCTURE.replace("_ts Int64", "_ts DateTime64(3, 'UTC')")
_FIELDS = "_host, _app, _line, level, _file, _tag, _lid, _ip, _mac, _env, _label, _annotation, _meta, _template"

# Each staged format's files as the same columns, `_ts` in epoch ms as `ts_ms`.
_FILES = {
    "json": f"SELECT _ts AS ts_ms, {_FIELDS} FROM file({{archive_json_glob:String}}, 'JSONEachRow', {{archive_json_structure:String}})",
    "parquet": (f"SELECT toUnixTimestamp64Milli(_ts) AS ts_ms, {_FIELDS} "
                "FROM file({archive_parquet_glob:String}, 'Parquet', {archive_parquet_structure:String})"),
}
_STRUCTURES = {"json": STRUCTURE, "parquet": PARQUET_STRUCTURE}


def source(formats: Iterable[str]) -> str:
    """The subquery renaming the archive fields to the log table's columns, over the staged files
    of `formats` (one `file()` each, UNION ALL when both: a glob that matched no file would be an
    error). Fixed text: which formats only picks among the variants."""
    files = " UNION ALL ".join(_FILES[fmt] for fmt in sorted(set(formats)))
    return (
        "(SELECT {archive_account:String} AS account, fromUnixTimestamp64Milli(ts_ms, 'UTC') AS ts, "
        "toUInt64OrZero(_lid) AS id, '' AS ingester, _host AS host, _app AS app, level, _env AS env, _file AS file, "
        "_ip AS ip, _mac AS mac, _tag AS tags, _line AS line, '' AS format, toUInt64OrZero(_template) AS template, "
        "CAST(if(_meta = '', '{}', _meta), 'JSON') AS fields, _label AS labels, "
        "_annotation AS annotations, '' AS k8s_namespace, '' AS k8s_pod, '' AS k8s_container, '' AS k8s_node "
        f"FROM ({files}))"
    )


def select_archived(
    account: str, globs: dict[str, str], from_ms: int, to_ms: int, compiled: Compiled | None, limit: int,
    after: Position | None = None,
) -> tuple[str, dict[str, Any]]:
    """The live search's statement, newest first, over the archive files matching `globs` (per
    format, "json" and/or "parquet"; only lines strictly older than `after` when given)."""
    sql, params = select_lines(LineQuery(
        account=account, from_ms=from_ms, to_ms=to_ms, limit=limit, search=compiled, prefer="tail", after=after,
        source=source(globs),
    ))
    params["archive_account"] = account
    for fmt, glob in globs.items():
        params.update({f"archive_{fmt}_glob": glob, f"archive_{fmt}_structure": _STRUCTURES[fmt]})
    return sql, params


def search_archived(
    store: Store, account: str, globs: dict[str, str], from_ms: int, to_ms: int, compiled: Compiled | None, limit: int,
    after: Position | None = None,
) -> list[dict[str, Any]]:
    """The matching archived rows (store columns, `ts_ms`), newest first, at most `limit`."""
    try:
        return store.select(*select_archived(account, globs, from_ms, to_ms, compiled, limit, after))
    except StoreError as exc:
        raise ArchiveReadError(f"archived files could not be read: {exc.message[:500]}") from None


def search_files(
    store: Store, record: ArchiveRecord, files: list[FileRecord], places: Places, from_ms: int, to_ms: int,
    compiled: Compiled | None, limit: int, after: Position | None = None,
) -> list[dict[str, Any]]:
    """The newest `limit` matching lines of `files` (oldest first, as files_between lists them)
    older than `after` when given. A file holds one hour of `ts`, so the days' answers, newest
    day first, follow each other in the (ts, id) order."""
    rows: list[dict[str, Any]] = []
    for _, day in groupby(reversed(files), key=lambda f: f.hour_ms // DAY_MS):
        with staged(record, list(day), places) as staging:
            rows += search_archived(store, record.account_id, staging.globs, from_ms, to_ms, compiled, limit - len(rows), after)
        if len(rows) >= limit:
            break
    return rows
