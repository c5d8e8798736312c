"""The anomaly benchmark's scoring, on the BGL rows kept in the tree (not the whole sample)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
LOGHUB = ROOT / "tests" / "data" / "loghub-2k"


def _load_bench():
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location("bench_insights", ROOT / "bench" / "insights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def test_scores_count_hits_misses_and_false_flags():
    flags = np.array([True, True, False, False, True])
    truth = np.array([True, False, True, False, True])
    assert bench.scores(flags, truth) == {"flagged": 3, "precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3}
    assert bench.scores(np.zeros(3, bool), np.zeros(3, bool))["f1"] == 0.0


def test_bgl_rows_in_the_tree():
    result = bench.bgl(LOGHUB)
    assert result["lines"] == 300 and result["alerts"] == 92
    # Every alert line of BGL is at FATAL: the level reference finds them all.
    assert result["reference: level ERROR or worse"]["recall"] == 1.0
    ours = result["ours rare_below=1"]
    # Rare (seen fewer than 3 times) includes new (never seen).
    assert 0 < ours["flagged"] <= result["ours rare_below=3"]["flagged"]
    assert 0.0 <= ours["precision"] <= 1.0
