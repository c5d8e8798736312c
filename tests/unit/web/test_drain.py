"""The rest of a request body is read before an early answer (web/drain.py), within a bound."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from timberyard.web.drain import DISCARD_BYTES, DrainBody

CHUNK = b"x" * 65536


async def refuse_at_once(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 413, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def run(headers: list[tuple[bytes, bytes]], chunks: int) -> list[str]:
    """What happened, in order: 'read' per body chunk taken from the client, then the answer."""
    events: list[str] = []
    left = chunks

    async def receive() -> Message:
        nonlocal left
        left -= 1
        events.append("read")
        return {"type": "http.request", "body": CHUNK, "more_body": left > 0}

    async def send(message: Message) -> None:
        events.append(message["type"])

    scope = {"type": "http", "method": "POST", "path": "/logs/ingest", "headers": headers}
    asyncio.run(DrainBody(refuse_at_once)(scope, receive, send))
    return events


def test_the_body_is_read_before_the_answer() -> None:
    events = run([(b"content-length", str(5 * len(CHUNK)).encode())], chunks=5)
    assert events == ["read"] * 5 + ["http.response.start", "http.response.body"]


def test_reading_stops_at_the_bound() -> None:
    events = run([(b"transfer-encoding", b"chunked")], chunks=10**6)
    assert events.count("read") == DISCARD_BYTES // len(CHUNK) + 1
    assert events[-2:] == ["http.response.start", "http.response.body"]


def test_no_body_and_expect_continue_are_answered_at_once() -> None:
    assert run([], chunks=1) == ["http.response.start", "http.response.body"]
    expect = [(b"content-length", b"1000"), (b"expect", b"100-continue")]
    assert run(expect, chunks=1) == ["http.response.start", "http.response.body"]
