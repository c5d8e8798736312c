"""Template mining accuracy and speed on Loghub-2k, with drain3 as the same-run reference.

    .venv/bin/python bench/templates.py [--data DIR] [--repeat 5]

For each of the eight samples (`<DIR>/<DS>/<DS>_2k.log_structured_corrected.csv`), our miner
and drain3 (defaults: depth 4, similarity 0.4, 100 children, no masking) each see the
`Content` column in file order, one fresh miner per sample. Every line's group is the final
template of the cluster it was put in. Loghub's measures:

- grouping accuracy (GA): a line is right iff the lines of its predicted group are exactly the
  lines of its ground-truth group (`EventTemplate`);
- parsing accuracy (PA): a line is right iff its predicted template equals its ground-truth
  template after `normalise` on both sides: whitespace runs become one space, ends are
  stripped, and `<*>` slots directly next to each other (`<*><*>`) become one.

Throughput: the eight samples' lines concatenated, fed to a fresh miner `--repeat` times; the
best run counts (the machine is shared; the best run is the least disturbed). drain3 is timed
the same way as the reference. One process, one core.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from timberyard.insights.miner import TemplateMiner  # noqa: E402

DATASETS = ("HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "HPC", "Apache", "OpenSSH")
TARGET_GA, TARGET_PA, TARGET_RATE = 0.95, 0.70, 50_000
_SPACE = re.compile(r"\s+")


def normalise(template: str) -> str:
    """The form in which predicted and ground-truth templates are compared (module docstring)."""
    text = _SPACE.sub(" ", template).strip()
    while "<*><*>" in text:
        text = text.replace("<*><*>", "<*>")
    return text


def load(data: Path, dataset: str) -> tuple[list[str], list[str]]:
    """The Content column and the ground-truth templates of one sample."""
    path = data / dataset / f"{dataset}_2k.log_structured_corrected.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["Content"] for row in rows], [row["EventTemplate"] for row in rows]


def grouping_accuracy(predicted: list, truth: list) -> float:
    """Loghub's GA: the share of lines whose predicted group is exactly their true group."""
    truth_sizes = Counter(truth)
    members: dict = {}
    for i, group in enumerate(predicted):
        members.setdefault(group, []).append(i)
    right = 0
    for lines in members.values():
        truths = {truth[i] for i in lines}
        if len(truths) == 1 and truth_sizes[truths.pop()] == len(lines):
            right += len(lines)
    return right / len(truth)


def parsing_accuracy(templates: list[str], truth: list[str]) -> float:
    """The share of lines whose normalised predicted template is the normalised true one."""
    return sum(normalise(p) == normalise(t) for p, t in zip(templates, truth)) / len(truth)


def ours(lines: list[str]) -> tuple[list[int], list[str]]:
    """Each line's final template id and text from a fresh miner."""
    miner = TemplateMiner("bench")
    ids = [miner.add(line)[0] for line in lines]
    final = {ident: miner.template(ident) for ident in set(ids)}
    return [final[i].id for i in ids], [final[i].text for i in ids]


def drain3_miner():
    from drain3 import TemplateMiner as Drain3
    from drain3.template_miner_config import TemplateMinerConfig

    return Drain3(config=TemplateMinerConfig())


def drain3(lines: list[str]) -> tuple[list[int], list[str]]:
    """Each line's final cluster id and template from a fresh drain3 with its defaults."""
    miner = drain3_miner()
    ids = [miner.add_log_message(line)["cluster_id"] for line in lines]
    final = {c.cluster_id: c.get_template() for c in miner.drain.clusters}
    return ids, [final[i] for i in ids]


def rate(lines: list[str], repeat: int, feed) -> float:
    """Best lines per second over `repeat` runs of `feed(lines)`."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        feed(lines)
        best = min(best, time.perf_counter() - started)
    return len(lines) / best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Template mining accuracy and speed on Loghub-2k (bench/README.md).")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "loghub-2k",
                   help="the loghub-2k folder (default ../shared/data/loghub-2k from the repository)")
    p.add_argument("--repeat", type=int, default=5, help="throughput runs over the whole corpus (default 5)")
    p.add_argument("--json", type=Path, help="also write the figures here as JSON")
    args = p.parse_args(argv)
    missing = [d for d in DATASETS if not (args.data / d / f"{d}_2k.log_structured_corrected.csv").is_file()]
    if missing:
        print(f"error: no Loghub-2k samples for {', '.join(missing)} under {args.data} "
              f"(expected <DIR>/<DS>/<DS>_2k.log_structured_corrected.csv; pass --data DIR)", file=sys.stderr)
        return 2
    try:
        drain3_miner()
    except ImportError:
        print("error: drain3 is not installed (pip install -e '.[bench]')", file=sys.stderr)
        return 2

    rows, corpus = [], []
    print(f"{'dataset':<10} {'GA ours':>8} {'PA ours':>8} {'GA drain3':>10} {'PA drain3':>10} {'templates':>9} {'ours':>5}")
    for dataset in DATASETS:
        lines, truth = load(args.data, dataset)
        corpus.extend(lines)
        our_ids, our_texts = ours(lines)
        d3_ids, d3_texts = drain3(lines)
        row = {
            "dataset": dataset,
            "ga": grouping_accuracy(our_ids, truth), "pa": parsing_accuracy(our_texts, truth),
            "drain3_ga": grouping_accuracy(d3_ids, truth), "drain3_pa": parsing_accuracy(d3_texts, truth),
            "truth_templates": len(set(truth)), "our_templates": len(set(our_ids)),
        }
        rows.append(row)
        print(f"{dataset:<10} {row['ga']:>8.3f} {row['pa']:>8.3f} {row['drain3_ga']:>10.3f} {row['drain3_pa']:>10.3f} "
              f"{row['truth_templates']:>9} {row['our_templates']:>5}")
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in ("ga", "pa", "drain3_ga", "drain3_pa")}
    print(f"{'mean':<10} {mean['ga']:>8.3f} {mean['pa']:>8.3f} {mean['drain3_ga']:>10.3f} {mean['drain3_pa']:>10.3f}")

    def feed_ours(lines):
        miner = TemplateMiner("bench")
        for line in lines:
            miner.add(line)

    def feed_drain3(lines):
        miner = drain3_miner()
        for line in lines:
            miner.add_log_message(line)

    ours_rate = rate(corpus, args.repeat, feed_ours)
    drain3_rate = rate(corpus, max(1, args.repeat // 2), feed_drain3)
    print(f"throughput ({len(corpus):,} lines, best of {args.repeat} fresh runs, one core, shared machine): "
          f"ours {ours_rate:,.0f} lines/s, drain3 {drain3_rate:,.0f} lines/s ({ours_rate / drain3_rate:.1f}x)")
    verdicts = {
        f"mean GA >= {TARGET_GA}": mean["ga"] >= TARGET_GA,
        f"mean PA >= {TARGET_PA}": mean["pa"] >= TARGET_PA,
        f"throughput >= {TARGET_RATE:,} lines/s": ours_rate >= TARGET_RATE,
    }
    for name, ok in verdicts.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    if args.json:
        args.json.write_text(json.dumps({"datasets": rows, "mean": mean, "rate": ours_rate,
                                         "drain3_rate": drain3_rate, "lines": len(corpus)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
