"""Reference: how fast chDB alone inserts the lines into a minimal table with a text index.

Reads an Arrow IPC file with columns (account string, ts timestamp[ms], line string), creates
a fresh chDB data directory with the minimal table below and inserts the lines in batches with
`INSERT INTO t SELECT * FROM Python(batch)`. Only the inserts are timed (the Arrow data is
loaded before). Then reads the table's size, merges it (OPTIMIZE FINAL) and reads it again.
Prints one JSON object.

    python bench/raw_insert.py --arrow lines.arrow --dir /tmp/raw-chdb [--batch 100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from store_size import du, optimize, parts_summary

from timberyard.store.schema import INDEX_PREPROCESSOR

# The same full-text index as the store's log table (timberyard.store.schema), so the
# reference measures chDB doing the indexing work the node asks of it, and nothing else.
TABLE = f"""
CREATE TABLE t (
    account LowCardinality(String),
    ts DateTime64(3),
    line String,
    INDEX idx_line line TYPE text(
        tokenizer = splitByNonAlpha, preprocessor = {INDEX_PREPROCESSOR}, posting_list_codec = 'bitpacking'
    )
) ENGINE = MergeTree ORDER BY (account, ts)
"""


def run(arrow_path: Path, data_dir: Path, batch_size: int) -> dict:
    import chdb
    import pyarrow as pa
    from chdb import session

    with pa.memory_map(str(arrow_path)) as source:
        table = pa.ipc.open_file(source).read_all()
    table = table.combine_chunks()
    slices = [table.slice(offset, batch_size) for offset in range(0, table.num_rows, batch_size)]
    sess = session.Session(str(data_dir))
    try:
        sess.query("CREATE DATABASE IF NOT EXISTS bench")
        sess.query("USE bench")
        sess.query(TABLE)
        started = time.perf_counter()
        for batch in slices:  # noqa: B007 - chDB's Python() table function reads `batch` by name
            sess.query("INSERT INTO bench.t SELECT * FROM Python(batch)")
        seconds = time.perf_counter() - started
        count = int(str(sess.query("SELECT count() FROM bench.t", "CSV")).strip())
        before = parts_summary(sess)
        optimize_seconds = optimize(sess, before)
        after = parts_summary(sess)
    finally:
        sess.close()
    return {
        "chdb_version": chdb.__version__,
        "lines": table.num_rows,
        "stored": count,
        "batch": batch_size,
        "batches": len(slices),
        "seconds": seconds,
        "lines_per_s": table.num_rows / seconds if seconds else None,
        "before_optimize": before,
        "optimize_seconds": optimize_seconds,
        "after_optimize": after,
        "du_after": du(data_dir),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arrow", required=True, type=Path, help="Arrow IPC file: account, ts, line")
    parser.add_argument("--dir", required=True, type=Path, help="a new (or empty) chDB data directory")
    parser.add_argument("--batch", type=int, default=100_000, help="lines per INSERT (default 100000)")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.arrow, args.dir, args.batch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
