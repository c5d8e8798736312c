"""The durable feed: every batch that became durable in the write-ahead log, handed to the
consumers that subscribed to it (the store's batcher, live tail, and later alerts, archives
and insights).

The WAL's flusher thread publishes right after each group commit's fsync, so a subscriber's
callback must be quick and must not block: it queues the batches for its own thread or event
loop. A record is decoded once (zero-copy Arrow IPC) for all subscribers. At start-up the
records the store does not have yet are replayed to the subscribers that ask for replays (the
batcher does; live tail does not: those lines were not live). Records written by an earlier
release are brought to today's shape here, so no consumer needs to know old ones: records
from before template mining read as template 0.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.fields import FieldColumns, flatten
from timberyard.core.records import FIELDS, RECORD_SCHEMA, DurableBatch
from timberyard.parse.levels import detect_levels
from timberyard.store.wal import WalRecord

log = logging.getLogger(__name__)


Subscriber = Callable[[list[DurableBatch]], None]


class DurableFeed:
    def __init__(self) -> None:
        self._live: list[Subscriber] = []
        self._replays: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber, *, replays: bool = False) -> None:
        """Call `subscriber` with each durable batch from now on (and, with `replays`, with
        the records replayed at start-up)."""
        self._live.append(subscriber)
        if replays:
            self._replays.append(subscriber)

    def publish(self, records: list[WalRecord]) -> None:
        """From the WAL flusher, once `records` are on disk."""
        batches = [decode(record) for record in records]
        for subscriber in self._live:
            subscriber(batches)

    def replay(self, records: list[WalRecord]) -> None:
        batches = [decode(record) for record in records]
        for subscriber in self._replays:
            subscriber(batches)


def decode(record: WalRecord) -> DurableBatch:
    table = pa.ipc.open_stream(pa.py_buffer(record.payload)).read_all()
    if "meta" in table.column_names:
        table = _from_first_release(table)
    elif "template" not in table.column_names:
        table = _without_templates(table)
    return DurableBatch(record.seq, table)


def _without_templates(table: pa.Table) -> pa.Table:
    """A record written before lines carried a template id: template 0 (none) for each."""
    zeros = pa.repeat(pa.scalar(0, pa.uint64()), table.num_rows)
    return table.add_column(RECORD_SCHEMA.get_field_index("template"), "template", zeros)


def _from_first_release(table: pa.Table) -> pa.Table:
    """A record of the first release: `meta` JSON text instead of fields; no ingester, format
    or stored columns. Only records still in a log at an upgrade come this way."""
    rows = []
    for index, text in enumerate(table.column("meta").to_pylist()):
        if text:
            flat: dict[str, object] = {}
            try:
                flatten(orjson.loads(text), flat)
            except (orjson.JSONDecodeError, TypeError, AttributeError):
                flat = {"_unparsed": text}
            rows.append((index, flat))
    fields = FieldColumns.from_rows(table.num_rows, rows)
    defaults = {"ingester": "http", "format": "", "template": 0, "stored": True}
    columns = []
    for spec in RECORD_SCHEMA:
        if spec.name in table.column_names:
            columns.append(table.column(spec.name))
        else:
            columns.append(pa.repeat(pa.scalar(defaults[spec.name], spec.type), table.num_rows))
    # That release left levels it did not receive to the store's insert; the pipeline decides them now.
    level = RECORD_SCHEMA.get_field_index("level")
    given = columns[level].combine_chunks() if isinstance(columns[level], pa.ChunkedArray) else columns[level]
    detected = detect_levels(table.column("line").combine_chunks())
    columns[level] = pc.if_else(pc.equal(given, ""), detected, given)
    log.info("read a write-ahead-log record of the first release", extra={"lines": table.num_rows})
    return pa.Table.from_arrays([*columns, fields.to_struct()], names=[*RECORD_SCHEMA.names, FIELDS])
