"""Agents as child processes for integration tests, and exact counting of what arrived.

Every test line carries `<tag> seq=<n>`; `arrived()` pages through the node's /v2/export and
counts each sequence number, so gaps and duplicates are exact. Writers append lines at a set
rate in their own thread, as a logging program would.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from servers import Server

SEQ = re.compile(r"seq=(\d+)")


def line(tag: str, number: int, pad: int = 60) -> str:
    return f"{tag} seq={number:09d} " + "x" * pad


@dataclass
class Agent:
    """`timberyard agent --config <file>` against a test server."""

    server: Server
    directory: Path
    settings: dict[str, Any] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    metrics_port: int = 0
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.config = self.directory / "agent.yaml"
        self.log = self.directory / "agent.log"

    @property
    def state_dir(self) -> Path:
        return self.directory / "state"

    def start(self) -> Agent:
        settings = {"server": self.server.url, "key": self.server.ingestion_key, "state_dir": str(self.state_dir),
                    "poll_interval": 0.1, "flush_interval": 0.2, "hostname": "agent-test", **self.settings}
        if self.metrics_port:
            settings["metrics"] = f"127.0.0.1:{self.metrics_port}"
        self.config.write_text(yaml.safe_dump(settings))
        env = {key: value for key, value in os.environ.items() if not key.startswith(("LOGDNA_", "MZ_", "TIMBERYARD_"))} | self.env
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "timberyard", "agent", "--config", str(self.config), "--log-level", "debug"],
                                            stdout=log, stderr=subprocess.STDOUT, env=env)
        weakref.finalize(self, _kill, self.process)  # a failed test never leaves an agent behind
        starts = self.output(whole=True).count(" sends to ")
        deadline = time.monotonic() + 30
        while self.output(whole=True).count(" sends to ") == starts:  # its first scan is done a moment later
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the agent did not start:\n{self.output()}")
            time.sleep(0.05)
        time.sleep(0.2)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=timeout)
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def metrics(self) -> dict[str, float]:
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        return {name: float(value) for name, value in re.findall(r"^(timberyard_agent_\w+) (\S+)$", text, re.M)}

    def output(self, whole: bool = False) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text if whole else text[-4000:]


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


class Writer(threading.Thread):
    """Appends numbered lines to `path` at `rate` lines/s; `rotate(n)` is called after each line
    number n for which `rotate_every` divides n (the test's idea of logrotate)."""

    def __init__(self, path: Path, tag: str, count: int, rate: float, *, start: int = 0, rotate_every: int = 0,
                 rotate: Any = None, fmt: Any = None) -> None:
        super().__init__(daemon=True)
        self.path, self.tag, self.count, self.rate, self.start_at = path, tag, count, rate, start
        self.rotate_every, self.rotate_fn, self.fmt = rotate_every, rotate, fmt or (lambda text: text)
        self.written = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            handle = self.path.open("a")
            began = time.monotonic()
            tick = max(1, int(self.rate / 100))  # write in slices every ~10 ms
            for number in range(self.start_at, self.start_at + self.count):
                handle.write(self.fmt(line(self.tag, number)) + "\n")
                self.written += 1
                if self.rotate_every and self.written % self.rotate_every == 0:
                    handle.flush()
                    handle = self.rotate_fn(handle)
                if self.written % tick == 0:
                    handle.flush()
                    delay = began + self.written / self.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            handle.close()
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def rename_rotation(path: Path, keep: int = 3):
    """logrotate's default: shift app.log.N, rename app.log to app.log.1, create a new app.log."""
    def rotate(handle):
        handle.close()
        for number in range(keep - 1, 0, -1):
            older = path.with_name(f"{path.name}.{number}")
            if older.exists():
                os.replace(older, path.with_name(f"{path.name}.{number + 1}"))
        os.replace(path, path.with_name(f"{path.name}.1"))
        return path.open("a")
    return rotate


def arrived(server: Server, tag: str, expect: int | None = None, timeout: float = 60) -> collections.Counter[int]:
    """Sequence numbers of the lines tagged `tag` in the store (waiting until `expect` distinct
    numbers arrived, or `timeout`), with how often each arrived."""
    deadline = time.monotonic() + timeout
    while True:
        counts = _export(server, tag)
        if expect is None or len(counts) >= expect or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def _export(server: Server, tag: str) -> collections.Counter[int]:
    counts: collections.Counter[int] = collections.Counter()
    params: dict[str, Any] = {"from": 0, "to": 9_999_999_999_999, "size": 10_000, "query": f'"{tag}"'}
    with httpx.Client(auth=(server.service_key, ""), timeout=60, verify=server.verify) as client:
        while True:
            page = client.get(server.url + "/v2/export", params=params).json()
            for entry in page["lines"]:
                for match in SEQ.finditer(entry["_line"]):
                    if entry["_line"].startswith(tag) or f"{tag} seq=" in entry["_line"]:
                        counts[int(match.group(1))] += 1
            if not page["pagination_id"]:
                return counts
            params["pagination_id"] = page["pagination_id"]


def gaps_and_duplicates(counts: collections.Counter[int], numbers: range) -> tuple[list[int], int]:
    missing = [n for n in numbers if counts[n] == 0]
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    return missing, duplicates
