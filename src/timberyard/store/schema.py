"""The log table's schema as versioned migrations: the same SQL on chDB and on a ClickHouse server.

A new store runs every migration in order; a store written by an earlier release runs the ones
it lacks (`pending`), and `timberyard.migrations` records each version applied. So a fresh
table and an upgraded one are built by the same statements. A migration is never edited once
released: later changes are new migrations.

1 (first release). `ORDER BY (account, ts, id)` keeps each tenant's lines together and
  time-sorted, with the line id as tie-breaker so "the latest N lines" in the (ts, id) order the
  APIs page by is read in order from the end instead of sorted (25 ms instead of 800 ms for a
  term on 2M lines); daily partitions make expiry cheap; each row carries its account's
  retention at ingest time, which the TTL applies. The `text` index keeps the letters-only
  tokens of the lower-cased line: tokens with digits (numbers, ids) were two thirds of the index
  (1.1x the gzip size of the lines with them, 0.36x without) and are found by scanning or by
  `long_tokens`, a Bloom filter (0.1% false positives) over each granule's runs of 8+ letters and
  digits, which takes a UUID search on 10M lines from a scan to 48 ms for under 0.03x gzip.
  Codecs by measurement on bench/corpus.py: ZSTD(5) on text saves 5% over ZSTD(3) for little
  CPU; LowCardinality columns halve with ZSTD over LZ4.
2. Fields (sender meta and what the parsers read in a line) move from `meta`, JSON text read
  with JSONExtract at query time, to `fields`, ClickHouse's JSON type, which keeps each path as
  its own typed subcolumn. Measured on 1M bench/corpus.py lines with parsing on (30% JSON app
  logs, 30% nginx, 40% plain), fields only, after OPTIMIZE FINAL:
      JSON text (String, ZSTD(5))         25.2 MB  insert +1.6 us/line  `status = 599`: 178 ms
      typed maps (string, number)         26.3 MB  insert +7.4 us/line  101 / 206 ms
      JSON type (chosen)                  23.4 MB  insert +8.7 us/line  19-32 ms
  The JSON type reads one path instead of every line's text: 6-9x faster field searches. None
  is small: parsed values repeat what the line holds (request ids, paths and user agents alone
  are half of it), so parsing costs about 0.6x the gzip size of the lines in storage on this
  corpus: the whole table is 2.0x gzip (line 0.90x, its text index 0.36x, fields 0.63x).
  Measured and not (yet) taken: ZSTD(9) on line and fields saves 8% (1.85x) for about 4 us per
  line of insert CPU; sorting by (account, toStartOfHour(ts), app, ts, id) groups like lines
  (1.69x) but needs a table rebuild and costs the in-order read of "the latest N lines".
  Old rows keep `meta`; their `fields` come from it (its DEFAULT), computed on read.
  `ingester` (the source that received a line) and `format` (the parser that read it) are
  LowCardinality: a few bytes per granule.
3. `template`, the id of the line's log template (insights/miner.py), 0 for none and for every
  line stored before. A UInt64 with ZSTD: lines of an app repeat a few hundred ids, so it costs
  well under a byte a line; `template:ID` reads it alone.
4. `template_minutes`: lines per (account, app, template, minute, level, retention), kept by the
  store itself. A materialized view feeds it from every insert into the log table (lines with
  template 0 aside), so it can never disagree with what was stored, whoever inserted; the insert
  deduplication that makes a write-ahead-log replay a no-op covers it too (the view's blocks
  inherit the insert's token, and the table keeps a deduplication window like the log table).
  An AggregatingMergeTree sums `lines` and keeps the earliest `first` line time of each row as
  parts merge. The retention is in the key and the TTL is the log table's, so a minute's count
  expires the same day as its lines; daily partitions prune by time as the log table's do. A
  row per template per active minute (per level): "which templates are new since 14:05" and
  "which grew" read thousands of rows instead of millions of lines (insights/trends.py). The
  migration counts the lines already stored (one pass over four small columns); it runs before
  the node takes lines, and empties the table first, so running it again after a crash half way
  counts each line once.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.fields import FieldColumns
from timberyard.core.records import FIELDS, RECORD_SCHEMA

DATABASE = "timberyard"
LOG_TABLE = f"{DATABASE}.logs"
TEMPLATE_MINUTES_TABLE = f"{DATABASE}.template_minutes"
TEMPLATE_MINUTES_FEED = f"{DATABASE}.template_minutes_feed"
MIGRATIONS_TABLE = f"{DATABASE}.migrations"

# Insert deduplication keeps the tokens of this many recent blocks; a write-ahead-log replay
# after a crash re-sends at most a few batches, far fewer than this.
DEDUPLICATION_WINDOW = 10_000

# What the full-text index sees of a line (bench/raw_insert.py builds its reference table with
# it). Part of migration 1: changing it takes a new migration that rebuilds the index.
INDEX_PREPROCESSOR = "replaceRegexpAll(lower(line), '[0-9a-z]*[0-9][0-9a-z]*', ' ')"

# Memory the text index may use while building a part before it spills (default 1 GiB).
TEXT_INDEX_FLUSH_BYTES = 128 * 1024 * 1024

# How JSON text becomes the JSON type's values: strings stay strings (ClickHouse would otherwise
# turn "2025-01-01" into a Date and "2025-01-01 00:00:00" into a DateTime), as the query
# language reads them. Applied to every session that inserts or reads fields.
JSON_SETTINGS = {"input_format_try_infer_dates": 0, "input_format_try_infer_datetimes": 0}

CREATE_MIGRATIONS_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (version UInt32, applied DateTime DEFAULT now()) "
    "ENGINE = MergeTree ORDER BY version"
)

# What the per-minute template counts hold of the lines (migration 4's view and backfill).
_TEMPLATE_MINUTES = (
    "SELECT account, app, template, toStartOfMinute(ts) AS minute, level, retention_days, "
    f"count() AS lines, min(ts) AS first FROM {LOG_TABLE} WHERE template != 0 "
    "GROUP BY account, app, template, minute, level, retention_days"
)

MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (
        1,
        (
            f"CREATE DATABASE IF NOT EXISTS {DATABASE}",
            f"""
CREATE TABLE IF NOT EXISTS {LOG_TABLE}
(
    account LowCardinality(String),
    ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    id UInt64 CODEC(ZSTD(3)),
    received DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(toInt64(bitShiftRight(id, 20)), 'UTC'),
    host LowCardinality(String) CODEC(ZSTD(3)),
    app LowCardinality(String) CODEC(ZSTD(3)),
    level LowCardinality(String) CODEC(ZSTD(3)),
    env LowCardinality(String) CODEC(ZSTD(3)),
    file LowCardinality(String) CODEC(ZSTD(3)),
    ip LowCardinality(String) CODEC(ZSTD(3)),
    mac LowCardinality(String) CODEC(ZSTD(3)),
    tags Array(LowCardinality(String)) CODEC(ZSTD(3)),
    k8s_namespace LowCardinality(String) CODEC(ZSTD(3)),
    k8s_pod LowCardinality(String) CODEC(ZSTD(3)),
    k8s_container LowCardinality(String) CODEC(ZSTD(3)),
    k8s_node LowCardinality(String) CODEC(ZSTD(3)),
    line String CODEC(ZSTD(3)),
    meta String CODEC(ZSTD(5)),
    labels Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    annotations Map(LowCardinality(String), String) CODEC(ZSTD(3)),
    retention_days UInt16 CODEC(ZSTD(1)),
    INDEX line_text line TYPE text(
        tokenizer = splitByNonAlpha,
        preprocessor = {INDEX_PREPROCESSOR},
        posting_list_codec = 'bitpacking'
    ),
    INDEX long_tokens extractAll(lower(line), '[0-9a-z]{{8,}}') TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (account, ts, id)
TTL toDate(ts) + toIntervalDay(retention_days) DELETE
SETTINGS non_replicated_deduplication_window = {DEDUPLICATION_WINDOW},
    text_index_max_memory_usage_before_flush = {TEXT_INDEX_FLUSH_BYTES}
""",
        ),
    ),
    (
        2,
        (
            f"ALTER TABLE {LOG_TABLE} ADD COLUMN IF NOT EXISTS ingester LowCardinality(String) CODEC(ZSTD(3)) AFTER id",
            f"ALTER TABLE {LOG_TABLE} ADD COLUMN IF NOT EXISTS format LowCardinality(String) CODEC(ZSTD(3)) AFTER line",
            # Lines of the first release have their meta here; unreadable meta (a number too large
            # for a double, say) is kept as text under _unparsed rather than failing every read.
            f"""ALTER TABLE {LOG_TABLE} ADD COLUMN IF NOT EXISTS fields JSON DEFAULT
                if(isValidJSON(meta) AND startsWith(meta, '{{'), meta,
                   if(meta = '', '{{}}', concat('{{"_unparsed":', toJSONString(meta), '}}'))) CODEC(ZSTD(3)) AFTER format""",
        ),
    ),
    (
        3,
        (f"ALTER TABLE {LOG_TABLE} ADD COLUMN IF NOT EXISTS template UInt64 DEFAULT 0 CODEC(ZSTD(3)) AFTER format",),
    ),
    (
        4,
        (
            f"""
CREATE TABLE IF NOT EXISTS {TEMPLATE_MINUTES_TABLE}
(
    account LowCardinality(String),
    app LowCardinality(String),
    template UInt64 CODEC(ZSTD(3)),
    minute DateTime('UTC') CODEC(Delta, ZSTD(3)),
    level LowCardinality(String),
    retention_days UInt16,
    lines SimpleAggregateFunction(sum, UInt64) CODEC(ZSTD(3)),
    first SimpleAggregateFunction(min, DateTime64(3, 'UTC')) CODEC(ZSTD(3))
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (account, app, template, minute, level, retention_days)
TTL toDate(minute) + toIntervalDay(retention_days) DELETE
SETTINGS non_replicated_deduplication_window = {DEDUPLICATION_WINDOW}
""",
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {TEMPLATE_MINUTES_FEED} TO {TEMPLATE_MINUTES_TABLE} AS {_TEMPLATE_MINUTES}",
            f"TRUNCATE TABLE {TEMPLATE_MINUTES_TABLE}",
            f"INSERT INTO {TEMPLATE_MINUTES_TABLE} {_TEMPLATE_MINUTES}",
        ),
    ),
)
LATEST = MIGRATIONS[-1][0]

# The columns an insert writes, in the order of the Arrow tables the batcher builds.
INSERT_COLUMNS = [name for name in RECORD_SCHEMA.names if name != "stored"] + [FIELDS]


def pending(applied: int) -> list[tuple[int, tuple[str, ...]]]:
    """The migrations a store at version `applied` still needs, oldest first."""
    return [(version, statements) for version, statements in MIGRATIONS if version > applied]


def insert_rows(table: pa.Table) -> pa.Table:
    """A durable batch as the store inserts it: only the lines to store, fields as JSON text."""
    stored = table.column("stored")
    if not pc.all(stored).as_py():
        table = table.filter(stored)
    fields = FieldColumns.from_struct(table.column(FIELDS)).to_json()
    table = table.drop_columns(["stored", FIELDS]).append_column(FIELDS, fields)
    return table.select(INSERT_COLUMNS)


def insert_statement(source: str) -> str:
    return (
        f"INSERT INTO {LOG_TABLE} ({', '.join(INSERT_COLUMNS)}) "
        "SETTINGS insert_deduplicate = 1, insert_deduplication_token = {token:String} "
        f"SELECT {', '.join(INSERT_COLUMNS)} FROM {source}"
    )

