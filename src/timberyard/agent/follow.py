"""The quick cases of `timberyard ingest`: lines sent within a second of being written.

- `timberyard ingest --follow FILE...` runs the agent's tailer on the files (rotation and
  truncation followed) with a throw-away state, sending what the files hold and then every new
  line, until Ctrl-C.
- `tail -F file | timberyard ingest` reads the pipe as lines come: a batch goes when it is full
  or after `max_wait` seconds, instead of waiting for a thousand lines that may never come.
"""

from __future__ import annotations

import os
import select
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from timberyard.agent.config import FileInput, build
from timberyard.agent.runner import Agent


def follow_files(
    server: str, key: str, paths: list[Path], *, hostname: str, app: str | None, tags: str | None, ca_file: str = "", insecure: bool = False,
) -> None:
    with tempfile.TemporaryDirectory(prefix="timberyard-follow-") as state_dir:
        config = build({
            "server": server, "key": key, "hostname": hostname, "tags": tags or "", "state_dir": state_dir,
            "ca_file": ca_file, "insecure": insecure,
            "spool_max_bytes": 0, "lookback": "start", "flush_interval": 0.2, "poll_interval": 0.1, "exclude": [],
        }, origin="timberyard ingest --follow")
        config.files = [FileInput(path=[str(path)], app=app or "") for path in paths]
        Agent(config).run()


def pipe_batches(handle: IO[bytes], batch_lines: int, max_wait: float = 1.0) -> Iterator[tuple[list[str], int]]:
    """Lines from a pipe in batches of `batch_lines`, or fewer once the oldest waited `max_wait` s."""
    fd = handle.fileno()
    batch: list[str] = []
    rest, size, oldest = b"", 0, 0.0
    while True:
        timeout = max(0.0, oldest + max_wait - time.monotonic()) if batch else None
        if select.select([fd], [], [], timeout)[0]:
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            for raw in lines:
                text = raw.rstrip(b"\r").decode("utf-8", "replace")
                if text:
                    if not batch:
                        oldest = time.monotonic()
                    batch.append(text)
        if batch and (len(batch) >= batch_lines or time.monotonic() - oldest >= max_wait):
            yield batch, size
            batch, size = [], 0
    if rest.strip():
        batch.append(rest.rstrip(b"\r").decode("utf-8", "replace"))
    if batch or size:
        yield batch, size
