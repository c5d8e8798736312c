"""RELP, rsyslog's Reliable Event Logging Protocol (`omrelp`): syslog with acknowledgements.

A frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`. The client opens a session (`open`,
answered with our offers), sends `syslog` frames, at most its window (omrelp's `windowSize`,
128 by default) ahead of our answers, and `close`s. Each `syslog` frame is answered
`TXNR rsp 6 200 OK` only once its message is in the write-ahead log: the client keeps every
unanswered message and sends it again after a reconnect, so nothing is lost across a restart or
a crash of this node. The price is at-least-once: a message made durable whose answer never
reached the client (the node killed between the fsync and the answer, or the connection broken)
is sent again, and stored twice.

A message refused for its account (accounts.py) is answered 200 as well: librelp treats any
other answer as a broken session and would send the rest of its window again, and sending a
refused message again can never succeed. The refusal is counted in /metrics.

Framing errors end the session (ProtocolError): nothing after a broken frame can be trusted,
and what was not answered is the client's to send again. DATA longer than the message limit is
cut like any syslog message (framing.py), its rest skipped as it arrives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from timberyard import __version__
from timberyard.ingest.syslog.connection import Connection, ProtocolError
from timberyard.ingest.syslog.framing import Frames
from timberyard.ingest.syslog.listener import StreamListener

_HEADER = re.compile(rb"(?P<txnr>[0-9]{1,9}) (?P<command>[a-z]{1,32}) (?P<length>[0-9]{1,9})(?P<after>[ \n])")
# What may be the start of a header, still arriving.
_PARTIAL_HEADER = re.compile(rb"[0-9]{0,9}(?: [a-z]{0,32}(?: [0-9]{0,9})?)?")
_AROUND = b"\r\n\x00"

MAX_IN_FLIGHT = 4  # reads of one session being stored at once
OFFERS = b"200 OK\nrelp_version=0\nrelp_software=timberyard," + __version__.encode() + b"\ncommands=syslog"
SERVER_CLOSE = b"0 serverclose 0\n"


@dataclass(frozen=True)
class RelpFrame:
    txnr: int
    command: str
    data: bytes
    size: int  # DATALEN as sent: more than len(data) when the data was cut


class RelpReader:
    """RELP frames from a byte stream, with bounded memory (pure: the caller feeds it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.frames: list[RelpFrame] = []
        self._buffer = bytearray()
        self._header: tuple[int, str, int] | None = None  # the frame being read
        self._data: bytes | None = None
        self._need = 0
        self._skip = 0

    def take(self) -> list[RelpFrame]:
        frames, self.frames = self.frames, []
        return frames

    def feed(self, data: bytes) -> None:
        self._buffer += data
        consumed = self._drain()
        del self._buffer[:consumed]

    def _drain(self) -> int:
        buffer, position = self._buffer, 0
        while True:
            end = len(buffer)
            if self._header is None:
                header = _HEADER.match(buffer, position)
                if header is None:
                    if _PARTIAL_HEADER.fullmatch(buffer, position) is None:
                        raise ProtocolError(f"not a RELP frame: {bytes(buffer[position:position + 40])!r}")
                    return position
                txnr, command, length = int(header["txnr"]), header["command"].decode(), int(header["length"])
                position = header.end()
                if length == 0:
                    if header["after"] != b"\n":
                        raise ProtocolError(f"RELP frame {txnr}: no data, yet no newline after its length")
                    self.frames.append(RelpFrame(txnr, command, b"", 0))
                    continue
                if header["after"] != b" ":
                    raise ProtocolError(f"RELP frame {txnr}: {length} bytes of data announced, none sent")
                self._header, self._need = (txnr, command, length), min(length, self.max_bytes)
                self._skip = length - self._need
            elif self._need:
                if end - position < self._need:
                    return position
                self._data = bytes(buffer[position : position + self._need])
                position += self._need
                self._need = 0
            elif self._skip:
                skipped = min(self._skip, end - position)
                position += skipped
                self._skip -= skipped
                if self._skip:
                    return position
            else:
                if position == end:
                    return position
                txnr, command, length = self._header
                if buffer[position] != 0x0A:
                    raise ProtocolError(f"RELP frame {txnr} does not end with a newline after its {length} bytes")
                position += 1
                self.frames.append(RelpFrame(txnr, command, self._data or b"", length))
                self._header, self._data = None, None


def response(txnr: int, data: bytes) -> bytes:
    if not data:
        return b"%d rsp 0\n" % txnr
    return b"%d rsp %d %s\n" % (txnr, len(data), data)


class RelpConnection(Connection):
    """A RELP session: up to MAX_IN_FLIGHT reads are stored at once (the client keeps what is
    unanswered, so reading ahead risks nothing), each answered in order once durable."""

    max_in_flight = MAX_IN_FLIGHT

    def __init__(self, listener: StreamListener) -> None:
        super().__init__(listener)
        self.reader = RelpReader(listener.sink.max_message_bytes)

    def feed(self, data: bytes) -> None:
        self.reader.feed(data)

    def take(self) -> list[RelpFrame] | None:
        return self.reader.take() or None

    async def store(self, taken: list[RelpFrame]) -> None:
        messages = [frame for frame in taken if frame.command == "syslog"]
        if messages:
            frames = Frames([frame.data.strip(_AROUND) for frame in messages])
            frames.truncated = {index: frame.size for index, frame in enumerate(messages) if frame.size > len(frame.data)}
            await self.sink.store(frames, self.peer, self.origin)

    def answer(self, taken: list[RelpFrame]) -> None:
        assert self.transport is not None
        self.transport.write(b"".join(self._answer(frame) for frame in taken))

    def _answer(self, frame: RelpFrame) -> bytes:
        if frame.command == "syslog":
            return response(frame.txnr, b"200 OK")
        if frame.command == "open":
            return response(frame.txnr, OFFERS)
        if frame.command == "close":
            self.ended = True  # closed once everything before it is answered
            return response(frame.txnr, b"")
        return response(frame.txnr, b"500 unknown command " + frame.command.encode())

    def goodbye(self) -> None:
        assert self.transport is not None
        self.transport.write(SERVER_CLOSE)
