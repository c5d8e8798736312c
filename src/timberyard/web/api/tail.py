"""Live tail: GET /api/v1/tail (Server-Sent Events) and /ws/tail (WebSocket).

Both stream the caller's account's lines that match `q` as they become durable, typically
well under a second after the ingest request's 200. A client that cannot keep up is sent an
error (`"code": "TooSlow"`) and disconnected; a tail whose key is revoked, whose user is
disabled or signed out, or whose scope changes ends with `AccessEnded`; at shutdown every
stream ends with `ShuttingDown`. A key or user may hold `tail_max_per_principal` open tails.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from timberyard.core.errors import TimberyardError
from timberyard.ingest.tail import Subscription, TailEnded
from timberyard.search import parse
from timberyard.search.to_arrow import compile_filter
from timberyard.web.access import access_check, audit, authorize, declares
from timberyard.web.api.lines import line_object

KEEP_ALIVE_S = 15
SOCKET_POLL_S = 1  # how soon a WebSocket handler notices its client has gone


async def _subscribe(connection: Request | WebSocket) -> Subscription:
    """Check the caller (`logs.read`), audit the tail, and subscribe within their scope."""
    principal = await authorize(connection, "logs.read")
    query = connection.query_params.get("q", "")
    matches = compile_filter(principal.restrict(parse(query)))
    hub = connection.app.state.node.tail
    subscription = hub.subscribe(
        principal.account_id,
        f"{principal.actor_type}:{principal.actor_id}",
        matches,
        access_check(connection, principal, "logs.read"),
    )
    try:
        await audit(connection, principal, "tail", query=query)
    except BaseException:
        hub.unsubscribe(subscription)
        raise
    return subscription


@declares("logs.read")  # checked in _subscribe, which WebSockets share
async def tail_events(request: Request) -> StreamingResponse:
    subscription = await _subscribe(request)
    hub = request.app.state.node.tail

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                try:
                    lines = await subscription.next_lines(KEEP_ALIVE_S)
                except TailEnded as exc:
                    yield b"event: error\ndata: " + orjson.dumps(exc.to_dict()) + b"\n\n"
                    return
                if lines is None:
                    yield b": keep-alive\n\n"
                    continue
                yield b"".join(b"data: " + orjson.dumps(line_object(row)) + b"\n\n" for row in lines)
        finally:
            hub.unsubscribe(subscription)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@declares("logs.read")
async def tail_socket(websocket: WebSocket) -> None:
    try:
        subscription = await _subscribe(websocket)
    except TimberyardError as exc:
        await websocket.close(code=1008, reason=exc.message[:120])
        return
    hub = websocket.app.state.node.tail
    await websocket.accept()
    closed = asyncio.create_task(_closed_by_client(websocket))
    try:
        while not closed.done():
            try:
                lines = await subscription.next_lines(SOCKET_POLL_S)
            except TailEnded as exc:
                await websocket.send_bytes(orjson.dumps(exc.to_dict()))
                await websocket.close(code=_CLOSE_CODES.get(exc.code, 1001), reason=exc.code)
                return
            if lines is not None:
                await websocket.send_bytes(orjson.dumps({"lines": [line_object(row) for row in lines]}))
    except WebSocketDisconnect:
        pass
    finally:
        closed.cancel()
        hub.unsubscribe(subscription)


async def _closed_by_client(websocket: WebSocket) -> None:
    """Tail clients send nothing; a receive returns only when the client goes away."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


# WebSocket close codes (RFC 6455 7.4.1): try again later, policy violation, going away.
_CLOSE_CODES = {"TooSlow": 1013, "AccessEnded": 1008, "ShuttingDown": 1001}

routes = [
    Route("/api/v1/tail", tail_events, methods=["GET"]),
    WebSocketRoute("/ws/tail", tail_socket),
]
