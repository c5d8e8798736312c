"""The anomalies a caller may read, as the API answers them, and the query that finds each one's lines.

An anomaly's `query` is a search (docs/query-language.md) built with the language's own quoting
(search/quoting.py), never by pasting a value in: `app:==="x" template:123` for a template,
`host:==="y"` or `app:==="x"` for a silent host or app, `app:==="x" level:[...]` (ERROR and
worse) for an error trend, and the empty query (all lines) for the account's volume. Its
lines are looked for in `lines_window`: from an hour before it started (what the detectors
compare a minute with) to a minute after it was detected.

Access scopes: an anomaly speaks of all the lines its query finds (a surge counts them all), so
a caller with a scope sees it only if, in that window, its query finds at least one stored line
and every one of them is inside the scope. An anomaly of the whole account's volume is thus
hidden from nearly every scoped caller, and one whose lines have expired from all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from timberyard.core.clock import ms_of
from timberyard.insights.anomaly import KINDS
from timberyard.insights.columns import ERROR_RANK, RANKED
from timberyard.meta.anomalies import AnomalyRecord, list_anomalies
from timberyard.meta.database import MetaDB
from timberyard.meta.info import iso
from timberyard.search import compile_sql, parse
from timberyard.search.ast import Node
from timberyard.search.quoting import any_of, exact_field
from timberyard.store.queries import Compiled, select_scope_split

LOOKBACK_MS = 3_600_000
AFTER_MS = 60_000
DEFAULT_LIMIT = 100
MAX_LIMIT = 500
SCOPED_SCAN = 2_000  # anomalies a scoped caller's list looks through at most, checking each against the store


@dataclass(frozen=True)
class Wanted:
    account_id: str
    detected_from: datetime
    detected_to: datetime
    kinds: tuple[str, ...]  # empty: all of KINDS
    limit: int = DEFAULT_LIMIT


def query_of(kind: str, key: str) -> str:
    """The search that finds the lines behind an anomaly of `kind` about `key` (its detector's key)."""
    if kind in ("new_template", "template_surge"):
        app, _, template = key.removeprefix("app=").rpartition(" template=")
        return f"{exact_field('app', app)} template:{int(template)}"
    if kind == "silence":
        column, _, value = key.partition("=")
        return exact_field(column, value)
    if kind == "error_trend":
        return f"{exact_field('app', key.removeprefix('app='))} {any_of('level', RANKED[: ERROR_RANK + 1])}"
    return ""  # volume_spike, volume_drop: the account as a whole


def lines_window(record: AnomalyRecord) -> tuple[int, int]:
    """Epoch ms [from, to) in which the anomaly's lines were received."""
    return ms_of(record.started_at) - LOOKBACK_MS, ms_of(record.detected_at) + AFTER_MS


def link(base_url: str, record: AnomalyRecord) -> str:
    """The viewer showing the anomaly's lines in its window."""
    start, end = lines_window(record)
    return f"{base_url.rstrip('/')}/?{urlencode({'q': query_of(record.kind, record.key), 'from': start, 'to': end})}"


def answer(record: AnomalyRecord) -> dict[str, Any]:
    return {
        "id": record.id, "kind": record.kind, "key": record.key, "started_at": iso(record.started_at),
        "detected_at": iso(record.detected_at), "score": record.score, "evidence": record.evidence,
        "query": query_of(record.kind, record.key),
    }


def readable(meta: MetaDB, store: Any, wanted: Wanted, scope: Node | None) -> list[dict[str, Any]]:
    """The anomalies detected in the window, newest first, that a caller with `scope` may read."""
    kinds = tuple(kind for kind in KINDS if kind in wanted.kinds)
    if scope is None:
        return [answer(r) for r in meta.transact(_listed, wanted, kinds, wanted.limit, None, write=False)]
    inside = compile_sql(scope, prefix="s")
    found: list[dict[str, Any]] = []
    before_id, scanned = None, 0
    while len(found) < wanted.limit and scanned < SCOPED_SCAN:
        page = meta.transact(_listed, wanted, kinds, MAX_LIMIT, before_id, write=False)
        for record in page:
            if within(store, record, inside):
                found.append(answer(record))
                if len(found) == wanted.limit:
                    break
        scanned += len(page)
        if len(page) < MAX_LIMIT:
            break
        before_id = page[-1].id
    return found


def within(store: Any, record: AnomalyRecord, scope: Compiled) -> bool:
    """Whether the anomaly's lines are stored and all inside `scope` (compiled with prefix "s";
    see the module's doc)."""
    query = query_of(record.kind, record.key)
    search = compile_sql(parse(query)) if query else None
    start, end = lines_window(record)
    rows = store.select(*select_scope_split(record.account_id, start, end, search, scope))
    lines, inside = (int(rows[0]["lines"]), int(rows[0]["inside"])) if rows else (0, 0)
    return lines > 0 and inside == lines


def _listed(session: Any, wanted: Wanted, kinds: tuple[str, ...], limit: int, before_id: int | None) -> list[AnomalyRecord]:
    return list_anomalies(session, wanted.account_id, wanted.detected_from, wanted.detected_to, kinds, limit, before_id)
