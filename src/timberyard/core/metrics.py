"""Counters and gauges of one node, rendered in Prometheus' text format at GET /metrics.

Updated per request or per batch, never per line, so a lock around each update costs nothing
measurable and keeps counts exact across the event loop and worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

HELP = {
    "timberyard_ingest_requests_total": "Ingest requests answered 200.",
    "timberyard_ingest_lines_total": "Lines received in accepted requests (stored, excluded or expired).",
    "timberyard_ingest_bytes_total": "Request body bytes accepted, after decompression.",
    "timberyard_ingest_rejected_total": "Ingest requests refused, by reason.",
    "timberyard_store_lines_total": "Lines inserted into the store since start.",
    "timberyard_store_batches_total": "Batches inserted into the store since start.",
    "timberyard_store_insert_errors_total": "Failed store inserts (retried).",
    "timberyard_store_insert_seconds": "Time spent in store inserts.",
    "timberyard_wal_pending_bytes": "Bytes in the write-ahead log not yet in the store.",
    "timberyard_wal_fsyncs_total": "fsync calls of the write-ahead log (one per group commit).",
    "timberyard_batcher_queued_lines": "Durable lines waiting for the next store insert.",
    "timberyard_tail_subscribers": "Connected live-tail clients.",
    "timberyard_store_merges_running": "Merges the store is running (high for long: still merging a burst of inserts).",
    "timberyard_http_connections": "Open HTTP connections.",
    "timberyard_http_connections_refused_total": "HTTP connections closed at once because http_max_connections were open.",
    "timberyard_http_timeouts_total": "HTTP connections closed because the client was too slow, by phase (headers, body).",
    "timberyard_alert_delivery_failures_total": "Failed alert delivery attempts, by channel_kind.",
    "timberyard_alert_channels_failing": "Alert channels reported failing (given up 3 times in a row, or failing for an hour).",
    "timberyard_alert_lines_not_evaluated": "Durable lines the alert evaluator skipped because it was 10,000 batches behind.",
    "timberyard_insights_lines_observed_total": "Stored lines the anomaly detectors observed.",
    "timberyard_insights_anomalies_total": "Anomalies the detectors found and stored, by kind.",
    "timberyard_insights_lines_not_observed": "Durable lines the anomaly detectors skipped because they were 10,000 batches behind.",
}
# Read at render time from the component that owns the value (Node.open registers them).
GAUGES = frozenset({
    "timberyard_wal_pending_bytes", "timberyard_wal_fsyncs_total", "timberyard_batcher_queued_lines",
    "timberyard_tail_subscribers", "timberyard_store_merges_running", "timberyard_http_connections",
    "timberyard_alert_channels_failing", "timberyard_alert_lines_not_evaluated", "timberyard_archive_lag_seconds",
    "timberyard_insights_lines_not_observed",
})  # fmt: skip
# Figures of one account, labelled `account`: an account's key sees its own, and only these.
ACCOUNT_HELP = {
    "timberyard_account_ingest_lines_total": "Lines this account sent in accepted requests (stored, excluded or expired).",
    "timberyard_account_stored_lines_total": "Lines of this account written for storage (not excluded, not expired).",
    "timberyard_archive_lag_seconds": "Per account with archiving on: seconds between now and the receive time up to which its lines are archived.",
}
ACCOUNT = "account"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._gauges: dict[str, Callable[[], float]] = {}
        self._families: dict[str, Callable[[], dict[str, float]]] = {}
        self._help = HELP | ACCOUNT_HELP

    @classmethod
    def with_catalogue(cls) -> Metrics:
        """A node's registry: every catalogued counter shows (at 0) from the start, so the
        metrics the docs list exist before anything happens and alerts on rates have a series."""
        metrics = cls()
        for name, text in (HELP | ACCOUNT_HELP).items():
            if name in GAUGES:
                continue
            if name.endswith("_seconds"):
                metrics.describe(name + "_sum", text)
                metrics.describe(name + "_count", text)
            else:
                metrics.describe(name, text)
        return metrics

    def inc(self, name: str, amount: float = 1, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + amount

    def observe_seconds(self, name: str, seconds: float) -> None:
        """A cheap summary: total seconds and count, enough for a rate and a mean."""
        self.inc(name + "_sum", seconds)
        self.inc(name + "_count")

    def describe(self, name: str, text: str) -> None:
        """Give a counter its HELP text and show it (at 0) from the start, before anything counts."""
        self._help[name] = text
        with self._lock:
            self._counters.setdefault((name, ()), 0)

    def gauge(self, name: str, read: Callable[[], float]) -> None:
        self._gauges[name] = read

    def gauge_per_account(self, name: str, read: Callable[[], dict[str, float]]) -> None:
        """A gauge with one series per account (`account` label), read at render time."""
        self._families[name] = read

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._counters.get((name, tuple(sorted(labels.items()))), 0)

    def render_account(self, account: str) -> str:
        """Only the per-account families, only `account`'s series (at 0 when it has none)."""
        with self._lock:
            counters = {
                key: value for key, value in self._counters.items()
                if key[0] in ACCOUNT_HELP and (ACCOUNT, account) in key[1]
            }  # fmt: skip
        for name in ACCOUNT_HELP:
            if name not in GAUGES and not any(key[0] == name for key in counters):
                counters[(name, ((ACCOUNT, account),))] = 0
        families = {
            name: {account: series[account]} if account in series else {}
            for name, series in self._read_families().items() if name in ACCOUNT_HELP
        }  # fmt: skip
        return self._render(counters, {}, families)

    def render(self) -> str:
        """Everything: the node's figures and every account's, for the node's operator."""
        with self._lock:
            counters = dict(self._counters)
        return self._render(counters, self._gauges, self._read_families())

    def _read_families(self) -> dict[str, dict[str, float]]:
        return {name: read() for name, read in self._families.items()}

    def _render(
        self, counters: dict[tuple[str, tuple[tuple[str, str], ...]], float], gauges: dict[str, Callable[[], float]],
        families: dict[str, dict[str, float]],
    ) -> str:
        lines: list[str] = []
        described: set[str] = set()
        for (name, labels), value in sorted(counters.items()):
            base = name.removesuffix("_sum").removesuffix("_count")
            if base not in described:
                described.add(base)
                lines.append(f"# HELP {base} {self._help.get(base, base)}")
                kind = "summary" if base != name else "counter"
                lines.append(f"# TYPE {base} {kind}")
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
            lines.append(f"{name}{{{label_text}}} {_number(value)}" if label_text else f"{name} {_number(value)}")
        for name, read in sorted(gauges.items()):
            lines.append(f"# HELP {name} {self._help.get(name, name)}")
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {_number(read())}")
        for name, family in sorted(families.items()):
            lines.append(f"# HELP {name} {self._help.get(name, name)}")
            lines.append(f"# TYPE {name} gauge")
            lines.extend(f'{name}{{{ACCOUNT}="{_escape(account)}"}} {_number(value)}' for account, value in family.items())
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _escape(label_value: str) -> str:
    return label_value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
