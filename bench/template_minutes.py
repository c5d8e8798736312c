"""What the per-minute template counts (store migration 4) cost an insert.

Inserts the same lines, in batches as the batcher sends them, into two fresh embedded stores:
one with every migration (the reference is the same store without migration 4, that is
without the counting view), each in its own process (chDB opens one data directory per
process), alternating the two `--rounds` times so a busy machine weighs on both alike. Only
the inserts are timed. Lines are synthetic: `--templates` templates over 8 apps and one hour,
with a level each, the columns the view reads; the line text is short, so the view's share
is larger here than beside real lines with their text index. Prints one JSON object.

    python bench/template_minutes.py [--lines 1000000] [--batch 100000] [--templates 400] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_one(directory: str, with_counts: bool, lines: int, batch: int, templates: int) -> tuple[float, float]:
    """Insert seconds, wall and this process's CPU (chDB's threads included), for one store
    (run in a child process)."""
    import numpy as np
    import pyarrow as pa

    from timberyard.core.fields import FieldColumns
    from timberyard.core.records import FIELDS, RECORD_SCHEMA, TIMESTAMP
    from timberyard.store import schema
    from timberyard.store.chdb import ChdbStore

    if not with_counts:
        schema.MIGRATIONS = tuple(m for m in schema.MIGRATIONS if m[0] != 4)
    store = ChdbStore(Path(directory))
    store.create_schema()
    rng = np.random.default_rng(7)
    start_ms = 1_790_000_000_000  # kept 10 years (retention_days below): the TTL must not drop them at insert
    elapsed = cpu = 0.0
    for first in range(0, lines, batch):
        count = min(batch, lines - first)
        template = rng.zipf(1.3, count) % templates + 1
        values = {
            "account": ["bench"] * count,
            "ts": np.sort(rng.integers(start_ms, start_ms + 3_600_000, count)),
            "id": np.arange(first + 1, first + count + 1, dtype=np.uint64),
            "app": [f"app-{t % 8}" for t in template.tolist()],
            "level": [("INFO", "WARN", "ERROR", "DEBUG")[t % 4] for t in template.tolist()],
            "line": [f"line {n} of kind {t}" for n, t in zip(range(first, first + count), template.tolist(), strict=True)],
            "tags": [[] for _ in range(count)], "labels": [[] for _ in range(count)], "annotations": [[] for _ in range(count)],
            "retention_days": [3650] * count, "template": template.astype(np.uint64), "stored": [True] * count,
        }  # fmt: skip
        arrays = []
        for spec in RECORD_SCHEMA:
            given = values.get(spec.name, [""] * count)
            arrays.append(pa.array(given, pa.int64()).cast(TIMESTAMP) if spec.type == TIMESTAMP else pa.array(given, spec.type))
        found = FieldColumns.from_rows(count, [])
        table = schema.insert_rows(pa.Table.from_arrays([*arrays, found.to_struct()], names=[*RECORD_SCHEMA.names, FIELDS]))
        started, started_cpu = time.perf_counter(), time.process_time()
        store.insert(table, f"bench:{first}")
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
    store.close()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=100_000)
    parser.add_argument("--templates", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("DIR", "WITH_COUNTS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(*run_one(args.child[0], args.child[1] == "1", args.lines, args.batch, args.templates))
        return
    seconds: dict[str, list[float]] = {"with_counts": [], "without": []}
    cpu: dict[str, list[float]] = {"with_counts": [], "without": []}
    for _ in range(args.rounds):
        for name, flag in (("without", "0"), ("with_counts", "1")):
            with tempfile.TemporaryDirectory() as directory:
                child = [sys.executable, __file__, "--child", directory, flag, "--lines", str(args.lines),
                         "--batch", str(args.batch), "--templates", str(args.templates)]  # fmt: skip
                done = subprocess.run(child, capture_output=True, text=True, check=True, cwd=ROOT)
                wall, used = done.stdout.strip().splitlines()[-1].split()
                seconds[name].append(round(float(wall), 3))
                cpu[name].append(round(float(used), 3))
    result: dict[str, object] = {"lines": args.lines, "batch": args.batch, "templates": args.templates, "wall_s": seconds, "cpu_s": cpu}
    for label, figures in (("wall", seconds), ("cpu", cpu)):
        best = {name: min(values) for name, values in figures.items()}
        result[f"{label}_us_per_line"] = {name: round(value / args.lines * 1e6, 2) for name, value in best.items()}
        result[f"{label}_ratio_best"] = round(best["with_counts"] / best["without"], 3)
        result[f"{label}_ratio_median"] = round(statistics.median(figures["with_counts"]) / statistics.median(figures["without"]), 3)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
