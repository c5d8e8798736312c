"""Live tail over SSE and WebSocket against a real server: latency, no loss, filters, isolation,
and slow clients cut off instead of buffered."""

from __future__ import annotations

import json
import socket as socket_module
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from websockets.sync.client import connect

from servers import Server, run_cli, start_server


class SseReader(threading.Thread):
    """Reads an SSE stream in the background, recording each event and when it arrived."""

    def __init__(self, server: Server, query: str, key: str | None = None) -> None:
        super().__init__(daemon=True)
        self.url, self.auth, self.query = server.url + "/api/v1/tail", (key or server.service_key, ""), query
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.errors: list[dict[str, Any]] = []
        self.connected = threading.Event()
        self.stopping = False
        self.client = httpx.Client(timeout=None)
        self.socket: Any = None

    def run(self) -> None:
        try:
            with self.client.stream("GET", self.url, params={"q": self.query}, auth=self.auth) as response:
                assert response.status_code == 200, response.read()
                self.socket = response.extensions["network_stream"].get_extra_info("socket")
                event = "message"
                for raw in response.iter_lines():
                    if raw.startswith(": connected"):
                        self.connected.set()
                    elif raw.startswith("event: "):
                        event = raw.removeprefix("event: ")
                    elif raw.startswith("data: "):
                        payload = orjson.loads(raw.removeprefix("data: "))
                        if event == "error":
                            self.errors.append(payload)
                            return
                        self.events.append((time.monotonic(), payload))
        except httpx.HTTPError:
            if not self.stopping:
                raise

    def close(self) -> None:
        """Hang up: shutting the socket down wakes the reading thread at once."""
        self.stopping = True
        if self.socket is not None:
            self.socket.shutdown(socket_module.SHUT_RDWR)
        self.join(timeout=10)
        self.client.close()
        assert not self.is_alive()

    def lines(self) -> list[str]:
        return [event["line"] for _, event in self.events]


def wait_for(predicate: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_line_arrives_within_a_second_of_its_200(server: Server) -> None:
    host = f"tail-{uuid.uuid4().hex[:8]}"
    reader = SseReader(server, f"host:{host}")
    reader.start()
    assert reader.connected.wait(10)
    latencies = []
    for n in range(40):
        acked = None
        response = server.ingest([{"line": f"latency probe {n}"}], params={"hostname": host})
        acked = time.monotonic()
        assert response.status_code == 200
        wait_for(lambda: len(reader.events) > n, timeout=5)
        latencies.append(reader.events[n][0] - acked)
    reader.close()
    latencies.sort()
    assert latencies[int(len(latencies) * 0.99) - 1] < 1.0, latencies
    assert reader.lines() == [f"latency probe {n}" for n in range(40)]


def test_no_line_is_lost_at_10000_lines_per_second(server: Server) -> None:
    host = f"tail-{uuid.uuid4().hex[:8]}"
    reader = SseReader(server, f"host:{host}")
    reader.start()
    assert reader.connected.wait(10)
    total, per_request = 20_000, 500
    started = time.monotonic()
    with httpx.Client(timeout=30) as client:
        for start in range(0, total, per_request):
            body = orjson.dumps({"lines": [{"line": f"flood {start + i}"} for i in range(per_request)]})
            response = client.post(server.url + "/logs/ingest", params={"hostname": host}, content=body, auth=(server.ingestion_key, ""))
            assert response.status_code == 200
            # pace at 10,000 lines/s
            time.sleep(max(0.0, started + (start + per_request) / 10_000 - time.monotonic()))
    wait_for(lambda: len(reader.events) >= total, timeout=30)
    reader.close()
    assert sorted(reader.lines(), key=lambda s: int(s.split()[1])) == [f"flood {n}" for n in range(total)]
    assert not reader.errors


def test_the_query_filters_and_levels_are_detected(server: Server) -> None:
    host = f"tail-{uuid.uuid4().hex[:8]}"
    reader = SseReader(server, f"host:{host} (error OR level:warn) -ignored")
    reader.start()
    assert reader.connected.wait(10)
    lines = ["ERROR disk full", "INFO all good", "warn: slow", "ERROR ignored thing", "plain error text"]
    assert server.ingest([{"line": text, "app": "a", "meta": {"k": 1}} for text in lines], params={"hostname": host}).status_code == 200
    # A sentinel sent after the filtered lines: once it is here, a filtered line let through would be too.
    assert server.ingest([{"line": "ERROR sentinel"}], params={"hostname": host}).status_code == 200
    wait_for(lambda: "ERROR sentinel" in reader.lines())
    reader.close()
    assert reader.lines() == ["ERROR disk full", "warn: slow", "plain error text", "ERROR sentinel"]
    first = reader.events[0][1]
    assert first["level"] == "ERROR" and first["host"] == host and first["fields"] == {"k": 1} and isinstance(first["ts"], int)


def test_another_account_never_sees_these_lines(server: Server) -> None:
    other = json.loads(run_cli("accounts", "create", f"tail-other-{uuid.uuid4().hex[:6]}", "--data-dir", str(server.data_dir), "--json").stdout)
    host = f"tail-{uuid.uuid4().hex[:8]}"
    theirs = SseReader(server, "", key=other["service_key"])
    ours = SseReader(server, f"host:{host}")
    for reader in (theirs, ours):
        reader.start()
        assert reader.connected.wait(10)
    assert server.ingest([{"line": "secret of account A"}], params={"hostname": host}).status_code == 200
    wait_for(lambda: len(ours.events) == 1)
    # Their own line, sent after ours: once it reaches them, ours would have too.
    assert server.ingest([{"line": "sentinel of account B"}], key=other["ingestion_key"]).status_code == 200
    wait_for(lambda: len(theirs.events) >= 1)
    ours.close()
    theirs.close()
    assert [event["line"] for _, event in theirs.events] == ["sentinel of account B"]
    assert ours.lines() == ["secret of account A"]


def test_websocket_tail(server: Server) -> None:
    host = f"tail-{uuid.uuid4().hex[:8]}"
    url = server.url.replace("http://", "ws://") + f"/ws/tail?q=host:{host}"
    subscribed = server.metric("timberyard_tail_subscribers")
    with connect(url, additional_headers={"servicekey": server.service_key}, open_timeout=10) as socket:
        wait_for(lambda: server.metric("timberyard_tail_subscribers") > subscribed)
        assert server.ingest([{"line": f"ws line {n}"} for n in range(5)], params={"hostname": host}).status_code == 200
        received: list[str] = []
        while len(received) < 5:
            message = orjson.loads(socket.recv(timeout=5))
            received.extend(line["line"] for line in message["lines"])
    assert received == [f"ws line {n}" for n in range(5)]


def test_websocket_without_a_key_is_refused(server: Server) -> None:
    url = server.url.replace("http://", "ws://") + "/ws/tail"
    with pytest.raises(Exception, match="403|rejected"):
        with connect(url, open_timeout=10):
            pass


def test_sse_without_a_key_is_401(server: Server) -> None:
    response = httpx.get(server.url + "/api/v1/tail", timeout=10)
    assert response.status_code == 401 and response.json()["code"] == "MissingCredentials"


def test_a_bad_query_is_a_400(server: Server) -> None:
    response = httpx.get(server.url + "/api/v1/tail", params={"q": "(unbalanced"}, auth=(server.service_key, ""), timeout=10)
    assert response.status_code == 400 and response.json()["code"] == "QuerySyntaxError"


def test_a_client_too_slow_is_cut_off_with_a_message(tmp_path: Path) -> None:
    slow_server = start_server(tmp_path, TIMBERYARD_TAIL_MAX_PENDING_LINES="2000")
    try:
        host = "slow-host"
        with httpx.stream("GET", slow_server.url + "/api/v1/tail", params={"q": f"host:{host}"}, auth=(slow_server.service_key, ""), timeout=30) as response:
            lines = response.iter_lines()
            assert next(lines).startswith(": connected")
            # Not reading: the server's socket buffer fills, then its queue, then it gives up.
            big = "x" * 2000
            for _ in range(40):
                body = orjson.dumps({"lines": [{"line": big} for _ in range(500)]})
                assert httpx.post(slow_server.url + "/logs/ingest", params={"hostname": host}, content=body, auth=(slow_server.ingestion_key, ""), timeout=30).status_code == 200
            error = None
            for raw in lines:
                if raw == "event: error":
                    error = orjson.loads(next(lines).removeprefix("data: "))
                    break
        assert error is not None and error["code"] == "TooSlow" and "behind" in error["error"]
    finally:
        slow_server.stop()


def test_shutdown_ends_open_streams_promptly(tmp_path: Path) -> None:
    node = start_server(tmp_path)
    reader = SseReader(node, "")
    reader.start()
    assert reader.connected.wait(10)
    started = time.monotonic()
    assert node.stop() == 0
    assert time.monotonic() - started < 10  # not uvicorn's 30 s wait for open responses
    reader.join(timeout=10)
    assert reader.errors and reader.errors[0]["code"] == "ShuttingDown"
    reader.client.close()


def test_cli_tail_prints_matching_lines(server: Server) -> None:
    import subprocess
    import sys

    host = f"tail-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "timberyard", "tail", f"host:{host}", "--json", "--server", server.url, "--key", server.service_key]
    subscribed = server.metric("timberyard_tail_subscribers")
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        try:
            wait_for(lambda: server.metric("timberyard_tail_subscribers") > subscribed, timeout=20)
            assert server.ingest([{"line": "ERROR from the cli test"}, {"line": "other"}], params={"hostname": host}).status_code == 200
            assert process.stdout is not None
            first = orjson.loads(process.stdout.readline())
            assert first["line"] == "ERROR from the cli test" and first["level"] == "ERROR"
        finally:
            process.terminate()


def test_websocket_with_a_session_must_come_from_this_origin(server: Server) -> None:
    """A page of another origin on the same site gets the session cookie sent with its
    WebSocket handshake; only the Origin header tells it apart, so it is checked."""
    login = httpx.post(
        server.url + "/api/v1/auth/login",
        json={"email": server.credentials["owner_email"], "password": server.credentials["owner_password"]},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    cookie = f"timberyard_session={login.cookies['timberyard_session']}"
    url = server.url.replace("http://", "ws://") + "/ws/tail"
    own_origin = server.url
    with connect(url, additional_headers={"Cookie": cookie, "Origin": own_origin}, open_timeout=10) as socket:
        socket.ping()
    for origin in ("http://evil.example", server.url.replace("127.0.0.1", "localhost")):
        with pytest.raises(Exception, match="403|rejected|1008"):
            with connect(url, additional_headers={"Cookie": cookie, "Origin": origin}, open_timeout=10) as socket:
                socket.recv(timeout=5)


def test_cli_tail_reconnects_after_a_restart_and_reports_the_gap(tmp_path: Path) -> None:
    import re
    import signal
    import subprocess
    import sys

    node = start_server(tmp_path)
    host = f"tail-restart-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "timberyard", "tail", f"host:{host}", "--json", "--server", node.url, "--key", node.service_key]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        wait_for(lambda: node.metric("timberyard_tail_subscribers") == 1, timeout=20)
        assert node.ingest([{"line": "before the restart"}], params={"hostname": host}).status_code == 200
        assert orjson.loads(process.stdout.readline())["line"] == "before the restart"
        assert node.stop() == 0
        time.sleep(1)  # the tail retries against a node that is down
        node.start()  # the same data directory and port
        wait_for(lambda: node.metric("timberyard_tail_subscribers") == 1, timeout=20)
        assert node.ingest([{"line": "after the restart"}], params={"hostname": host}).status_code == 200
        assert orjson.loads(process.stdout.readline())["line"] == "after the restart"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr_bytes = process.communicate(timeout=30)
        if node.process is not None:
            node.stop()
    stderr = stderr_bytes.decode()
    assert process.returncode == 0 and "Traceback" not in stderr, stderr
    lost = re.search(r"lost the live tail at (\S+) \(the server is shutting down; reconnect shortly\); reconnecting", stderr)
    back = re.search(r"reconnected at (\S+); lines from (\S+) to \S+ were not shown here\. To see them: "
                     r"timberyard search host:\S+ --from \S+ --to \S+ --asc", stderr)
    assert lost and back and back.group(2) == lost.group(1), stderr
