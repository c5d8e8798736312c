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
}


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        self._gauges: dict[str, Callable[[], float]] = {}
        self._help = dict(HELP)

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

    def value(self, name: str, **labels: str) -> float:
        with self._lock:
            return self._counters.get((name, tuple(sorted(labels.items()))), 0)

    def render(self) -> str:
        with self._lock:
            counters = dict(self._counters)
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
        for name, read in sorted(self._gauges.items()):
            lines.append(f"# HELP {name} {self._help.get(name, name)}")
            lines.append(f"# TYPE {name} gauge")
            lines.append(f"{name} {_number(read())}")
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _escape(label_value: str) -> str:
    return label_value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
