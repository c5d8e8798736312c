"""ClickHouse DDL for the log table: the same SQL on chDB and on a ClickHouse server.

`ORDER BY (account, ts)` keeps each tenant's lines together and time-sorted; daily partitions
make expiry cheap; each row carries its account's retention at ingest time, which the TTL
applies; the `text` index on the line answers term searches without scanning.
"""

from __future__ import annotations

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

# Memory the text index may use while building a part before it spills (default 1 GiB).
TEXT_INDEX_FLUSH_BYTES = 128 * 1024 * 1024

CREATE_DATABASE = f"CREATE DATABASE IF NOT EXISTS {DATABASE}"

CREATE_LOG_TABLE = f"""
CREATE TABLE IF NOT EXISTS {LOG_TABLE}
(
    account LowCardinality(String),
    ts DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    received DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    id UInt64 CODEC(Delta, ZSTD(1)),
    host LowCardinality(String),
    app LowCardinality(String),
    level LowCardinality(String),
    env LowCardinality(String),
    file LowCardinality(String),
    ip LowCardinality(String),
    mac LowCardinality(String),
    tags Array(LowCardinality(String)),
    k8s_namespace LowCardinality(String),
    k8s_pod LowCardinality(String),
    k8s_container LowCardinality(String),
    k8s_node LowCardinality(String),
    line String CODEC(ZSTD(3)),
    meta String CODEC(ZSTD(3)),
    labels Map(LowCardinality(String), String),
    annotations Map(LowCardinality(String), String),
    retention_days UInt16,
    INDEX line_text line TYPE text(
        tokenizer = splitByNonAlpha,
        preprocessor = {INDEX_PREPROCESSOR},
        posting_list_codec = 'bitpacking'
    )
)
ENGINE = MergeTree
PARTITION BY toDate(ts)
ORDER BY (account, ts)
TTL toDate(ts) + toIntervalDay(retention_days) DELETE
SETTINGS non_replicated_deduplication_window = {DEDUPLICATION_WINDOW},
    text_index_max_memory_usage_before_flush = {TEXT_INDEX_FLUSH_BYTES}
"""

INSERT_COLUMNS = (
    "account, ts, received, id, host, app, level, env, file, ip, mac, tags, "
    "k8s_namespace, k8s_pod, k8s_container, k8s_node, line, meta, labels, annotations, retention_days"
)


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
