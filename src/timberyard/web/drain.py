"""Reading what is left of a request body before answering, so an early answer is readable.

Python's urllib and requests send the whole body before reading anything, and urllib asks for
`Connection: close`. When the node answers early (413 over max_body_bytes, 401, 503) and then
closes with the rest of the body unread in its socket, the kernel resets the connection and
the client sees "connection reset" instead of the answer. So before an answer starts, the rest
of the body is read and thrown away, up to DISCARD_BYTES (a slow sender is cut off by
http_body_timeout_s meanwhile); past that the connection is closed as before. A client that
sent `Expect: 100-continue` has not sent its body yet and is answered at once.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DISCARD_BYTES = 64 * 1024 * 1024


class DrainBody:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = False
        ended = not _has_body(scope)

        async def tracked_receive() -> Message:
            nonlocal received, ended
            received = True
            message = await receive()
            ended = message["type"] == "http.disconnect" or not message.get("more_body", False)
            return message

        async def send_after_body(message: Message) -> None:
            if message["type"] == "http.response.start" and not ended and (received or not _expects_continue(scope)):
                discarded = 0
                while not ended and discarded <= DISCARD_BYTES:
                    discarded += len((await tracked_receive()).get("body", b""))
            await send(message)

        await self.app(scope, tracked_receive, send_after_body)


def _has_body(scope: Scope) -> bool:
    """A request has a body only with a non-zero Content-Length or chunked Transfer-Encoding."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"0", b"")):
            return True
    return False


def _expects_continue(scope: Scope) -> bool:
    return any(name == b"expect" and value.lower() == b"100-continue" for name, value in scope["headers"])
