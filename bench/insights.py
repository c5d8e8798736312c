"""Anomaly detectors: BGL's alert labels, injected incidents, false alarms on a normal day.

    .venv/bin/python bench/insights.py [--data DIR] [--day-lines 2000000] [--out bench/out]

(a) BGL_2k (`<DIR>/BGL/BGL_2k.log_structured_corrected.csv`; `Label` "-" is normal, anything
    else an alert): our miner mines `Content` in line order and the new-template detector
    (`rare_below` 1 and 3, no learning time) flags lines; precision, recall and F1 against the
    labels. Same-run references: every line at ERROR or worse by its `Level` column, and the
    first line of each ground-truth `EventId` at WARN or worse (a perfect miner's "new").
(b) Two days of `bench/corpus.py` traffic for one account (seed 2 then seed 1, `--day-lines`
    each), mined per app, levels detected where the source has none (as ingest does), replayed
    in time order through all the detectors in 10-second batches on a simulated clock. From a
    snapshot at 08:30 of day two, three incidents are injected at 10:00 and replayed to 11:30:
    a burst of a new ERROR message in payments-svc, inventory-api falling silent, and a ramp
    of ERROR lines in checkout-api (0 to its usual rate over three hours). Detection delay:
    the simulated time from the incident's start to the batch that reported it.
(c) Every anomaly reported on day two without injection is a false alarm (day one only
    learns), given per 10M lines.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent / "src"), str(BENCH)]

import corpus  # noqa: E402

from timberyard.insights import memory  # noqa: E402
from timberyard.insights.columns import ERROR_RANK, MINUTE_MS, WARN_RANK, lines  # noqa: E402
from timberyard.insights.detectors import Detectors  # noqa: E402
from timberyard.insights.miner import TemplateMiner  # noqa: E402
from timberyard.insights.novelty import NewTemplates, NoveltyLimits  # noqa: E402
from timberyard.insights.registry import Miners  # noqa: E402
from timberyard.parse.levels import detect_levels  # noqa: E402

ACCOUNT = "acme"
TICK_MS = 10_000
HOUR_MS = 3_600_000
TARGET_FALSE_PER_10M = 1.0
TARGET_DELAY_S = {"new error burst": 60, "silent service": 300, "slow error ramp": 0}
console = Console()


# ---------------------------------------------------------------------------------------------
# (a) BGL alert labels
# ---------------------------------------------------------------------------------------------


def scores(flags: np.ndarray, truth: np.ndarray) -> dict:
    hits = int((flags & truth).sum())
    precision = hits / max(int(flags.sum()), 1)
    recall = hits / max(int(truth.sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"flagged": int(flags.sum()), "precision": precision, "recall": recall, "f1": f1}


def bgl(data: Path) -> dict:
    with (data / "BGL" / "BGL_2k.log_structured_corrected.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    miner = TemplateMiner("bench/bgl")
    templates = [miner.add(row["Content"])[0] for row in rows]
    table = lines([ACCOUNT] * len(rows), ["bgl"] * len(rows), [row["Node"] for row in rows],
                  [row["Level"] for row in rows], templates, [int(row["Timestamp"]) * 1000 for row in rows])
    truth = np.array([row["Label"] != "-" for row in rows])
    severity = table.column("severity").to_numpy()
    first_event = np.zeros(len(rows), bool)
    seen: set[str] = set()
    for i, row in enumerate(rows):
        first_event[i] = row["EventId"] not in seen and severity[i] <= WARN_RANK
        seen.add(row["EventId"])
    result = {"lines": len(rows), "alerts": int(truth.sum())}
    for rare in (1, 3):
        flags = NewTemplates(NoveltyLimits(rare_below=rare, learn_minutes=0)).flags(table)
        result[f"ours rare_below={rare}"] = scores(flags, truth)
    result["reference: level ERROR or worse"] = scores(severity <= ERROR_RANK, truth)
    result["reference: first of each true EventId at WARN+"] = scores(first_event, truth)
    return result


# ---------------------------------------------------------------------------------------------
# (b, c) the corpus on a simulated clock
# ---------------------------------------------------------------------------------------------


class Stream:
    """Columns of mined lines in time order: app, host, level (pa arrays), template, time."""

    def __init__(self, app: pa.Array, host: pa.Array, level: pa.Array, template: np.ndarray, time_ms: np.ndarray):
        order = np.argsort(time_ms, kind="stable")
        self.app, self.host, self.level = app.take(order), host.take(order), level.take(order)
        self.template, self.time_ms = template[order], time_ms[order]

    def __len__(self) -> int:
        return len(self.time_ms)

    def where(self, keep: np.ndarray) -> Stream:
        mask = pa.array(keep)
        return Stream(self.app.filter(mask), self.host.filter(mask), self.level.filter(mask),
                      self.template[keep], self.time_ms[keep])

    def plus(self, other: Stream) -> Stream:
        return Stream(pa.concat_arrays([self.app, other.app]), pa.concat_arrays([self.host, other.host]),
                      pa.concat_arrays([self.level, other.level]),
                      np.concatenate([self.template, other.template]), np.concatenate([self.time_ms, other.time_ms]))


def mine(miners: Miners, items: list[dict]) -> Stream:
    """Template ids from `miners` and levels (detected in the line where the item has none)."""
    texts = pa.array([item["line"] for item in items], pa.string())
    given = pa.array([item.get("level", "") for item in items], pa.string())
    level = pc.if_else(pc.equal(given, ""), detect_levels(texts), given)
    template = np.array([miners.add(ACCOUNT, item["app"], item["line"])[0] for item in items], np.int64)
    return Stream(pa.array([i["app"] for i in items], pa.string()), pa.array([i["hostname"] for i in items], pa.string()),
                  level, template, np.array([i["timestamp"] for i in items], np.int64))


def day(miners: Miners, seed: int, count: int, end_ms: int) -> tuple[Stream, float]:
    """One day of corpus traffic, mined; and the miner's lines per second on it."""
    parts, mining = [], 0.0
    chunk: list[dict] = []
    for item in corpus.Corpus(seed, end_ms, corpus.DAY_MS).generate(count):
        chunk.append(item)
        if len(chunk) == 100_000:
            started = time.perf_counter()
            parts.append(mine(miners, chunk))
            mining += time.perf_counter() - started
            chunk = []
    if chunk:
        parts.append(mine(miners, chunk))
    stream = parts[0]
    for part in parts[1:]:
        stream = stream.plus(part)
    return stream, count / max(mining, 1e-9)


def replay(detectors: Detectors, stream: Stream, start_ms: int, end_ms: int,
           snapshot_at: int | None = None) -> tuple[list[tuple[int, object]], Detectors | None, float]:
    """Feed `stream`'s lines from `start_ms` to `end_ms` in TICK_MS batches, `now` at each
    batch's end; the anomalies with the time they were reported, a copy of the detectors as
    they were at `snapshot_at`, and the seconds spent in the detectors."""
    found, snapshot, spent = [], None, 0.0
    cuts = np.searchsorted(stream.time_ms, np.arange(start_ms, end_ms + TICK_MS, TICK_MS))
    for i in range(len(cuts) - 1):
        now = start_ms + (i + 1) * TICK_MS
        if snapshot_at is not None and now - TICK_MS == snapshot_at:
            snapshot = copy.deepcopy(detectors)
        a, b = int(cuts[i]), int(cuts[i + 1])
        started = time.perf_counter()
        table = lines(pa.array([ACCOUNT] * (b - a), pa.string()), stream.app.slice(a, b - a),
                      stream.host.slice(a, b - a), stream.level.slice(a, b - a), stream.template[a:b], stream.time_ms[a:b])
        found.extend((now, anomaly) for anomaly in detectors.observe(table, now))
        spent += time.perf_counter() - started
    return found, snapshot, spent


def injected(miners: Miners, app: str, host: str, message: str, times: np.ndarray) -> Stream:
    items = [{"line": message % n, "app": app, "hostname": host, "level": "ERROR", "timestamp": int(t)}
             for n, t in enumerate(times)]
    return mine(miners, items)


def scenarios(miners: Miners, stream: Stream, start: int) -> dict[str, tuple[Stream, str, str]]:
    """Each incident: the stream with it, the (kind, key) expected, from `start`."""
    rng = np.random.default_rng(1)
    burst = start + np.sort(rng.integers(0, 15 * MINUTE_MS, 2700))  # 3 lines/s for 15 minutes
    burst_lines = injected(miners, "payments-svc", "k8s-node-03", "payment provider rejected the TLS handshake: "
                           "certificate of gw-%d.example.com expired", burst)
    checkout = np.asarray(pc.equal(stream.app, "checkout-api"))
    before = (stream.time_ms >= start - HOUR_MS) & (stream.time_ms < start)
    usual = (checkout & before).sum() / 60  # checkout-api lines a minute in the hour before
    # Ramp: the rate of injected errors grows linearly from 0 to usual over three hours (the
    # replay stops after 90 minutes), so the error share crosses 25% after about an hour.
    minutes = np.arange(90)
    per_minute = rng.poisson(minutes / 180 * usual)
    ramp = np.concatenate([start + m * MINUTE_MS + np.sort(rng.integers(0, MINUTE_MS, n)) for m, n in zip(minutes, per_minute)])
    ramp_lines = injected(miners, "checkout-api", "k8s-node-05", "upstream payments-svc timed out (request %d)", ramp)
    silent = np.asarray(pc.equal(stream.app, "inventory-api")) & (stream.time_ms >= start)
    return {
        "new error burst": (stream.plus(burst_lines), "new_template", "app=payments-svc"),
        "silent service": (stream.where(~silent), "silence", "app=inventory-api"),
        "slow error ramp": (stream.plus(ramp_lines), "error_trend", "app=checkout-api"),
    }


def crossing(stream: Stream, app: str, start: int, threshold: float) -> int | None:
    """The first minute from `start` at which `app`'s share of ERROR-or-worse lines reaches
    `threshold`, as epoch ms (the moment a plain threshold alert could fire)."""
    keep = np.asarray(pc.equal(stream.app, app)) & (stream.time_ms >= start)
    table = lines([ACCOUNT] * int(keep.sum()), stream.app.filter(pa.array(keep)), stream.host.filter(pa.array(keep)),
                  stream.level.filter(pa.array(keep)), stream.template[keep], stream.time_ms[keep])
    minute = table.column("minute").to_numpy()
    bad = table.column("severity").to_numpy() <= ERROR_RANK
    totals, errors = np.bincount(minute - minute.min()), np.bincount(minute - minute.min(), weights=bad)
    over = np.nonzero((totals > 0) & (errors >= threshold * totals))[0]
    return int((minute.min() + over[0] + 1) * MINUTE_MS) if len(over) else None


def saved_size(detectors: Detectors, now_ms: int) -> dict:
    """What the detectors' file (insights/memory.py) weighs after the two days, and what taking
    and loading it costs."""
    started = time.perf_counter()
    payload = memory.encode(detectors.state(), now_ms, None)
    taken = time.perf_counter() - started
    started = time.perf_counter()
    Detectors().load(msgspec.msgpack.decode(payload)["detectors"], now_ms, now_ms)
    return {"snapshot_bytes": len(payload), "snapshot_save_s": taken, "snapshot_load_s": time.perf_counter() - started}


def corpus_runs(args: argparse.Namespace) -> dict:
    end_b = corpus.DEFAULT_END_MS
    day_b_start = end_b - corpus.DAY_MS
    miners = Miners()
    with console.status("generating and mining two days of corpus traffic"):
        day_a, rate_a = day(miners, 2, args.day_lines, day_b_start)
        day_b, rate_b = day(miners, 1, args.day_lines, end_b)
    detectors = Detectors()
    with console.status("day one: learning"):
        replay(detectors, day_a, day_b_start - corpus.DAY_MS, day_b_start)
    snapshot_at, start = day_b_start + 8 * HOUR_MS + HOUR_MS // 2, day_b_start + 10 * HOUR_MS
    with console.status("day two: counting false alarms"):
        alarms, snapshot, spent = replay(detectors, day_b, day_b_start, end_b, snapshot_at)
    result = {
        "day_lines": args.day_lines, "miner_lines_per_s": (rate_a + rate_b) / 2,
        "detector_lines_per_s": len(day_b) / spent, "false_alarms": len(alarms),
        "false_alarms_per_10M": len(alarms) / len(day_b) * 1e7,
        "false_alarms_by_kind": dict(Counter(a.kind for _, a in alarms)),
        "false_alarm_examples": [f"{a.kind} {a.key}: {a.evidence}" for _, a in alarms[:10]],
        **saved_size(detectors, end_b),
        "scenarios": {},
    }
    threshold = snapshot.each[-1].limits.threshold
    for name, (stream, kind, key) in scenarios(miners, day_b, start).items():
        with console.status(f"incident: {name}"):
            found, _, _ = replay(copy.deepcopy(snapshot), stream, snapshot_at, start + 90 * MINUTE_MS)
        after = [(now, a) for now, a in found if now > start]
        hit = next(((now, a) for now, a in after if a.kind == kind and a.key.startswith(key)), None)
        first = hit[1] if hit else None
        row = {"expected": f"{kind} {key}", "delay_s": (hit[0] - start) / 1000 if hit else None,
               "evidence": first.evidence if first else None,
               "also_reported": sorted({f"{a.kind} {a.key}" for _, a in after if a is not first})}
        if name == "slow error ramp":
            crossed = crossing(stream, "checkout-api", start, threshold)
            row["crossed_threshold_after_s"] = (crossed - start) / 1000 if crossed else None
            row["lead_s"] = (crossed - hit[0]) / 1000 if crossed and hit else None
        result["scenarios"][name] = row
    return result


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "[green]PASS[/green]" if ok else "[red]FAIL[/red]"


def show(report: dict) -> None:
    table = Table(title="BGL_2k: flags against alert labels (lines)")
    for column in ("flagger", "flagged", "precision", "recall", "F1"):
        table.add_column(column, justify="left" if column == "flagger" else "right")
    for name, s in report["bgl"].items():
        if isinstance(s, dict):
            table.add_row(name, str(s["flagged"]), f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}")
    console.print(table)
    runs = report["corpus"]
    table = Table(title=f"corpus: one account, {runs['day_lines']:,} lines a day, a learning day then a counted day")
    for column, justify in (("figure", "left"), ("value", "right"), ("target", "right"), ("", "center")):
        table.add_column(column, justify=justify)
    for name, row in runs["scenarios"].items():
        delay, target = row["delay_s"], TARGET_DELAY_S[name]
        if name == "slow error ramp":
            lead = row["lead_s"]
            table.add_row(f"{name}: {row['expected']} before the ratio crosses", "missed" if lead is None else f"{lead:.0f} s ahead",
                          "ahead", verdict(lead is not None and lead > target))
        else:
            table.add_row(f"{name}: {row['expected']} delay", "missed" if delay is None else f"{delay:.0f} s",
                          f"<= {target} s", verdict(delay is not None and delay <= target))
    rate = runs["false_alarms_per_10M"]
    table.add_row(f"false alarms on the counted day ({runs['false_alarms']} in {runs['day_lines']:,} lines)",
                  f"{rate:.1f} / 10M", f"<= {TARGET_FALSE_PER_10M:g} / 10M", verdict(rate <= TARGET_FALSE_PER_10M))
    table.add_row("detectors, all five (lines/s, one core)", f"{runs['detector_lines_per_s']:,.0f}", "", "")
    table.add_row("reference: mining and level detection of the same lines (lines/s)", f"{runs['miner_lines_per_s']:,.0f}", "", "")
    table.add_row("the detectors' saved state after the two days (insights/detectors.msgpack)",
                  f"{runs['snapshot_bytes'] / 1024:,.0f} KiB, {runs['snapshot_save_s']:.2f} s to take, "
                  f"{runs['snapshot_load_s']:.2f} s to load", "", "")
    console.print(table)
    for name, row in runs["scenarios"].items():
        console.print(f"{name}: {row['evidence']}; also reported: {', '.join(row['also_reported']) or 'nothing'}")
    for example in runs["false_alarm_examples"]:
        console.print(f"false alarm: {example}")
    console.print(f"on {os.cpu_count()} cores shared with other work: the rates are contended")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Anomaly detector benchmark (see the module docstring).")
    p.add_argument("--data", type=Path, default=corpus.shared_data_dir(), help="the loghub-2k folder")
    p.add_argument("--day-lines", type=int, default=2_000_000, help="corpus lines per simulated day (default 2000000)")
    p.add_argument("--out", type=Path, default=BENCH / "out", help="where the JSON report goes (default bench/out)")
    args = p.parse_args(argv)
    if not (args.data / "BGL" / "BGL_2k.log_structured_corrected.csv").is_file():
        print(f"error: no BGL_2k sample under {args.data} (pass --data DIR)", file=sys.stderr)
        return 2
    started = time.gmtime()
    report = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", started), "bgl": bgl(args.data),
              "corpus": corpus_runs(args)}
    show(report)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"insights-{time.strftime('%Y%m%dT%H%M%SZ', started)}.json"
    path.write_text(json.dumps(report, indent=2))
    console.print(f"figures written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
