"""Slow and stalled clients against a real server: they time out and are closed, they cannot use
up the node's connections or file descriptors, and a normal client keeps getting answers."""

from __future__ import annotations

import base64
import resource
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from servers import Server, start_server

TIMEOUT_S = 2
STALLED = 300


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A node started with a low soft open-file limit, which it must raise itself."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))
    try:
        running = start_server(
            tmp_path_factory.mktemp("slow"),
            TIMBERYARD_HTTP_HEADER_TIMEOUT_S=str(TIMEOUT_S),
            TIMBERYARD_HTTP_BODY_TIMEOUT_S=str(TIMEOUT_S),
            TIMBERYARD_HTTP_KEEP_ALIVE_S="1",
        )
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    yield running
    running.stop()


def connect(server: Server, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    if first_bytes:
        sock.sendall(first_bytes)
    return sock


def closed_by_server(socks: list[socket.socket], within_s: float) -> int:
    """How many of `socks` the server closed (EOF or reset) within `within_s`, draining any answer."""
    selector = selectors.DefaultSelector()
    for sock in socks:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    closed = 0
    deadline = time.monotonic() + within_s
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            try:
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
            except ConnectionResetError:
                data = b""
            if not data:
                selector.unregister(key.fileobj)
                closed += 1
    selector.close()
    return closed


def test_the_node_raises_its_open_file_limit(node: Server) -> None:
    assert node.process is not None
    limits = Path(f"/proc/{node.process.pid}/limits").read_text()
    line = next(line for line in limits.splitlines() if line.startswith("Max open files"))
    soft, hard = line.split()[3:5]
    assert soft == hard and int(soft) > 1024, line


def test_stalled_connections_are_closed_while_a_normal_client_is_served(node: Server) -> None:
    timeouts_before = node.metric('timberyard_http_timeouts_total{phase="headers"}')
    body_timeouts_before = node.metric('timberyard_http_timeouts_total{phase="body"}')
    half_requests = [b"", b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"POST /logs/ingest?hostname=h HTTP/1.1\r\nHost: x\r\nCont"]
    stalled = [connect(node, half_requests[n % 3]) for n in range(STALLED)]
    # and some that sent their headers and half a body
    stalled_bodies = [
        connect(node, b"POST /logs/ingest?hostname=h HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"lines\":")
        for _ in range(20)
    ]
    started = time.monotonic()
    with httpx.Client(base_url=node.url, timeout=5) as client:
        answered = 0
        while time.monotonic() - started < TIMEOUT_S + 0.5:
            assert client.get("/healthz").status_code == 200
            assert node.ingest([{"line": "served while others stall"}]).status_code == 200
            answered += 1
    assert answered >= 3
    assert closed_by_server(stalled + stalled_bodies, within_s=TIMEOUT_S + 5) == STALLED + 20
    for sock in stalled + stalled_bodies:
        sock.close()
    assert node.metric('timberyard_http_timeouts_total{phase="headers"}') - timeouts_before == STALLED
    assert node.metric('timberyard_http_timeouts_total{phase="body"}') - body_timeouts_before == 20


def test_a_trickle_of_header_bytes_does_not_extend_the_deadline(node: Server) -> None:
    sock = connect(node, b"GET /healthz HTTP/1.1\r\n")
    started = time.monotonic()
    try:
        while time.monotonic() - started < TIMEOUT_S + 3:
            sock.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.3)
    except (BrokenPipeError, ConnectionResetError):
        pass
    sock.settimeout(5)
    try:
        answer = sock.recv(65536)
    except ConnectionResetError:
        answer = b""
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - started < TIMEOUT_S + 3
    sock.close()


def test_a_slow_but_steady_body_is_accepted(node: Server) -> None:
    """Pieces arriving within the body timeout keep the upload going past it in total."""
    body = b'{"lines": [{"line": "' + b"s" * 200 + b'"}]}'
    sock = connect(node, (
        f"POST /logs/ingest?hostname=slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Basic {base64.b64encode(node.ingestion_key.encode() + b':').decode()}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode())
    pieces = [body[i:i + 60] for i in range(0, len(body), 60)]
    for piece in pieces:
        time.sleep(TIMEOUT_S * 0.6)
        sock.sendall(piece)
    assert len(pieces) * TIMEOUT_S * 0.6 > TIMEOUT_S
    sock.settimeout(10)
    assert sock.recv(65536).startswith(b"HTTP/1.1 200"), "the steady upload was cut off"
    sock.close()


def test_oversized_headers_are_refused(node: Server) -> None:
    sock = connect(node, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 70_000 + b"\r\n")
    sock.settimeout(5)
    assert sock.recv(65536).startswith(b"HTTP/1.1 431")
    sock.close()


def test_idle_keep_alive_connections_are_closed(node: Server) -> None:
    sock = connect(node, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    sock.settimeout(5)
    assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    assert sock.recv(65536) == b""  # closed by the server after http_keep_alive_s
    assert time.monotonic() - started < 4
    sock.close()


def test_connections_over_the_cap_are_answered_503_and_closed(tmp_path_factory: pytest.TempPathFactory) -> None:
    capped = start_server(
        tmp_path_factory.mktemp("capped"), TIMBERYARD_HTTP_MAX_CONNECTIONS="20", TIMBERYARD_HTTP_HEADER_TIMEOUT_S="3"
    )
    try:
        # the readiness probe's connection may still be closing; the cap counts open ones
        time.sleep(0.5)
        held = [connect(capped, b"GET /healthz HTTP/1.1\r\n") for _ in range(20)]
        time.sleep(0.3)
        extra = connect(capped, b"")
        extra.settimeout(5)
        answer = extra.recv(65536)
        assert answer.startswith(b"HTTP/1.1 503") and b'"code":"TooManyConnections"' in answer, answer
        extra.close()
        assert closed_by_server(held, within_s=8) == 20
        for sock in held:
            sock.close()
        assert httpx.get(capped.url + "/healthz", timeout=5).status_code == 200
        assert capped.metric("timberyard_http_connections_refused_total") >= 1
    finally:
        capped.stop()
