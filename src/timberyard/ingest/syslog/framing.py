"""Syslog over a byte stream (TCP, TLS, an HTTP body): where one message ends and the next begins.

RFC 6587 allows two framings and senders do not announce which they use, so the first message
of a stream decides: a count of digits and a space (`73 <34>1 ...`, RFC 5425's octet counting;
the count excludes that space) makes the stream octet-counted, anything else newline-separated
("non-transparent framing": `<34>...\\n`, as most appliances and `logger --tcp` send it).

Nothing read is dropped silently, and memory stays bounded however the peer behaves:
- a message longer than `max_bytes` keeps its first `max_bytes`; the rest is skipped as it
  arrives, never buffered, and the message is reported truncated with its size as sent;
- an octet-counted stream that sends something that is not a count (a sender out of step, or
  garbage) has the bytes up to the next newline kept as one message and a framing error
  counted; counting then resumes;
- a byte-at-a-time sender costs a constant amount of work per byte: a newline is searched for
  from where the last search stopped, and consumed bytes are released once per `feed`.
Line ends and NULs around a message are not part of it. Pure: no I/O; the caller feeds it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_COUNT_DIGITS = 9  # RFC 6587: MSG-LEN is a NONZERO-DIGIT and at most 8 more
_AROUND = b"\r\n\x00"  # not part of a message: line ends, and the NUL some devices end one with
_SPACE, _ZERO, _NINE = 0x20, 0x30, 0x39
# A count at the start of a message (after any line ends a sender put between messages); a
# match without the space is a count cut off by the end of what has arrived so far.
_COUNT = re.compile(rb"[\r\n\x00]*+(?:(?P<count>[1-9][0-9]{0,8})(?P<space> )|[1-9][0-9]{0,8}\Z|\Z)")
_AROUND_RUN = re.compile(rb"[\r\n\x00]*+")


@dataclass
class Frames:
    """Complete messages in order; `truncated` maps the position of each one cut short to its
    size as sent."""

    messages: list[bytes] = field(default_factory=list)
    truncated: dict[int, int] = field(default_factory=dict)
    framing_errors: int = 0

    def __len__(self) -> int:
        return len(self.messages)


class StreamFramer:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.octet_counting: bool | None = None  # decided by the first message
        self._buffer = bytearray()  # bytes not yet consumed
        self._scanned = 0  # the buffer has no newline before this offset
        self._size = 0  # the current message's size as sent (so far, for a line)
        self._need = 0  # octet counting: its bytes still to come into the buffer
        self._skip = 0  # octet counting: its bytes beyond max_bytes still to skip
        self._in_line = False  # octet counting: reading a message that had no count, up to a newline
        self._kept: bytes | None = None  # the first max_bytes of a message whose rest is skipped
        self._frames = Frames()

    @property
    def ready(self) -> int:
        """Complete messages waiting to be taken."""
        return len(self._frames.messages)

    def take(self) -> Frames:
        frames, self._frames = self._frames, Frames()
        return frames

    def feed(self, data: bytes) -> None:
        self._buffer += data
        if self.octet_counting is None and not self._decide():
            return
        consumed = self._drain()
        if consumed:
            del self._buffer[:consumed]
            self._scanned = max(self._scanned - consumed, 0)

    def finish(self) -> None:
        """The stream ended: what is left of a message is that message (cut short, if it was
        counted and did not arrive whole)."""
        rest = bytes(self._buffer)
        if self._kept is not None:
            self._emit(self._kept, max(self._size, len(self._kept)))
        elif self._need or self._skip:
            self._emit(rest, self._size)
        elif rest.strip(_AROUND):
            if self.octet_counting and not self._in_line:
                self._frames.framing_errors += 1  # a count and nothing after it
            self._emit_line(rest)
        self._buffer.clear()
        self._kept, self._need, self._skip, self._scanned, self._in_line = None, 0, 0, 0, False

    def _decide(self) -> bool:
        """Whether the first bytes tell the framing yet; decided as soon as they can."""
        start = self._buffer.lstrip(_AROUND)
        digits = 0
        while digits < len(start) and digits <= MAX_COUNT_DIGITS and _ZERO <= start[digits] <= _NINE:
            digits += 1
        if digits == len(start) and digits <= MAX_COUNT_DIGITS:
            return False  # nothing yet, or only digits: a count, or the start of a line
        self.octet_counting = 0 < digits <= MAX_COUNT_DIGITS and start[0] != _ZERO and start[digits] == _SPACE
        return True

    def _drain(self) -> int:
        """Consume what the buffer holds; returns how many bytes were consumed."""
        buffer, position = self._buffer, 0
        while True:
            end = len(buffer)
            if self._need:
                if end - position < self._need:
                    return position
                body = bytes(buffer[position : position + self._need])
                position += self._need
                self._need = 0
                if self._skip:
                    self._kept = body
                else:
                    self._emit(body, self._size)
            elif self._skip:
                skipped = min(self._skip, end - position)
                position += skipped
                self._skip -= skipped
                if self._skip:
                    return position
                self._emit(self._kept or b"", self._size)
                self._kept = None
            elif self._in_line or not self.octet_counting:
                after = self._line(position)
                if after is None:
                    return end if self._kept is not None else position
                position = after
            else:
                position = self._counted_run(position)
                after = self._count(position)
                if after is None:
                    return position
                position = after

    def _counted_run(self, position: int) -> int:
        """The usual octet-counted stream, fast: whole messages of a plain count and a space,
        back to back, taken in one loop; anything else (line ends between messages, a message
        still arriving or too long, not a count) is left to the general path at the position
        returned."""
        buffer, end, limit = self._buffer, len(self._buffer), self.max_bytes
        messages = self._frames.messages
        while position < end:
            space = buffer.find(b" ", position, position + MAX_COUNT_DIGITS + 1)
            if space <= position or buffer[position] == _ZERO or not buffer[position:space].isdigit():
                return position
            size = int(buffer[position:space])
            stop = space + 1 + size
            if size > limit or stop > end:
                return position
            messages.append(bytes(buffer[space + 1 : stop]).strip(_AROUND))
            position = stop
        return position

    def _count(self, position: int) -> int | None:
        """Read `MSG-LEN SP` at `position`: where the message starts, or None until more bytes
        arrive. Not a count: a framing error, and the bytes up to a newline are one message."""
        found = _COUNT.match(self._buffer, position)
        if found is None:
            self._frames.framing_errors += 1
            self._in_line = True
            return _AROUND_RUN.match(self._buffer, position).end()  # type: ignore[union-attr]
        if found["space"] is None:
            return None  # the count is still arriving (or nothing is)
        self._size = int(found["count"])
        self._need = min(self._size, self.max_bytes)
        self._skip = self._size - self._need
        return found.end()

    def _line(self, position: int) -> int | None:
        """Read a message that ends at a newline: where the next one starts, or None until more
        bytes arrive (with the start of an over-long line kept and the rest skipped)."""
        buffer, end = self._buffer, len(self._buffer)
        if self._kept is not None:
            newline = buffer.find(b"\n", position)
            if newline < 0:
                self._size += end - position
                return None
            self._size += newline - position
            self._emit(self._kept, self._size)
            self._kept, self._in_line = None, False
            return newline + 1
        newline = buffer.find(b"\n", max(position, self._scanned))
        if newline < 0:
            if end - position > self.max_bytes:
                self._kept = bytes(buffer[position : position + self.max_bytes])
                self._size = end - position
            self._scanned = end
            return None
        self._emit_line(buffer[position:newline])
        self._in_line = False
        self._scanned = newline + 1
        return newline + 1

    def _emit_line(self, line: bytes | bytearray) -> None:
        if len(line) > self.max_bytes:
            self._emit(bytes(line[: self.max_bytes]), len(line))
        elif line.strip(_AROUND):
            self._emit(bytes(line), len(line))

    def _emit(self, message: bytes, size: int) -> None:
        if size > len(message):
            self._frames.truncated[len(self._frames.messages)] = size
        self._frames.messages.append(message.strip(_AROUND))
