"""The agent's own metrics, served in Prometheus' text format (`--metrics 127.0.0.1:9898`).

Counters only grow; gauges (files watched, open descriptors, spool size, lag) are read when
scraped. Counters are plain integers updated under the GIL by the thread that owns the event;
a scrape may see one a moment old, never a torn value.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTERS = {
    "lines_read": "Lines read from files, the journal and container logs.",
    "lines_sent": "Lines the node acknowledged.",
    "lines_excluded": "Lines dropped by include_lines/exclude_lines.",
    "lines_dropped": "Lines given up: the node refused their batch as malformed (400).",
    "lines_truncated": "Lines longer than max_line_bytes, cut.",
    "bytes_read": "Bytes read from files.",
    "bytes_sent": "Bytes sent to the node (compressed).",
    "batches_sent": "Batches the node acknowledged.",
    "send_failures": "Attempts to send a batch that failed (unreachable, 5xx, 429).",
    "batches_spooled": "Batches written to the disk spool while the node was unreachable.",
    "spool_full_waits": "Times reading paused because the spool reached spool_max_bytes.",
    "rotations": "Files rotated away (renamed or replaced) while being read.",
    "truncations": "Files found truncated (copytruncate, or truncated while the agent was stopped).",
    "copies_recovered": "Truncations whose unread lines were read from the rotated copy.",
}


class Metrics:
    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def add(self, **counts: int) -> None:
        for name, value in counts.items():
            if value:
                self.counts[name] += value

    def gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        self.gauges[name] = (help_text, read)

    def render(self) -> str:
        out = []
        for name, value in self.counts.items():
            out += [f"# HELP timberyard_agent_{name}_total {COUNTERS[name]}", f"# TYPE timberyard_agent_{name}_total counter",
                    f"timberyard_agent_{name}_total {value}"]
        for name, (help_text, read) in self.gauges.items():
            out += [f"# HELP timberyard_agent_{name} {help_text}", f"# TYPE timberyard_agent_{name} gauge", f"timberyard_agent_{name} {read():g}"]
        return "\n".join(out) + "\n"

    def serve(self, address: str) -> ThreadingHTTPServer:
        """Serve GET /metrics on HOST:PORT in a background thread."""
        host, _, port = address.rpartition(":")
        metrics = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404, "only /metrics is here")
                    return
                body = metrics.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer((host.strip("[]") or "0.0.0.0", int(port)), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
        return server
