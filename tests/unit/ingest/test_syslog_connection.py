"""The life of a syslog connection (ingest.syslog.connection, stream, relp) on a real socket with
a stand-in for the pipeline: nothing more is read while a read is being stored, RELP answers
only what was stored, idle and surplus connections are closed, and shutdown stores what was read."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from timberyard.core.metrics import Metrics
from timberyard.ingest.syslog import connection, listener
from timberyard.ingest.syslog.decode import Decoded, Origin
from timberyard.ingest.syslog.framing import Frames
from timberyard.ingest.syslog.listener import ListenerOptions, StreamListener
from timberyard.ingest.syslog.relp import RelpConnection
from timberyard.ingest.syslog.stats import SyslogStats
from timberyard.ingest.syslog.stream import SyslogConnection


class Sink:
    """Stores nothing; remembers what it was given, and holds each store until `gate` opens."""

    max_message_bytes = 4096

    def __init__(self) -> None:
        self.stats = SyslogStats(Metrics(), ["syslog-tcp", "relp"])
        self.stored: list[bytes] = []
        self.calls = 0
        self.storing = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def store(self, frames: Frames, peers: Any, origin: Origin) -> Decoded:
        self.calls += 1
        self.storing += 1
        await self.gate.wait()
        self.storing -= 1
        self.stored.extend(frames.messages)
        return Decoded(messages=len(frames))


Scenario = Callable[[StreamListener, Sink, int], Awaitable[None]]


def run(scenario: Scenario, kind: type = SyslogConnection, **options: Any) -> None:
    async def main() -> None:
        sink = Sink()
        settings = {"idle_timeout_s": 600, "max_connections": 100, **options}
        listener = StreamListener(sink, ListenerOptions("syslog-tcp", "127.0.0.1", 0, default_account="a", **settings), kind)  # type: ignore[arg-type]
        await listener.start()
        assert listener.server is not None
        port = listener.server.sockets[0].getsockname()[1]
        try:
            await scenario(listener, sink, port)
        finally:
            await listener.stop()

    asyncio.run(main())


async def eventually(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def closed(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


def counted(index: int) -> bytes:
    message = b"<13>1 2025-06-14T11:59:59Z web01 app - - - message %08d " % index + b"x" * 100
    return b"%d %s" % (len(message), message)


def test_nothing_more_is_read_while_a_read_is_being_stored() -> None:
    async def scenario(listener: StreamListener, sink: Sink, port: int) -> None:
        sink.gate.clear()
        data = b"".join(counted(index) for index in range(100_000))  # 14 MB: more than the socket buffers hold
        sent = threading.Event()

        def send() -> None:
            with socket.create_connection(("127.0.0.1", port)) as client:
                client.sendall(data)
            sent.set()

        thread = threading.Thread(target=send)
        thread.start()
        await eventually(lambda: sink.calls == 1)
        await asyncio.sleep(0.5)
        assert sink.calls == 1 and sink.storing == 1  # one store at a time, and no reading meanwhile
        (peer,) = listener.connections
        assert peer.unstored_bytes <= connection.MAX_READ_BYTES + 256 * 1024
        assert not sent.is_set(), "the sender should be held back by TCP"
        sink.gate.set()
        await eventually(lambda: len(sink.stored) == 100_000, timeout=30)
        thread.join()
        assert sink.stored == [counted(index).split(b" ", 1)[1] for index in range(100_000)]

    run(scenario)


def test_relp_answers_each_message_only_once_it_is_stored() -> None:
    async def scenario(listener: StreamListener, sink: Sink, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        offer = b"relp_version=0\nrelp_software=test\ncommands=syslog"
        writer.write(b"1 open %d %s\n" % (len(offer), offer))
        assert (await reader.readline()).startswith(b"1 rsp ")
        while not (await reader.readline()).startswith(b"commands=syslog"):
            pass
        sink.gate.clear()
        writer.write(b"2 syslog 5 hello\n3 syslog 5 world\n")
        await writer.drain()
        await eventually(lambda: sink.storing == 1)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.readline(), 0.5)
        sink.gate.set()
        assert [await reader.readline(), await reader.readline()] == [b"2 rsp 6 200 OK\n", b"3 rsp 6 200 OK\n"]
        writer.write(b"4 close 0\n")
        assert await reader.readline() == b"4 rsp 0\n"
        assert await reader.read() == b""  # and the node closes the session
        assert sink.stored == [b"hello", b"world"]
        await closed(writer)

    run(scenario, kind=RelpConnection)


def test_relp_garbage_ends_the_session_unanswered() -> None:
    async def scenario(listener: StreamListener, sink: Sink, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert sink.stats.metrics.value("timberyard_syslog_disconnects_total", ingester="syslog-tcp", reason="protocol_error") == 1
        await closed(writer)

    run(scenario, kind=RelpConnection)


def test_shutdown_stores_what_was_read_then_relp_says_serverclose() -> None:
    async def scenario(listener: StreamListener, sink: Sink, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sink.gate.clear()
        writer.write(b"1 syslog 4 last\n")
        await eventually(lambda: sink.storing == 1)
        stopping = asyncio.ensure_future(listener.stop())
        await asyncio.sleep(0.2)
        assert not stopping.done()  # waiting for the store
        sink.gate.set()
        await stopping
        assert sink.stored == [b"last"]
        assert await reader.read() == b"1 rsp 6 200 OK\n0 serverclose 0\n"
        await closed(writer)

    run(scenario, kind=RelpConnection)


def test_idle_connections_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener, "SWEEP_S", 0.1)

    async def scenario(listener: StreamListener, sink: Sink, port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"<13>partial message with no end")
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert 1 <= time.monotonic() - started < 3
        assert sink.stats.metrics.value("timberyard_syslog_disconnects_total", ingester="syslog-tcp", reason="idle") == 1
        await closed(writer)

    run(scenario, idle_timeout_s=1)


def test_connections_beyond_the_limit_are_refused() -> None:
    async def scenario(listener: StreamListener, sink: Sink, port: int) -> None:
        first = await asyncio.open_connection("127.0.0.1", port)
        second = await asyncio.open_connection("127.0.0.1", port)
        await eventually(lambda: len(listener.connections) == 2)
        reader, third = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert len(listener.connections) == 2
        for _, writer in (first, second, (reader, third)):
            await closed(writer)

    run(scenario, max_connections=2)


def test_a_sender_that_closes_has_its_last_unterminated_line_stored() -> None:
    async def scenario(listener: StreamListener, sink: Sink, port: int) -> None:
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"<13>first\n<13>second without a newline")
        await eventually(lambda: len(sink.stored) == 2)
        assert sink.stored == [b"<13>first", b"<13>second without a newline"]

    run(scenario)


def test_relp_stores_ahead_but_answers_in_order() -> None:
    """A session's next read is stored while the last one still is; answers keep their order
    even when the later store finishes first."""

    async def scenario(listener: StreamListener, sink: Sink, port: int) -> None:
        gates: list[asyncio.Event] = []

        async def store(frames: Frames, peers: Any, origin: Origin) -> Decoded:
            gate = asyncio.Event()
            gates.append(gate)
            await gate.wait()
            sink.stored.extend(frames.messages)
            return Decoded(messages=len(frames))

        sink.store = store  # type: ignore[method-assign]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"1 syslog 5 first\n")
        await eventually(lambda: len(gates) == 1)
        writer.write(b"2 syslog 6 second\n")
        await eventually(lambda: len(gates) == 2)  # read and being stored while the first is too
        gates[1].set()
        await asyncio.sleep(0.2)
        assert sink.stored == [b"second"]
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(reader.readline(), 0.3)  # not before the first is answered
        gates[0].set()
        assert [await reader.readline(), await reader.readline()] == [b"1 rsp 6 200 OK\n", b"2 rsp 6 200 OK\n"]
        await closed(writer)

    run(scenario, kind=RelpConnection)
