"""The benchmark corpus generator: reproducible, complete, shaped like real logs, fast enough."""

from __future__ import annotations

import importlib.util
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[3]
# The first 300 rows of each Loghub sample (tests/data/loghub-2k/README.md), not the whole samples
# the benchmarks read: enough for the generator's mechanics, and no data from outside the tree.
LOGHUB = ROOT / "tests" / "data" / "loghub-2k"


def _load_corpus():
    spec = importlib.util.spec_from_file_location("bench_corpus", ROOT / "bench" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


corpus = _load_corpus()
END = corpus.DEFAULT_END_MS


@pytest.fixture(scope="module", autouse=True)
def loghub_in_the_tree() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIMBERYARD_SHARED_DATA", str(LOGHUB))
        assert corpus.shared_data_dir() == LOGHUB
        yield


@pytest.fixture(scope="module")
def items() -> list[dict]:
    return list(corpus.generate(20_000, seed=7))


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    first = b"\n".join(orjson.dumps(i) for i in corpus.generate(3_000, seed=3))
    again = b"\n".join(orjson.dumps(i) for i in corpus.generate(3_000, seed=3))
    other = b"\n".join(orjson.dumps(i) for i in corpus.generate(3_000, seed=4))
    assert first == again
    assert first != other


def test_count_and_time_order_within_the_window(items):
    assert len(items) == 20_000
    stamps = [i["timestamp"] for i in items]
    assert stamps == sorted(stamps)
    assert END - corpus.DAY_MS <= stamps[0] and stamps[-1] <= END
    assert stamps[-1] - stamps[0] > 0.95 * corpus.DAY_MS


def test_items_are_logdna_lines_with_a_host_from_the_pool(items):
    for item in items:
        assert set(item) <= {"line", "app", "level", "timestamp", "meta", "hostname"}
        assert isinstance(item["line"], str) and item["line"] and "\n" not in item["line"]
        assert "<*>" not in item["line"]
        assert isinstance(item["timestamp"], int)
        assert item["hostname"] in corpus.HOSTS
    assert len(corpus.HOSTS) == 50
    assert len({i["hostname"] for i in items}) == 50


def test_mix_of_sources_and_line_length(items):
    apps = Counter(i["app"] for i in items)
    loghub = sum(apps[s.app] for s in corpus.SYSTEMS) / len(items)
    nginx = apps["nginx"] / len(items)
    assert abs(loghub - 0.40) < 0.02 and abs(nginx - 0.30) < 0.02
    assert {"hdfs", "hadoop", "spark", "zookeeper", "bgl", "hpc", "apache", "sshd", "checkout-api"} <= set(apps)
    mean = sum(len(i["line"]) for i in items) / len(items)
    assert 150 <= mean <= 220


def test_json_app_logs_carry_the_usual_fields(items):
    app_logs = [i for i in items if "meta" in i]
    assert len(app_logs) > 0.25 * len(items)
    for item in app_logs[:500]:
        doc = orjson.loads(item["line"])
        assert {"ts", "level", "msg", "service", "request_id", "user", "duration_ms", "status"} <= set(doc)
        assert doc["service"] == item["app"] and doc["level"].upper() == item["level"]
        assert isinstance(doc["user"]["id"], str)


def test_template_slots_get_fresh_values_of_the_same_shape(items):
    hdfs = [i["line"] for i in items if i["app"] == "hdfs"]
    blocks = {w for line in hdfs for w in line.split() if w.startswith("blk_")}
    assert len(blocks) > len(hdfs) / 4  # fresh ids, some of them recurring
    assert all(w[4:].lstrip("-").isdigit() for w in blocks)
    nginx = [i["line"] for i in items if i["app"] == "nginx"]
    statuses = Counter(int(line.split('" ')[1].split()[0]) for line in nginx)
    assert 0.6 < statuses[200] / len(nginx) < 0.95 and statuses[404] and statuses[500]


def test_batches_are_per_host_and_cover_every_item_once():
    plain = [orjson.dumps(i) for i in corpus.generate(5_000, seed=2)]
    grouped = list(corpus.batches(5_000, batch_size=100, seed=2))
    assert all(1 <= len(b) <= 100 and len({i["hostname"] for i in b}) == 1 for b in grouped)
    assert sorted(orjson.dumps(i) for b in grouped for i in b) == sorted(plain)
    host, body = corpus.ingest_body(grouped[0])
    lines = orjson.loads(body)["lines"]
    assert host == grouped[0][0]["hostname"] and len(lines) == len(grouped[0])
    assert all("hostname" not in line for line in lines)


def test_needles_are_recorded_unique_and_leave_the_rest_alone():
    plain = list(corpus.generate(5_000, seed=5))
    planted = corpus.Corpus(seed=5).plant_needles(0.01)
    seeded = list(planted.generate(5_000))
    assert 20 <= len(planted.needles) <= 90
    needles = {n.index: n for n in planted.needles}
    for index, (a, b) in enumerate(zip(plain, seeded, strict=True)):
        if index in needles:
            assert needles[index].token in b["line"] and needles[index].token not in a["line"]
        else:
            assert a == b
    text = "\n".join(i["line"] for i in seeded)
    assert all(text.count(n.token) == 1 for n in planted.needles)


def test_only_time_fields_depend_on_the_end_of_the_window():
    early = list(corpus.generate(2_000, seed=9, end_ms=END))
    late = list(corpus.generate(2_000, seed=9, end_ms=END + 3_600_000))
    def timeless(item):
        return item["app"], item["hostname"], item.get("level"), item.get("meta")

    assert [timeless(i) for i in early] == [timeless(i) for i in late]
    assert late[-1]["timestamp"] > END


def test_100k_lines_in_under_ten_seconds():
    started = time.perf_counter()
    count = sum(1 for _ in corpus.generate(100_000, seed=1))
    assert count == 100_000
    assert time.perf_counter() - started < 10
