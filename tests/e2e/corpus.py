"""The data the e2e server is seeded with, and the record of it the tests check the UI against."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from servers import Server

ACCOUNT_NAME = "Northwind Clinic"
READER_EMAIL = "reader@example.com"
READER_PASSWORD = "quiet harbour lantern seventeen"
APPS = ["nginx", "api", "worker", "billing"]
HOSTS = ["web-1", "web-2", "db-1"]
LEVELS = ["INFO", "WARN", "ERROR", "DEBUG"]
SEED_LINES = 300
SEED_SPAN_MS = 50 * 60 * 1000  # spread over the 50 minutes before the session starts
DECLINED_EVERY = 10  # every 10th line is a "payment declined" ERROR with meta fields
HOSTILE_APP = "hostile"
HOSTILE_HOST = "<b>evil</b>"
HOSTILE_LINES = [
    "<script>alert(1)</script> injected by a client",
    "\x1b[31mred alert\x1b[0m coloured by a terminal",
    "first half\r\nsecond half after CR LF",
]


@dataclass
class Seeded:
    """The running server and what was put into it."""

    server: Server
    owner_email: str
    owner_password: str
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)  # line id -> line as the search API returns it

    def ids_where(self, **equal: Any) -> set[str]:
        return {line_id for line_id, line in self.lines.items() if all(line[k] == v for k, v in equal.items())}


def seed_lines(now_ms: int) -> list[dict[str, Any]]:
    step = SEED_SPAN_MS // SEED_LINES
    lines = []
    for n in range(SEED_LINES):
        line: dict[str, Any] = {
            "timestamp": now_ms - SEED_SPAN_MS + n * step,
            "app": APPS[n % len(APPS)],
            "hostname": HOSTS[n % len(HOSTS)],
            "level": LEVELS[n % len(LEVELS)],
            "tags": ["eu"] if n % 2 else ["us"],
        }
        if n % DECLINED_EVERY == 0:
            line |= {
                "line": f"seq={n} payment declined for order o-{n}",
                "level": "ERROR",
                "app": "billing",
                "meta": {"user": {"id": f"u-{n}"}, "status": 402},
            }
        else:
            line["line"] = f"seq={n} {line['app']} handled request r-{n} in {n % 97} ms"
        lines.append(line)
    recent = now_ms - 60_000
    lines += [{"line": text, "timestamp": recent + i, "app": HOSTILE_APP, "hostname": HOSTILE_HOST, "level": "WARN"} for i, text in enumerate(HOSTILE_LINES)]
    return lines
