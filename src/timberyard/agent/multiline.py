"""Multiline joining: a stack trace is one log entry, not forty.

`auto` knows the shapes programs print:
- Java: indented `at ...` frames, `... 12 more`, `Caused by:` and `Suppressed:`;
- Python: `Traceback (most recent call last):` (usually right after the logged message), the
  indented `File ...` lines, the unindented exception line that ends it, and chained
  tracebacks ("During handling of the above exception ...");
- Go: `panic:`, blank lines, `goroutine N [running]:`, unindented function lines and the
  indented file lines under them.
A configured regex instead names the first line of a record: every line that does not match
it continues the record before it (Filebeat's `negate: true, match: after`).

A record is held until the next record starts or `multiline_timeout` passes without a new
line, so the last entry of a burst waits at most that long. Blank lines never make records of
their own; inside a trace they are kept when the trace continues after them.
"""

from __future__ import annotations

import re

CONTINUES = re.compile(
    r"(?:Caused by: |Suppressed: |Exception in thread |Traceback \(most recent call last\):|During handling of the above exception"
    r"|The above exception was the direct cause|goroutine \d+ \[|\[signal |created by "
    r"|(?:[a-z][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Throwable)\b)"  # java.lang.IllegalStateException: ...
)
GO_START = re.compile(r"(?:panic: |fatal error: |goroutine \d+ \[)")
GO_FRAME = re.compile(r"[\w.\-/()*\[\]]+\(.*\)$")
PY_EXCEPTION = re.compile(r"[A-Za-z_][\w.]*(?::|$)")
MAX_LINES = 1000

Record = tuple[str, int, "int | None"]  # text, start offset of its first line, timestamp (ms) or None


class Joiner:
    def __init__(self, mode: str, timeout: float, max_bytes: int) -> None:
        self.start = None if mode in ("auto", "off") else re.compile(mode)
        self.off = mode == "off"
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._lines: list[str] = []
        self._blanks = 0
        self._size = 0
        self._first: tuple[int, int | None] = (0, None)
        self._last = 0.0
        self._traceback = False  # inside a Python traceback's indented frames
        self._go = False  # inside a Go panic or goroutine dump
        self._was_indented = False

    @property
    def held_from(self) -> int | None:
        """Start offset of the record being held, if any."""
        return self._first[0] if self._lines else None

    def feed(self, text: str, start: int, ts: int | None, now: float, out: list[Record]) -> None:
        """Add a line; complete records are appended to `out`."""
        if self.off:
            if text.strip():
                out.append((text, start, ts))
            return
        if not text.strip():
            if self._lines:
                self._blanks += 1
            return
        if self._lines and self._continues(text) and len(self._lines) < MAX_LINES:
            if self._blanks:
                self._lines.extend([""] * self._blanks)
                self._blanks = 0
            if self._size < self.max_bytes:
                self._lines.append(text)
                self._size += len(text) + 1
            self._last = now
            return
        self.emit(out)
        self._lines, self._size, self._first, self._last = [text], len(text), (start, ts), now
        self._go = GO_START.match(text) is not None
        self._traceback = text.startswith("Traceback ")
        self._was_indented = False

    def _continues(self, text: str) -> bool:
        if self.start is not None:
            return self.start.search(text) is None
        indented = text[0] in " \t"
        was_indented, self._was_indented = self._was_indented, indented
        if indented:
            return True
        if CONTINUES.match(text):
            if text.startswith("Traceback "):
                self._traceback = True
            elif GO_START.match(text):
                self._go = True
            return True
        if self._traceback and was_indented and PY_EXCEPTION.match(text):
            self._traceback = False  # the exception line ends the traceback
            return True
        return self._go and GO_FRAME.match(text) is not None

    def due(self, now: float) -> bool:
        return bool(self._lines) and now - self._last >= self.timeout

    def emit(self, out: list[Record]) -> None:
        """Hand out the held record (at a timeout, a truncation, or the end)."""
        if self._lines:
            text = "\n".join(self._lines)
            if len(text) > self.max_bytes:
                text = text[: self.max_bytes]
            out.append((text, self._first[0], self._first[1]))
            self._lines, self._blanks, self._size = [], 0, 0
