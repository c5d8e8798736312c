"""Restoring an archived time range into the store, through the one ingest pipeline.

Each archived line of the range becomes a line of source `archive-restore` (searchable as
`_ingester:archive-restore`) with its original time (`import_times`), fields and labels, and
its original line id in the annotation `timberyard.archive_lid`. That id is how a restore
stays idempotent without any record of its own: before a file's lines are sent, the store is
asked which original ids of that hour it holds, either as the original line (not expired yet)
or as an earlier restore's copy, and those lines are skipped. So restoring a range twice adds
nothing, and after the restored copies expire the range can be restored again. Restores of
one account run one at a time, and a restore ends only once the store holds what it sent,
so the next one sees it.

Retention: the store keeps a line `retention_days` after its own time, restored or not, so a
range that starts before the account's retention is refused (its lines would expire at once);
raise the retention first. Files are read one at a time, in worker threads; the event loop
only awaits the pipeline.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from timberyard.archive import parquet
from timberyard.archive.layout import HOUR_MS, parse_data_key
from timberyard.archive.staging import ArchiveReadError, Places, staged
from timberyard.core.clock import now_ms
from timberyard.core.errors import BadRequest, Conflict
from timberyard.core.fields import flatten
from timberyard.ingest.batch import LineBatch, line_batch
from timberyard.ingest.ids import received_ms
from timberyard.meta.archives import ArchiveRecord, FileRecord
from timberyard.store.base import Store
from timberyard.store.queries import range_where
from timberyard.store.schema import LOG_TABLE

if TYPE_CHECKING:
    from timberyard.ingest.pipeline import Pipeline
    from timberyard.store.batcher import Batcher

INGESTER = "archive-restore"
ORIGIN = "timberyard.archive_lid"  # annotation: the line id the restored line had when archived
BATCH_LINES = 5_000
DAY_MS = 86_400_000
STORE_WAIT_S = 120.0
_running: set[str] = set()  # accounts with a restore in progress (a node is one process)


def check_range(from_ms: int, to_ms: int, retention_days: int, now: int | None = None) -> None:
    """Refuse a range whose lines would be past the account's retention on arrival."""
    oldest = (now or now_ms()) - retention_days * DAY_MS
    if from_ms < oldest:
        raise BadRequest(
            f"from is older than this account's {retention_days}-day retention: restored lines keep their own time "
            f"and would expire at once; restore from {oldest} (epoch ms) on, or raise the retention first"
        )


async def restore(
    pipeline: Pipeline, store: Store, batcher: Batcher, record: ArchiveRecord, files: list[FileRecord],
    places: Places, from_ms: int, to_ms: int,
) -> AsyncIterator[dict[str, Any]]:
    """Restore `files`' lines in [from_ms, to_ms]; yields one progress event per file, then the totals."""
    account = record.account_id
    if account in _running:
        raise Conflict("a restore is already running for this account; wait for it to finish")
    _running.add(account)
    try:
        totals = {"files": len(files), "restored": 0, "duplicates": 0, "expired": 0}
        yield {"event": "start", "files": len(files), "lines": sum(f.lines for f in files)}
        for file in files:
            counts = await _restore_file(pipeline, store, record, file, places, from_ms, to_ms)
            for name, count in counts.items():
                totals[name] += count
            yield {"event": "file", "key": file.key, "lines": file.lines, **counts}
        in_store = await _stored(batcher, now_ms())
        yield {"event": "done", **totals, "in_store": in_store}
    finally:
        _running.discard(account)


async def _restore_file(
    pipeline: Pipeline, store: Store, record: ArchiveRecord, file: FileRecord, places: Places, from_ms: int, to_ms: int
) -> dict[str, int]:
    """Send one file's lines of the range that the store lacks, BATCH_LINES at a time (read in a
    worker thread; only one batch is in memory)."""
    low, high = max(from_ms, file.hour_ms), min(to_ms, file.hour_ms + HOUR_MS - 1)
    counts = {"restored": 0, "duplicates": 0, "expired": 0}
    with ExitStack() as stack:
        present = await asyncio.to_thread(_present_ids, store, record.account_id, low, high)
        staging = await asyncio.to_thread(stack.enter_context, staged(record, [file], places))
        path, parsed = staging.files[0][1], parse_data_key(file.key)
        lines = parquet.read_lines(path, file.key, BATCH_LINES) if parsed and parsed.format == "parquet" else _read(path, file.key)
        while True:
            fresh, duplicates = await asyncio.to_thread(_next_lines, lines, present, low, high)
            counts["duplicates"] += duplicates
            if not fresh:
                return counts
            accepted = await pipeline.accept(_batch(record.account_id, fresh), wait=True)
            counts["restored"] += accepted.stored
            counts["expired"] += accepted.problems.counts.get("expired_lines", 0)


def _next_lines(lines: Iterator[dict[str, Any]], present: set[int], low: int, high: int) -> tuple[list[dict[str, Any]], int]:
    """Up to BATCH_LINES more lines with a time in [low, high] whose original id the store
    lacks, and how many it had; no lines when the file is done."""
    fresh, duplicates = [], 0
    for line in lines:
        ts = line.get("_ts")
        if type(ts) is not int or not low <= ts <= high:
            continue
        if _lid(line) in present:
            duplicates += 1
            continue
        fresh.append(line)
        if len(fresh) == BATCH_LINES:
            break
    return fresh, duplicates


def _present_ids(store: Store, account: str, from_ms: int, to_ms: int) -> set[int]:
    """Original ids of the range's lines the store holds: live lines, and restored copies."""
    where, params = range_where(account, from_ms, to_ms)
    params.update({"ingester": INGESTER, "origin": ORIGIN})
    sql = (
        f"SELECT if(ingester = {{ingester:String}}, toUInt64OrZero(annotations[{{origin:String}}]), id) AS original "
        f"FROM {LOG_TABLE} WHERE {' AND '.join(where)}"
    )
    return {int(row["original"]) for row in store.select(sql, params)}


def _read(path: Path, key: str) -> Iterator[dict[str, Any]]:
    """The JSON objects of a staged JSON lines file; anything else in it is an ArchiveReadError."""
    try:
        with gzip.open(path, "rb") as lines:
            for number, raw in enumerate(lines, 1):
                if raw.strip():
                    line = orjson.loads(raw)
                    if not isinstance(line, dict):
                        raise ArchiveReadError(f"archived file {key}: line {number} is not a JSON object")
                    yield line
    except (OSError, EOFError, orjson.JSONDecodeError) as exc:
        raise ArchiveReadError(f"archived file {key} is unreadable: {exc}") from None


def _lid(line: dict[str, Any]) -> int:
    try:
        return int(line.get("_lid", 0))
    except (TypeError, ValueError):
        return 0


def _batch(account: str, lines: list[dict[str, Any]]) -> LineBatch:
    """Archived lines (the `/v1/export` shape) as a batch of the restore source."""
    meta = []
    for line in lines:
        fields: dict[str, Any] = {}
        if isinstance(line.get("_meta"), dict):
            flatten(line["_meta"], fields)
        meta.append(fields or None)
    return line_batch(
        account, INGESTER, [str(line.get("_line", "")) for line in lines], meta=meta, import_times=True,
        ts=[line["_ts"] for line in lines],
        host=[str(line.get("_host", "")) for line in lines], app=[str(line.get("_app", "")) for line in lines],
        level=[str(line.get("level", "")) for line in lines], env=[str(line.get("_env", "")) for line in lines],
        file=[str(line.get("_file", "")) for line in lines], ip=[str(line.get("_ip", "")) for line in lines],
        mac=[str(line.get("_mac", "")) for line in lines], tags=[list(line.get("_tag") or []) for line in lines],
        labels=[list((line.get("_label") or {}).items()) for line in lines],
        annotations=[[*(line.get("_annotation") or {}).items(), (ORIGIN, str(_lid(line)))] for line in lines],
    )


async def _stored(batcher: Batcher, sent_ms: int) -> bool:
    """Wait until the store holds every line accepted before `sent_ms`; False when it still
    does not after STORE_WAIT_S (a store that is down: the lines are safe in the write-ahead
    log, but a restore started before they reach the store may send them again)."""
    deadline = asyncio.get_running_loop().time() + STORE_WAIT_S
    while (oldest := batcher.oldest_pending_id()) is not None and received_ms(oldest) <= sent_ms:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True
