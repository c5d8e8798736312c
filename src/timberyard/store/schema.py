"""ClickHouse DDL for the log table: the same SQL on chDB and on a ClickHouse server.

`ORDER BY (account, ts, id)` keeps each tenant's lines together and time-sorted, with the
line id as tie-breaker so "the latest N lines" in the (ts, id) order the APIs page by is read in
order from the end instead of sorted (25 ms instead of 800 ms for a term on 2M lines); daily partitions
make expiry cheap; each row carries its account's retention at ingest time, which the TTL
applies; the `text` index on the line answers term searches without scanning. Codecs were chosen
by measurement on bench/corpus.py (ZSTD(5) on text saves 5% over ZSTD(3) for little CPU at our
rates; LowCardinality columns halve with ZSTD over the default LZ4).
"""

from __future__ import annotations

from timberyard.core.records import ID_COUNTER_BITS, LOG_SCHEMA
from timberyard.search.to_sql import LONG_TOKENS
from timberyard.parse.levels import CANONICAL, LEVEL_PATTERN, SCAN_CHARS

DATABASE = "timberyard"
LOG_TABLE = f"{DATABASE}.logs"

# Insert deduplication keeps the tokens of this many recent blocks; a write-ahead-log replay
# after a crash re-sends at most a few batches, far fewer than this.
DEDUPLICATION_WINDOW = 10_000

# What the full-text index sees of a line: lower-cased (searches are case-insensitive), with
# only the tokens made of letters alone. Tokens with digits (numbers, timestamps, IP octets,
# hex and other ids) are nearly all unique; they made up two thirds of the index: 1.1x the gzip
# size of the lines with them, 0.36x without (bench/corpus.py, 600k lines). Searches for them are
# still answered exactly, by scanning the time range instead of reading the index.
INDEX_PREPROCESSOR = "replaceRegexpAll(lower(line), '[0-9a-z]*[0-9][0-9a-z]*', ' ')"

# The text index leaves out tokens with digits, so ids (UUIDs, trace and request ids, hashes)
# would be found only by scanning. A Bloom filter per granule (8192 lines) over the line's long
# tokens (8+ letters and digits, lower-cased; short ones, the bulk of the distinct tokens, are
# left out) lets a search for one read only the granules that may hold it. At a 0.1% false
# positive rate a UUID search on 10M bench/corpus.py lines reads a handful of the 1,300
# granules (48 ms through the API; 1% read 14 and took 56-70 ms), for 10 MB of index, under
# 0.03x the gzip size of the text. search/to_sql.py owns the expression and writes
# `has(LONG_TOKENS, token)` with it, which is how ClickHouse matches a query to the index.
LONG_TOKENS_FALSE_POSITIVES = 0.001

# Memory the text index may use while building a part before it spills (default 1 GiB).
TEXT_INDEX_FLUSH_BYTES = 128 * 1024 * 1024

CREATE_DATABASE = f"CREATE DATABASE IF NOT EXISTS {DATABASE}"

CREATE_LOG_TABLE = f"""
CREATE TABLE IF NOT EXISTS {LOG_TABLE}
(
    account LowCardinality(String),
    ts DateTime64(3, 'UTC') CODEC(Delta, ZSTD(3)),
    id UInt64 CODEC(ZSTD(3)),
    received DateTime64(3, 'UTC') ALIAS fromUnixTimestamp64Milli(toInt64(bitShiftRight(id, {ID_COUNTER_BITS})), 'UTC'),
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
    INDEX long_tokens {LONG_TOKENS} TYPE bloom_filter({LONG_TOKENS_FALSE_POSITIVES}) GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (account, ts, id)
TTL toDate(ts) + toIntervalDay(retention_days) DELETE
SETTINGS non_replicated_deduplication_window = {DEDUPLICATION_WINDOW},
    text_index_max_memory_usage_before_flush = {TEXT_INDEX_FLUSH_BYTES}
"""

# Insert in the order of the Arrow batches ingest builds, which is the one definition of a row.
INSERT_COLUMNS = ", ".join(LOG_SCHEMA.names)


def insert_select(source: str) -> str:
    """`INSERT ... SELECT` from an Arrow source, detecting the level of lines sent without one.

    The detection runs here, vectorised, rather than per line in Python; it is the same rule as
    parse.levels.detect_level: the first SCAN_CHARS characters, and a word cut by the end of
    that window does not count (the next character decides, standing in as "x" or " ").
    """
    aliases = list(CANONICAL)
    canonical = [CANONICAL[a] for a in aliases]
    window = (
        f"concat(substringUTF8(line, 1, {SCAN_CHARS}), "
        f"multiIf(lengthUTF8(line) <= {SCAN_CHARS}, '', "
        f"match(substringUTF8(line, {SCAN_CHARS + 1}, 1), '^[\\\\w-]'), 'x', ' '))"
    )
    detected = (
        f"transform(upper(extract({window}, {_quote(LEVEL_PATTERN)})), {_array(aliases)}, {_array(canonical)}, '')"
    )
    select = INSERT_COLUMNS.replace("level,", f"if(level != '', level, {detected}) AS level,")
    return f"SELECT {select} FROM {source}"


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _array(items: list[str]) -> str:
    return "[" + ", ".join(_quote(item) for item in items) + "]"
