"""Accuracy regression on real lines: the first 300 rows of Loghub's Hadoop sample.

tests/data/loghub-2k holds them with Loghub's licence and citation. The whole benchmark, all
eight samples with drain3 beside, is bench/templates.py; this keeps a change to masking or the
miner from quietly losing accuracy. Measured when written: GA 0.957, PA 0.893.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_templates", ROOT / "bench" / "templates.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


def test_hadoop_sample_accuracy() -> None:
    lines, truth = bench.load(ROOT / "tests" / "data" / "loghub-2k", "Hadoop")
    assert len(lines) == 300
    ids, texts = bench.ours(lines)
    assert bench.grouping_accuracy(ids, truth) >= 0.94
    assert bench.parsing_accuracy(texts, truth) >= 0.87


def test_accuracy_measures_on_a_known_case() -> None:
    truth = ["a", "a", "b", "c", "c"]
    assert bench.grouping_accuracy([1, 1, 2, 3, 3], truth) == 1.0
    assert bench.grouping_accuracy([1, 1, 2, 2, 3], truth) == 0.4  # only the a group is exact
    assert bench.grouping_accuracy([1, 1, 1, 1, 1], truth) == 0.0
    assert bench.parsing_accuracy(["x <*><*>  y", "z"], ["x <*> y", "z <*>"]) == 0.5
