"""Reading a request body within limits (web.body): wire size, decompressed size, bad streams."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib

import pytest
from starlette.requests import Request

from timberyard.core.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from timberyard.web.body import _decompress, read_body

GZIP = 16 + zlib.MAX_WBITS
DEFLATE = zlib.MAX_WBITS
MB = 1024 * 1024
PAYLOAD = b'{"lines": [' + b",".join(b'{"line": "request %d served"}' % n for n in range(2000)) + b"]}"


def deflate(data: bytes) -> bytes:
    return zlib.compress(data)


def zeros_compressed(size: int, wbits: int = GZIP) -> bytes:
    """`size` zero bytes compressed, built a megabyte at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    chunk = bytes(MB)
    parts = [compressor.compress(chunk) for _ in range(size // MB)]
    return b"".join(parts) + compressor.flush()


# --- _decompress --------------------------------------------------------------------------


def test_gzip() -> None:
    assert _decompress(gzip.compress(PAYLOAD), GZIP, MB) == PAYLOAD


def test_deflate() -> None:
    assert _decompress(deflate(PAYLOAD), DEFLATE, MB) == PAYLOAD


def test_empty_content_compressed() -> None:
    assert _decompress(gzip.compress(b""), GZIP, MB) == b""


def test_exactly_at_the_limit_is_accepted() -> None:
    data = b"x" * 1000
    assert _decompress(gzip.compress(data), GZIP, 1000) == data
    assert _decompress(deflate(data), DEFLATE, 1000) == data


@pytest.mark.parametrize(("compress", "wbits"), [(gzip.compress, GZIP), (deflate, DEFLATE)])
def test_one_byte_over_the_limit_is_too_large(compress, wbits: int) -> None:
    with pytest.raises(PayloadTooLarge, match="more than the 1000-byte limit"):
        _decompress(compress(b"x" * 1001), wbits, 1000)


def test_a_gzip_bomb_is_refused_without_inflating_it() -> None:
    bomb = zeros_compressed(50 * MB)
    assert len(bomb) < 100 * 1024  # 50 MB of zeros squeeze to ~50 KB
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(PayloadTooLarge):
            _decompress(bomb, GZIP, MB)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MB, f"allocated {peak} bytes refusing a 1 MB-limited bomb"
    assert elapsed < 5  # inflating only the first megabyte takes milliseconds


def test_a_deflate_bomb_is_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        _decompress(zeros_compressed(20 * MB, DEFLATE), DEFLATE, MB)


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_a_truncated_stream_is_a_bad_request(keep: float) -> None:
    whole = gzip.compress(PAYLOAD)
    with pytest.raises(BadRequest, match="truncated"):
        _decompress(whole[: int(len(whole) * keep)], GZIP, MB)


def test_a_stream_missing_its_trailer_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="truncated"):
        _decompress(gzip.compress(PAYLOAD)[:-4], GZIP, MB)


def test_an_empty_body_claiming_gzip_is_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        _decompress(b"", GZIP, MB)


@pytest.mark.parametrize(
    ("body", "wbits"),
    [
        (b"this is not compressed", GZIP),
        (b"this is not compressed", DEFLATE),
        (PAYLOAD, GZIP),
        (deflate(PAYLOAD), GZIP),  # deflate sent as gzip
        (gzip.compress(PAYLOAD), DEFLATE),  # gzip sent as deflate
        (b"\x1f\x8b\x08\x00garbage after a gzip magic", GZIP),
    ],
)
def test_garbage_is_a_bad_request(body: bytes, wbits: int) -> None:
    with pytest.raises(BadRequest, match="not valid compressed data"):
        _decompress(body, wbits, MB)


def test_a_corrupted_gzip_checksum_is_a_bad_request() -> None:
    whole = bytearray(gzip.compress(PAYLOAD))
    whole[-8] ^= 0xFF  # CRC32 of the trailer
    with pytest.raises(BadRequest):
        _decompress(bytes(whole), GZIP, MB)


def test_every_gzip_member_is_read() -> None:
    # `gunzip` reads a concatenation of gzip members as one stream (RFC 1952 2.2); the second
    # member must not be silently dropped.
    body = gzip.compress(b'{"lines": [{"line": "a"}') + gzip.compress(b', {"line": "b"}]}')
    assert _decompress(body, GZIP, MB) == b'{"lines": [{"line": "a"}, {"line": "b"}]}'


def test_trailing_bytes_after_the_stream_are_a_bad_request() -> None:
    with pytest.raises(BadRequest):
        _decompress(gzip.compress(PAYLOAD) + b"trailing garbage", GZIP, MB)
    with pytest.raises(BadRequest):
        _decompress(deflate(PAYLOAD) + b"trailing garbage", DEFLATE, MB)


# --- read_body, through a real Starlette Request ----------------------------------------------


def request(body: bytes, headers: dict[str, str] | None = None, chunk: int = 64 * 1024) -> tuple[Request, list[int]]:
    """A real Starlette Request over an ASGI scope; the receive callable streams `body` in chunks
    and records how many times it was called."""
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    calls: list[int] = []

    async def receive() -> dict:
        calls.append(1)
        index = len(calls) - 1
        if index < len(parts):
            return {"type": "http.request", "body": parts[index], "more_body": index < len(parts) - 1}
        return {"type": "http.disconnect"}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/logs/ingest",
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }
    return Request(scope, receive), calls


def read(req: Request, max_bytes: int = MB, max_decompressed_bytes: int = 4 * MB) -> bytes:
    return asyncio.run(read_body(req, max_bytes=max_bytes, max_decompressed_bytes=max_decompressed_bytes))


def test_identity_body() -> None:
    req, _ = request(PAYLOAD, {"content-type": "application/json", "content-length": str(len(PAYLOAD))}, chunk=1000)
    assert read(req) == PAYLOAD


def test_empty_identity_body() -> None:
    req, _ = request(b"")
    assert read(req) == b""


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "GZIP", " gzip "])
def test_gzip_body(encoding: str) -> None:
    req, _ = request(gzip.compress(PAYLOAD), {"content-encoding": encoding}, chunk=100)
    assert read(req) == PAYLOAD


def test_deflate_body() -> None:
    req, _ = request(deflate(PAYLOAD), {"content-encoding": "deflate"})
    assert read(req) == PAYLOAD


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_unsupported_encoding(encoding: str) -> None:
    req, calls = request(PAYLOAD, {"content-encoding": encoding})
    with pytest.raises(UnsupportedMediaType, match="unsupported Content-Encoding"):
        read(req)
    assert calls == []


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    req, calls = request(b"x" * 2000, {"content-length": "2000"})
    with pytest.raises(PayloadTooLarge, match="the body is 2000 bytes; the limit is 1000"):
        read(req, max_bytes=1000)
    assert calls == []


def test_streamed_body_over_the_limit_is_refused_without_a_length() -> None:
    req, calls = request(b"x" * 10_000, chunk=1000)
    with pytest.raises(PayloadTooLarge, match="over the 5000-byte limit"):
        read(req, max_bytes=5000)
    assert len(calls) == 6  # stopped at the first chunk past the limit, not at the end


def test_a_lying_content_length_does_not_lift_the_limit() -> None:
    req, _ = request(b"x" * 10_000, {"content-length": "10"}, chunk=1000)
    with pytest.raises(PayloadTooLarge):
        read(req, max_bytes=5000)


def test_compressed_body_over_the_decompressed_limit() -> None:
    bomb = zeros_compressed(50 * MB)
    req, _ = request(bomb, {"content-encoding": "gzip", "content-length": str(len(bomb))})
    with pytest.raises(PayloadTooLarge, match="decompresses to more than"):
        read(req, max_bytes=MB, max_decompressed_bytes=MB)


def test_garbage_claiming_gzip() -> None:
    req, _ = request(b"plain text", {"content-encoding": "gzip"})
    with pytest.raises(BadRequest):
        read(req)
