"""Security headers (web.headers) on the real application: every response, HSTS only over HTTPS,
no-store on the API, a route's own headers win, errors included, and streams keep streaming."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import Message

from timberyard.web.app import TimberyardApp, build_app
from timberyard.web.errors import EXCEPTION_HANDLERS
from timberyard.web.headers import SecurityHeaders

# Pinned here as literals, not imported from web.headers: a change to the policy must change a test.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
EXPECTED = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}
HSTS = "max-age=31536000; includeSubDomains"


async def get(app: object, url: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.get(url)


def test_every_response_carries_the_security_headers_and_hsts_only_over_https() -> None:
    app = build_app(node=None)
    plain = asyncio.run(get(app, "http://node/healthz"))
    secure = asyncio.run(get(app, "https://node/healthz"))
    missing = asyncio.run(get(app, "http://node/no-such-page"))
    for response in (plain, secure, missing):
        assert {name: response.headers.get(name) for name in EXPECTED} == EXPECTED
    assert plain.status_code == 200 and missing.status_code == 404
    assert "strict-transport-security" not in plain.headers
    assert secure.headers["strict-transport-security"] == HSTS


def test_api_answers_are_not_cached_and_others_are_left_alone() -> None:
    app = build_app(node=None)
    api = asyncio.run(get(app, "http://node/api/v1/keys"))  # refused without a key, still an API answer
    assert api.status_code == 401
    assert api.headers["cache-control"] == "no-store"
    assert "cache-control" not in asyncio.run(get(app, "http://node/healthz")).headers


def test_a_routes_own_headers_win() -> None:
    async def cached(request: Request) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Cache-Control": "max-age=60", "X-Frame-Options": "SAMEORIGIN"})

    app = TimberyardApp(routes=[Route("/api/static", cached)])
    response = asyncio.run(get(app, "http://node/api/static"))
    assert response.headers["cache-control"] == "max-age=60"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_an_unexpected_error_answer_carries_the_headers(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(request: Request) -> JSONResponse:
        raise RuntimeError("bug")

    app = TimberyardApp(routes=[Route("/api/broken", broken)], exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]
    with caplog.at_level(logging.CRITICAL):
        response = asyncio.run(get(app, "https://node/api/broken"))
    assert response.status_code == 500 and response.json()["code"] == "InternalError"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["strict-transport-security"] == HSTS
    assert response.headers["cache-control"] == "no-store"


def test_a_streaming_response_is_passed_on_chunk_by_chunk() -> None:
    """The second chunk is produced only after the first has reached the client: a middleware
    that buffered the body would never let it through (the test would time out)."""
    first_delivered = asyncio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        yield b"data: one\n\n"
        await first_delivered.wait()
        yield b"data: two\n\n"

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/event-stream")

    app = TimberyardApp(routes=[Route("/api/v1/tail", stream)])
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(3600)  # the client never hangs up during this test
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if message.get("body") == b"data: one\n\n":
            first_delivered.set()

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/api/v1/tail", "raw_path": b"/api/v1/tail", "query_string": b"", "headers": [],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 7080), "root_path": "",
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=10))
    bodies = [m.get("body") for m in sent if m["type"] == "http.response.body"]
    assert bodies[:2] == [b"data: one\n\n", b"data: two\n\n"]
    start = dict(sent[0]["headers"])
    assert start[b"x-content-type-options"] == b"nosniff" and start[b"cache-control"] == b"no-store"


def test_websockets_pass_through_untouched() -> None:
    seen: list[Message] = []

    async def inner(scope: dict, receive: object, send: object) -> None:
        seen.append({"type": scope["type"], "same_send": send is sink})

    async def sink(message: Message) -> None:
        raise AssertionError("nothing is sent")

    asyncio.run(SecurityHeaders(inner)({"type": "websocket", "path": "/ws/tail"}, None, sink))  # type: ignore[arg-type]
    assert seen == [{"type": "websocket", "same_send": True}]
