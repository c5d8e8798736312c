"""How many bytes a chDB data directory spends on data and on indexes, before and after merging.

Opens the directory in this process (so nothing else may own it: stop the server first),
reads `system.parts` for every user table with active parts, runs `OPTIMIZE TABLE ... FINAL`
on each and reads them again. Prints one JSON object.

    python bench/store_size.py --store DATA_DIR/store [--no-optimize]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

PARTS_QUERY = """
SELECT database, table, count() AS parts, sum(rows) AS rows,
       sum(data_compressed_bytes) AS data_compressed_bytes,
       sum(data_uncompressed_bytes) AS data_uncompressed_bytes,
       sum(secondary_indices_compressed_bytes) AS index_compressed_bytes,
       sum(secondary_indices_uncompressed_bytes) AS index_uncompressed_bytes,
       sum(marks_bytes) AS marks_bytes,
       sum(primary_key_bytes_in_memory) AS primary_key_bytes,
       sum(bytes_on_disk) AS bytes_on_disk
FROM system.parts
WHERE active AND database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema')
GROUP BY database, table
ORDER BY database, table
"""


def parts_summary(sess) -> list[dict]:
    """Per table: parts, rows and byte counts of its active parts."""
    result = sess.query(PARTS_QUERY, "JSON")
    rows = json.loads(result.bytes() if hasattr(result, "bytes") else str(result))["data"]
    return [{k: (int(v) if k not in ("database", "table") else v) for k, v in row.items()} for row in rows]


def optimize(sess, tables: list[dict]) -> float:
    """Merge every listed table down to as few parts as possible; seconds taken."""
    started = time.perf_counter()
    for t in tables:
        sess.query(f"OPTIMIZE TABLE `{t['database']}`.`{t['table']}` FINAL")
    return time.perf_counter() - started


def du(path: Path) -> dict:
    """Allocated (like `du`) and apparent bytes of every file under `path`."""
    allocated = apparent = files = 0
    seen: set[tuple[int, int]] = set()
    for root, _dirs, names in os.walk(path):
        for name in names:
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            if (st.st_dev, st.st_ino) in seen:  # hard links (ClickHouse uses them) count once
                continue
            seen.add((st.st_dev, st.st_ino))
            allocated += st.st_blocks * 512
            apparent += st.st_size
            files += 1
    return {"allocated_bytes": allocated, "apparent_bytes": apparent, "files": files}


def measure(store: Path, run_optimize: bool = True) -> dict:
    from chdb import session

    report: dict = {"store": str(store), "du_before": du(store)}
    sess = session.Session(str(store))
    try:
        report["before_optimize"] = parts_summary(sess)
        if run_optimize:
            report["optimize_seconds"] = optimize(sess, report["before_optimize"])
            report["after_optimize"] = parts_summary(sess)
    finally:
        sess.close()
    if run_optimize:
        report["du_after"] = du(store)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, type=Path, help="chDB data directory")
    parser.add_argument("--no-optimize", action="store_true", help="only read the sizes as they are")
    args = parser.parse_args(argv)
    if not args.store.is_dir():
        print(f"error: no such store directory: {args.store}", file=sys.stderr)
        return 2
    print(json.dumps(measure(args.store, not args.no_optimize)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
