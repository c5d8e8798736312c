"""The systemd journal: `journalctl -o json --follow`, resumed from a saved cursor.

Each entry's `__CURSOR` travels with its batch as the `journald` checkpoint, so after a
restart `--after-cursor` continues right after the last entry the node acknowledged. Without a
cursor, lookback `start` reads the current boot; every other policy starts at the end.
`journald_paths` are journal directories or files (a node's `/var/log/journal` mounted into a
container); empty means the system journal. If journalctl stops, it is started again after a
pause, from the last cursor read.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from timberyard.agent.batch import Batch, Batcher, escape
from timberyard.agent.config import AgentConfig
from timberyard.agent.metrics import Metrics
from timberyard.agent.rules import LineRules

log = logging.getLogger("timberyard.agent")

KEY = "journald"
LEVELS = ("EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG")
RESTART_PAUSE_S = 5.0


class Journal(threading.Thread):
    def __init__(self, config: AgentConfig, cursor: str | None, put: Callable[[Batch], bool], metrics: Metrics) -> None:
        super().__init__(name="journald", daemon=True)
        self.config = config
        self.cursor = cursor
        self.put = put
        self.metrics = metrics
        self.rules = LineRules(config.include_lines, config.exclude_lines, config.redact)
        self.batcher = Batcher(config.batch_max_lines, config.batch_max_bytes, config.flush_interval, config.gzip_level)
        self.stop = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        command = [self.config.journalctl, "--output=json", "--follow", "--all"]
        for path in self.config.journald_paths:
            command.append(f"--directory={path}" if os.path.isdir(path) else f"--file={path}")
        if self.cursor:
            command.append(f"--after-cursor={self.cursor}")
        elif self.config.lookback == "start":
            command.append("--boot")
        else:
            command.append("--lines=0")
        return command

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
            except OSError as exc:
                log.error("cannot run %s: %s; set journalctl to its path or turn journald off", self.config.journalctl, exc.strerror)
                self.stop.wait(RESTART_PAUSE_S * 6)
                continue
            self._follow(self._process)
            if not self.stop.is_set():
                problem = self._process.stderr.read(500).decode(errors="replace").strip() if self._process.stderr else ""
                log.warning("journalctl ended (%s); starting it again in %g s", problem or f"status {self._process.wait()}", RESTART_PAUSE_S)
                self.stop.wait(RESTART_PAUSE_S)

    def _follow(self, process: subprocess.Popen[bytes]) -> None:
        """Read entries and hand out batches in one thread: while the outbox is full, journalctl
        blocks on its pipe instead of the agent buffering without bound."""
        assert process.stdout is not None
        fd, rest = process.stdout.fileno(), b""
        while not self.stop.is_set():
            if select.select([fd], [], [], self.config.flush_interval / 2)[0]:
                chunk = os.read(fd, 256 * 1024)
                if not chunk:
                    break
                lines = (rest + chunk).split(b"\n")
                rest = lines.pop()
                for raw in lines:
                    self._take(raw)
            self._flush(time.monotonic())
        self._flush(float("inf"))

    def _take(self, raw: bytes) -> None:
        try:
            entry = json.loads(raw)
        except ValueError:
            return
        self.metrics.add(lines_read=1)
        self.cursor = entry.get("__CURSOR", self.cursor)
        fragment = self._encode(entry)
        if fragment is not None:
            self.batcher.add(fragment)

    def _encode(self, entry: dict[str, Any]) -> str | None:
        message = entry.get("MESSAGE")
        if isinstance(message, list):  # binary messages come as byte arrays
            message = bytes(message).decode("utf-8", "replace")
        text = self.rules.apply(str(message or "")) if self.rules.active else str(message or "")
        if not text:
            return None
        app = entry.get("SYSLOG_IDENTIFIER") or entry.get("_SYSTEMD_UNIT") or entry.get("_COMM") or "journald"
        fields: dict[str, Any] = {"file": "journald", "app": app}
        priority = str(entry.get("PRIORITY", ""))
        if priority.isdigit() and int(priority) < len(LEVELS):
            fields["level"] = LEVELS[int(priority)]
        meta = {name.lower().lstrip("_"): entry[name] for name in ("_SYSTEMD_UNIT", "_PID", "_TRANSPORT") if name in entry}
        if meta:
            fields["meta"] = meta
        realtime = str(entry.get("__REALTIME_TIMESTAMP", ""))
        stamp = int(realtime) // 1000 if realtime.isdigit() else int(time.time() * 1000)
        return f'{{"line":{escape(text)},"timestamp":{stamp},' + json.dumps(fields, separators=(",", ":"))[1:]

    def _flush(self, now: float) -> None:
        if self.batcher.fragments and self.cursor and (self.batcher.due(now) or now == float("inf")):
            self.put(self.batcher.seal({KEY: {"cursor": self.cursor, "seen": int(time.time())}}))

    def close(self) -> None:
        self.stop.set()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
