"""The alert engine alone, in-process: corpus lines through the real ingest stages into durable
batches, then through `AlertEngine` with bench/alerts.py's 1,000 alerts (or none), coalesced
as its inbox coalesces them. No server, no store, no HTTP: the engine's own cost.

    PYTHONPATH=src .venv/bin/python bench/alert_engine.py                      # 200,000 lines, best of 3
    PYTHONPATH=src .venv/bin/python bench/alert_engine.py --take 1000          # one request's lines per take
    PYTHONPATH=src .venv/bin/python bench/alert_engine.py --profile            # and the top of a cProfile

Prints lines/s through the engine with 1,000 alerts and, in the same run, with none (the cost
of splitting by account and counting the index-rate baselines), and the CPU of the pipeline's
decode and stages for the same lines as the reference: the engine's cost as a share of it.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import corpus  # noqa: E402
import pyarrow as pa  # noqa: E402
from alerts import COST_QUERIES  # noqa: E402

from timberyard.alerts.definition import parse_definition  # noqa: E402
from timberyard.alerts.engine import AlertEngine  # noqa: E402
from timberyard.core.inbox import COALESCE_LINES  # noqa: E402
from timberyard.core.records import ID_COUNTER_BITS, DurableBatch  # noqa: E402
from timberyard.ingest.field_types import FieldTypes  # noqa: E402
from timberyard.ingest.logdna import Request, decode  # noqa: E402
from timberyard.ingest.rules.compiled import NO_RULES  # noqa: E402
from timberyard.ingest.stages import Context, process  # noqa: E402
from timberyard.meta import alerts as repo  # noqa: E402
from timberyard.meta.database import MetaDB  # noqa: E402


def durable_batches(meta: MetaDB, account: str, lines: int, seed: int, now_ms: int) -> tuple[list[DurableBatch], float]:
    """The corpus as the pipeline makes it, one durable batch per 1,000-line request, and the
    CPU seconds the pipeline's decode and stages took for them (the same-run reference)."""
    field_types = FieldTypes(meta, max_paths=1000).for_account(account)
    out, spent = [], 0.0
    for seq, items in enumerate(corpus.per_host(corpus.generate(lines, seed, now_ms, 3_600_000), 1000), start=1):
        host, body = corpus.ingest_body(items)
        first_id = (now_ms << ID_COUNTER_BITS) + seq * 1000
        context = Context(now_ms, first_id, 30, 32 * 1024, 0, NO_RULES, field_types)
        started = time.process_time()
        record = process(decode(body, Request(account, host)), context)
        spent += time.process_time() - started
        out.append(DurableBatch(seq, pa.Table.from_batches([record])))
    return out, spent


def add_alerts(meta: MetaDB, account: str, alerts: int, now: datetime) -> None:
    for i in range(alerts):
        definition = parse_definition({
            "name": f"cost-{i}", "kind": "presence", "query": COST_QUERIES[i % len(COST_QUERIES)] + f" -zz{i}",
            "threshold": 1, "interval": "5m", "timing": ["end_of_interval"], "channel_ids": [1], "cooldown_s": 0,
        })
        meta.transact(repo.insert_alert, account, definition.kind, definition.name, None, definition.to_dict(), None,
                      "bench@example.com", now, write=True)


def fresh_engine(meta: MetaDB, now: datetime) -> AlertEngine:
    """An engine as a node starts it: every alert's window still empty (so it makes samples)."""
    engine = AlertEngine(meta, lambda notification, channels: None, now=lambda: now)
    engine.load()
    return engine


def coalesced(batches: list[DurableBatch], lines: int) -> list[list[DurableBatch]]:
    """What the inbox hands the engine: runs of batches of `lines` lines (COALESCE_LINES when
    the engine is behind, one request's when it keeps up)."""
    runs, run, size = [], [], 0
    for batch in batches:
        run.append(batch)
        size += batch.lines
        if size >= lines:
            runs.append(run)
            run, size = [], 0
    return runs + ([run] if run else [])


def through(engine: AlertEngine, runs: list[list[DurableBatch]]) -> float:
    """Seconds of CPU for the engine to count every run (as `_work` does, without the clock)."""
    started = time.process_time()
    for run in runs:
        engine.process(engine._coalesced(run))
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--take", type=int, default=COALESCE_LINES,
                        help=f"lines the engine takes at once (default {COALESCE_LINES:,}, the inbox's most; 1000: one request)")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of one pass")
    args = parser.parse_args(argv)
    now = datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        meta = MetaDB.open(f"sqlite:///{tmp}/meta.sqlite3")
        account = meta.create_account("bench").id
        batches, stages = durable_batches(meta, account, args.lines, args.seed, now_ms)
        runs = coalesced(batches, args.take)
        without = MetaDB.open(f"sqlite:///{tmp}/without.sqlite3")  # the same node with no alerts
        add_alerts(meta, account, args.alerts, now)
        figures: dict[str, list[float]] = {"none": [], "alerts": []}
        for _ in range(args.repeat):  # alternated, so a busy machine hurts both alike
            figures["none"].append(through(fresh_engine(without, now), runs))
            figures["alerts"].append(through(fresh_engine(meta, now), runs))
        if args.profile:
            engine = fresh_engine(meta, now)
            profile = cProfile.Profile()
            profile.enable()
            through(engine, runs)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
            pstats.Stats(profile).sort_stats("tottime").print_stats(20)
        meta.close()
        without.close()
    lines = sum(batch.lines for batch in batches)
    print(f"{len(runs)} takes of about {lines // len(runs):,} lines")
    print(f"{'pipeline decode + stages':24} {lines / stages:>12,.0f} lines/s  (CPU {stages:.2f} s, once: the same-run reference)")
    for label, name in (("none", "no alerts (reference)"), ("alerts", f"{args.alerts:,} alerts")):
        best = min(figures[label])
        print(f"{name:24} {lines / best:>12,.0f} lines/s  (CPU {best:.2f} s for {lines:,} lines, best of {args.repeat};"
              f" all: {', '.join(f'{s:.2f}' for s in figures[label])}; {best / stages:.0%} of the stages' CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
