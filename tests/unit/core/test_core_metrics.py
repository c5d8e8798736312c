"""Counters and gauges (core.metrics), rendered as Prometheus text exposition format 0.0.4."""

from __future__ import annotations

import re
import threading

import pytest

from timberyard.core.metrics import HELP, Metrics

# One sample line: name, optional {labels}, value (Go's ParseFloat syntax, as Prometheus reads it).
_LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
_LABELS = rf"\{{(?:[a-zA-Z_][a-zA-Z0-9_]*={_LABEL_VALUE}(?:,[a-zA-Z_][a-zA-Z0-9_]*={_LABEL_VALUE})*)?\}}"
_VALUE = r"(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)"
SAMPLE = re.compile(rf"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?P<labels>{_LABELS})? (?P<value>{_VALUE})$")
HELP_LINE = re.compile(r"^# HELP (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?P<text>.+)$")
TYPE_LINE = re.compile(r"^# TYPE (?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*) (?P<kind>counter|gauge|summary|histogram|untyped)$")


def parse(text: str) -> dict[str, tuple[str, dict[str, float]]]:
    """Validate the exposition text and return {family: (type, {sample name+labels: value})}.

    Checks what Prometheus' parser checks: every line is a comment or a sample, each family has
    one HELP and one TYPE before its samples, and a family's samples are contiguous."""
    assert text.endswith("\n")
    families: dict[str, tuple[str, dict[str, float]]] = {}
    helped: set[str] = set()
    current = None
    for line in text.splitlines():
        if not line:  # Prometheus ignores empty lines
            continue
        if match := HELP_LINE.match(line):
            assert match["name"] not in helped, f"second HELP for {match['name']}"
            helped.add(match["name"])
            continue
        if match := TYPE_LINE.match(line):
            name = match["name"]
            assert name in helped and name not in families, f"TYPE for {name} misplaced"
            families[name] = (match["kind"], {})
            current = name
            continue
        match = SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        sample = match["name"]
        assert current is not None and sample in (current, current + "_sum", current + "_count"), (
            f"{sample} outside its family"
        )
        families[current][1][sample + (match["labels"] or "")] = float(match["value"])
    return families


def test_counters_without_labels() -> None:
    metrics = Metrics()
    metrics.inc("timberyard_ingest_requests_total")
    metrics.inc("timberyard_ingest_requests_total")
    metrics.inc("timberyard_ingest_lines_total", 500)
    assert metrics.value("timberyard_ingest_requests_total") == 2
    assert metrics.value("timberyard_ingest_lines_total") == 500
    assert metrics.value("timberyard_never_touched_total") == 0
    families = parse(metrics.render())
    assert families["timberyard_ingest_requests_total"] == ("counter", {"timberyard_ingest_requests_total": 2})
    assert families["timberyard_ingest_lines_total"] == ("counter", {"timberyard_ingest_lines_total": 500})


def test_counters_with_labels() -> None:
    metrics = Metrics()
    metrics.inc("timberyard_ingest_rejected_total", reason="BadRequest")
    metrics.inc("timberyard_ingest_rejected_total", reason="BadRequest")
    metrics.inc("timberyard_ingest_rejected_total", reason="PayloadTooLarge")
    metrics.inc("timberyard_ingest_rejected_total", 3, reason="BadRequest", node="a")
    metrics.inc("timberyard_ingest_rejected_total", 1, node="a", reason="BadRequest")  # label order does not matter
    assert metrics.value("timberyard_ingest_rejected_total", reason="BadRequest") == 2
    assert metrics.value("timberyard_ingest_rejected_total", reason="PayloadTooLarge") == 1
    assert metrics.value("timberyard_ingest_rejected_total") == 0
    assert metrics.value("timberyard_ingest_rejected_total", reason="BadRequest", node="a") == 4
    kind, samples = parse(metrics.render())["timberyard_ingest_rejected_total"]
    assert kind == "counter"
    assert samples == {
        'timberyard_ingest_rejected_total{reason="BadRequest"}': 2,
        'timberyard_ingest_rejected_total{reason="PayloadTooLarge"}': 1,
        'timberyard_ingest_rejected_total{node="a",reason="BadRequest"}': 4,
    }


def test_gauges_read_their_value_at_render_time() -> None:
    metrics = Metrics()
    pending = [0]
    metrics.gauge("timberyard_wal_pending_bytes", lambda: pending[0])
    metrics.gauge("timberyard_batcher_queued_lines", lambda: 2.5)
    pending[0] = 4096
    families = parse(metrics.render())
    assert families["timberyard_wal_pending_bytes"] == ("gauge", {"timberyard_wal_pending_bytes": 4096})
    assert families["timberyard_batcher_queued_lines"] == ("gauge", {"timberyard_batcher_queued_lines": 2.5})
    pending[0] = 1
    assert parse(metrics.render())["timberyard_wal_pending_bytes"][1] == {"timberyard_wal_pending_bytes": 1}


def test_observed_seconds_are_a_summary() -> None:
    metrics = Metrics()
    metrics.observe_seconds("timberyard_store_insert_seconds", 0.25)
    metrics.observe_seconds("timberyard_store_insert_seconds", 0.5)
    kind, samples = parse(metrics.render())["timberyard_store_insert_seconds"]
    assert kind == "summary"
    assert samples == {"timberyard_store_insert_seconds_sum": 0.75, "timberyard_store_insert_seconds_count": 2}


def test_help_text_comes_from_the_catalogue() -> None:
    metrics = Metrics()
    metrics.inc("timberyard_ingest_lines_total")
    metrics.inc("timberyard_uncatalogued_total")
    text = metrics.render()
    assert f"# HELP timberyard_ingest_lines_total {HELP['timberyard_ingest_lines_total']}\n" in text
    assert "# HELP timberyard_uncatalogued_total timberyard_uncatalogued_total\n" in text


@pytest.mark.parametrize(
    ("amount", "rendered"),
    [
        (2_000_000, "2000000"),
        (2e6, "2000000"),
        (10**15, "1000000000000000"),
        (1e20, "100000000000000000000"),
        (0, "0"),
        (0.5, "0.5"),
        (1234.125, "1234.125"),
    ],
)
def test_numbers_render_without_exponent_when_integral(amount: float, rendered: str) -> None:
    metrics = Metrics()
    metrics.inc("timberyard_ingest_bytes_total", amount)
    assert f"\ntimberyard_ingest_bytes_total {rendered}\n" in "\n" + metrics.render()


def test_an_empty_registry_renders_a_valid_empty_exposition() -> None:
    assert Metrics().render() == "\n"


def test_every_catalogued_metric_renders_validly() -> None:
    metrics = Metrics()
    for name in HELP:
        if name.endswith("_seconds"):
            metrics.observe_seconds(name, 0.125)
        elif name.endswith("_total"):
            metrics.inc(name, 3)
        else:
            metrics.gauge(name, lambda: 7)
    assert set(parse(metrics.render())) == set(HELP)


@pytest.mark.parametrize("value", ['say "hi"', "back\\slash", "two\nlines"])
def test_label_values_are_escaped(value: str) -> None:
    metrics = Metrics()
    metrics.inc("timberyard_ingest_rejected_total", reason=value)
    _, samples = parse(metrics.render())["timberyard_ingest_rejected_total"]
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    assert samples == {f'timberyard_ingest_rejected_total{{reason="{escaped}"}}': 1}


def test_concurrent_increments_are_exact() -> None:
    metrics = Metrics()
    threads_count, per_thread = 8, 20_000
    start = threading.Barrier(threads_count)

    def work() -> None:
        start.wait()
        for _ in range(per_thread):
            metrics.inc("timberyard_ingest_lines_total")
            metrics.inc("timberyard_ingest_rejected_total", 2, reason="BadRequest")

    workers = [threading.Thread(target=work) for _ in range(threads_count)]
    for worker in workers:
        worker.start()
    for _ in range(50):  # render concurrently with the writers
        parse(metrics.render())
    for worker in workers:
        worker.join()
    assert metrics.value("timberyard_ingest_lines_total") == threads_count * per_thread
    assert metrics.value("timberyard_ingest_rejected_total", reason="BadRequest") == 2 * threads_count * per_thread


def test_a_nodes_registry_shows_every_catalogued_counter_at_zero_from_the_start() -> None:
    from timberyard.core.metrics import ACCOUNT_HELP, GAUGES

    families = parse(Metrics.with_catalogue().render())
    expected = {name for name in {**HELP, **ACCOUNT_HELP} if name not in GAUGES}
    assert set(families) == expected
    assert all(set(samples.values()) == {0} for _, samples in families.values())
    assert families["timberyard_store_insert_seconds"][0] == "summary"


def test_an_account_sees_only_its_own_series_of_the_account_families() -> None:
    metrics = Metrics.with_catalogue()
    metrics.inc("timberyard_account_ingest_lines_total", 5, account="a")
    metrics.inc("timberyard_account_ingest_lines_total", 9, account="b")
    metrics.inc("timberyard_ingest_lines_total", 14)
    metrics.gauge("timberyard_wal_pending_bytes", lambda: 1)
    metrics.gauge_per_account("timberyard_archive_lag_seconds", lambda: {"a": 42.5, "b": 7})
    families = parse(metrics.render_account("a"))
    assert families == {
        "timberyard_account_ingest_lines_total": ("counter", {'timberyard_account_ingest_lines_total{account="a"}': 5}),
        "timberyard_account_stored_lines_total": ("counter", {'timberyard_account_stored_lines_total{account="a"}': 0}),
        "timberyard_archive_lag_seconds": ("gauge", {'timberyard_archive_lag_seconds{account="a"}': 42.5}),
    }
    assert parse(metrics.render_account("c"))["timberyard_archive_lag_seconds"] == ("gauge", {})  # archiving off
    node = parse(metrics.render())
    assert node["timberyard_account_ingest_lines_total"][1]['timberyard_account_ingest_lines_total{account="b"}'] == 9
    assert "timberyard_wal_pending_bytes" in node
    assert node["timberyard_archive_lag_seconds"][1]['timberyard_archive_lag_seconds{account="b"}'] == 7
