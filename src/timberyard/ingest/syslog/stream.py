"""Plain syslog over TCP and TLS (RFC 6587, RFC 5425): framed messages in, nothing back.

The protocol has no acknowledgement, so what it can promise is what connection.py gives it: a
message read is durable before more is read, and a slow store slows the sender. What it cannot
promise is delivery across a restart of this node: messages the sender had written into its
socket but this node had not read are lost with the connection (RELP, relp.py, exists for that).
"""

from __future__ import annotations

from timberyard.ingest.syslog.connection import Connection
from timberyard.ingest.syslog.framing import Frames, StreamFramer
from timberyard.ingest.syslog.listener import StreamListener


class SyslogConnection(Connection):
    def __init__(self, listener: StreamListener) -> None:
        super().__init__(listener)
        self.framer = StreamFramer(listener.sink.max_message_bytes)

    def feed(self, data: bytes) -> None:
        self.framer.feed(data)

    def take(self) -> Frames | None:
        return self.framer.take() if self.framer.ready else None

    async def store(self, taken: Frames) -> None:
        await self.sink.store(taken, self.peer, self.origin)

    def at_eof(self) -> None:
        self.framer.finish()
