"""Everything between one file's bytes and the batch: container decoding, multiline joining,
line rules and the JSON each line is sent as.

It also answers the question the state file needs: up to which offset is every line of this
file either in a sealed batch or deliberately dropped (`safe_offset`)? Lines held back — a
partial last line, a stack trace still being written, a container line's first pieces — keep
the offset at their start, so a crash makes them read again rather than lost.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from timberyard.agent.batch import escape
from timberyard.agent.kubernetes import ContainerDecoder, PodMetadata
from timberyard.agent.metrics import Metrics
from timberyard.agent.multiline import Joiner, Record
from timberyard.agent.reader import FileReader
from timberyard.agent.rules import LineRules


@dataclass
class Source:
    """How the lines of one watched path are reported."""

    file: str  # sent as the line's `file`
    app: str
    multiline: str = "auto"
    meta: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    container: dict[str, str] | None = None  # namespace, pod, container of a container log

    def suffix(self, extra: dict[str, Any] | None = None) -> str:
        """The per-file end of each line's JSON object: `,"file":...,"app":...}`."""
        fields: dict[str, Any] = {"file": self.file, "app": self.app}
        if self.meta:
            fields["meta"] = self.meta
        if self.tags:
            fields["tags"] = self.tags
        fields.update(extra or {})
        return "," + json.dumps(fields, separators=(",", ":"), default=str)[1:]


class FileStream:
    def __init__(self, reader: FileReader, source: Source, *, rules: LineRules, metrics: Metrics, multiline_timeout: float,
                 metadata: PodMetadata | None = None) -> None:
        self.reader = reader
        self.source = source
        self.rules = rules
        self.metrics = metrics
        self.metadata = metadata if source.container else None
        self.decoder = ContainerDecoder(reader.max_line_bytes) if source.container else None
        self._joiner_args = (source.multiline, multiline_timeout, reader.max_line_bytes)
        self.joiners: dict[str, Joiner] = {}
        self._suffix = source.suffix()
        self._labelled = self.metadata is None
        self.checkpointed = -1  # the offset last put in a checkpoint
        self.watched = reader.path  # the watched path (the reported one may be canonical)
        self.directory = ""  # where the file really is (rotated copies land there)
        self.closed_check = ""  # the check hash at the offset, kept when the descriptor is closed while idle

    @property
    def safe_offset(self) -> int:
        offset = self.reader.consumed
        if self.decoder is not None and (held := self.decoder.held_from) is not None:
            offset = min(offset, held)
        for joiner in self.joiners.values():
            if (held := joiner.held_from) is not None:
                offset = min(offset, held)
        return offset

    @property
    def holding(self) -> bool:
        return self.safe_offset < self.reader.pos or self.reader.holding

    def ready(self, now: float) -> bool:
        """Container logs wait (up to 2 s) for their pod's labels before their first read."""
        if self._labelled or self.source.container is None or self.metadata is None:
            return True
        origin = self.source.container
        if not self.metadata.ready(origin["namespace"], origin["pod"], now):
            return False
        found = self.metadata.get(origin["namespace"], origin["pod"])
        if found:
            self._suffix = self.source.suffix(found)
        self._labelled = True
        return True

    def pump(self, out: list[str], limit: int, now: float) -> int:
        """Read up to about `limit` bytes; encoded lines are appended to `out`. Returns bytes read."""
        before = self.reader.bytes_read
        lines = self.reader.read(limit, now)
        cut = self.reader.truncation
        if cut is not None and cut.lines:
            self._feed(lines[: cut.lines], out, now)
            lines = lines[cut.lines:]
        if cut is not None:
            self.finish(out)
        self._feed(lines, out, now)
        read = self.reader.bytes_read - before
        self.metrics.add(bytes_read=read, lines_read=len(lines), lines_truncated=self._take_truncated())
        return read

    def _feed(self, lines: list[tuple[bytes, int]], out: list[str], now: float) -> None:
        records: list[Record] = []
        if self.decoder is None:
            joiner = self._joiner("")
            for raw, start in lines:
                if raw[:1] == b"\x00":  # a copytruncate'd file written without O_APPEND starts with a hole
                    raw = raw.lstrip(b"\x00")
                joiner.feed(raw.decode("utf-8", "replace"), start, None, now, records)
        else:
            decoded: list[tuple[str, int, int | None, str]] = []
            for raw, start in lines:
                self.decoder.feed(raw, start, decoded)
            for text, start, ts, stream in decoded:
                self._joiner(stream).feed(text, start, ts, now, records)
        self._encode(records, out)

    def _joiner(self, stream: str) -> Joiner:
        joiner = self.joiners.get(stream)
        if joiner is None:
            joiner = self.joiners[stream] = Joiner(*self._joiner_args)
        return joiner

    def _encode(self, records: list[Record], out: list[str]) -> None:
        if not records:
            return
        now_ms = int(time.time() * 1000)
        suffix, rules = self._suffix, self.rules
        excluded = 0
        for text, _, ts in records:
            if rules.active:
                kept = rules.apply(text)
                if kept is None:
                    excluded += 1
                    continue
                text = kept
            out.append(f'{{"line":{escape(text)},"timestamp":{ts or now_ms}{suffix}')
        if excluded:
            self.metrics.add(lines_excluded=excluded)

    def flush_due(self, out: list[str], now: float) -> None:
        """Hand out what waited long enough: a partial last line, a finished-looking record."""
        partial = self.reader.flush_partial(now)
        if partial is not None:
            self._feed([partial], out, now)
        records: list[Record] = []
        for joiner in self.joiners.values():
            if joiner.due(now):
                joiner.emit(records)
        self._encode(records, out)

    def finish(self, out: list[str]) -> None:
        """Hand out everything held: the file is done (rotated away, deleted) or starts over."""
        partial = self.reader.flush_partial(0, force=True)
        if partial is not None:
            self._feed([partial], out, time.monotonic())
        records: list[Record] = []
        if self.decoder is not None:
            for text, start, stream in self.decoder.drain():
                self._joiner(stream).feed(text, start, None, 0.0, records)
        for joiner in self.joiners.values():
            joiner.emit(records)
        self._encode(records, out)

    def _take_truncated(self) -> int:
        count, self.reader.truncated_lines = self.reader.truncated_lines, 0
        return count
