"""Reading a request body within limits: the wire size and the decompressed size are capped,
so a small gzip bomb cannot make the node allocate gigabytes."""

from __future__ import annotations

import zlib

from starlette.requests import ClientDisconnect, Request

from timberyard.core.errors import (
    BadRequest,
    ClientDisconnected,
    PayloadTooLarge,
    UnsupportedMediaType,
)

# zlib's wbits: 16+15 reads gzip, 15 reads zlib-wrapped deflate.
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


async def read_body(request: Request, *, max_bytes: int, max_decompressed_bytes: int) -> bytes:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in _WBITS and encoding != "identity":
        raise UnsupportedMediaType(f"unsupported Content-Encoding {encoding!r}: send identity, gzip or deflate")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and (len(declared) > 19 or int(declared) > max_bytes):
        raise PayloadTooLarge(f"the body is {declared[:20]} bytes; the limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLarge(f"the body is over the {max_bytes}-byte limit")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientDisconnected(f"the client disconnected after sending {size} bytes of the body") from None
    body = b"".join(chunks)
    if encoding == "identity":
        return body
    return _decompress(body, _WBITS[encoding], max_decompressed_bytes)


def _decompress(body: bytes, wbits: int, limit: int) -> bytes:
    """Inflate every member (gzip allows several, back to back) within `limit` bytes in all."""
    output: list[bytes] = []
    size = 0
    remaining = body
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(remaining, limit - size + 1)
        except zlib.error as exc:
            raise BadRequest(f"the body is not valid compressed data: {exc}") from None
        size += len(data)
        if size > limit or inflater.unconsumed_tail:
            raise PayloadTooLarge(f"the body decompresses to more than the {limit}-byte limit")
        if not inflater.eof:
            raise BadRequest("the compressed body is truncated")
        output.append(data)
        remaining = inflater.unused_data
        if not remaining:
            return b"".join(output)
        if wbits == zlib.MAX_WBITS or not remaining.startswith(b"\x1f\x8b"):
            raise BadRequest(f"the body has {len(remaining)} bytes after the end of the compressed data")
