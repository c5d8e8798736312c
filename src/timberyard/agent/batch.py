"""Batches: lines in LogDNA's agent body, gzip'd, with the progress they stand for.

Each line is encoded once, as it is read, into its JSON object; the per-file part (file, app,
meta, labels) is encoded once per file. A batch is sealed when it holds `batch_max_lines`
lines or `batch_max_bytes` bytes, or when its first line has waited `flush_interval`. With the
body it carries its *checkpoints*: the state entries that become true once the node has it.
"""

from __future__ import annotations

import gzip
import json
import time
from dataclasses import dataclass, field
from typing import Any

escape = json.encoder.encode_basestring  # type: ignore[attr-defined]  # the C encoder of a JSON string

Checkpoints = dict[str, "dict[str, Any] | None"]


@dataclass
class Batch:
    body: bytes
    lines: int
    size: int  # bytes of JSON before compression
    gzipped: bool
    checkpoints: Checkpoints = field(default_factory=dict)
    seq: int = 0  # its place in the outbox, given when it is queued
    acked: bool = False  # the node has it; its offsets wait for the batches before it

    def split(self, gzip_level: int) -> list[Batch]:
        """Two halves of a batch the node found too large (413); the checkpoints go with the second."""
        body = gzip.decompress(self.body) if self.gzipped else self.body
        lines = json.loads(body)["lines"]
        middle = len(lines) // 2
        halves = [lines[:middle], lines[middle:]]
        return [
            encode([json.dumps(line) for line in half], gzip_level, self.checkpoints if index else {}, self.seq)
            for index, half in enumerate(halves)
        ]


def encode(fragments: list[str], gzip_level: int, checkpoints: Checkpoints, seq: int = 0) -> Batch:
    raw = ('{"lines":[' + ",".join(fragments) + "]}").encode()
    body = gzip.compress(raw, gzip_level, mtime=0) if gzip_level else raw
    return Batch(body, len(fragments), len(raw), bool(gzip_level), checkpoints, seq)


class Batcher:
    """Collects encoded lines until a batch is due."""

    def __init__(self, max_lines: int, max_bytes: int, flush_interval: float, gzip_level: int) -> None:
        self.max_lines, self.max_bytes, self.flush_interval, self.gzip_level = max_lines, max_bytes, flush_interval, gzip_level
        self.fragments: list[str] = []
        self.size = 0
        self.opened = 0.0

    def add(self, fragment: str) -> None:
        self.extend([fragment])

    def extend(self, fragments: list[str]) -> None:
        if fragments:
            if not self.fragments:
                self.opened = time.monotonic()
            self.fragments.extend(fragments)
            self.size += sum(map(len, fragments)) + len(fragments)

    @property
    def full(self) -> bool:
        return len(self.fragments) >= self.max_lines or self.size >= self.max_bytes

    def due(self, now: float) -> bool:
        return self.full or (bool(self.fragments) and now - self.opened >= self.flush_interval)

    def seal(self, checkpoints: Checkpoints) -> Batch:
        """Everything collected as one batch (the caller keeps it within the limits)."""
        return self.seal_all(checkpoints)[-1]

    def seal_all(self, checkpoints: Checkpoints) -> list[Batch]:
        """Everything collected, cut at the limits. Only the last batch carries the checkpoints:
        an offset may be committed only once every line before it is delivered."""
        chunks: list[list[str]] = [[]]
        size = 0
        for fragment in self.fragments:
            if chunks[-1] and (len(chunks[-1]) >= self.max_lines or size + len(fragment) > self.max_bytes):
                chunks.append([])
                size = 0
            chunks[-1].append(fragment)
            size += len(fragment) + 1
        self.fragments, self.size = [], 0
        return [encode(chunk, self.gzip_level, checkpoints if index == len(chunks) - 1 else {}) for index, chunk in enumerate(chunks)]
