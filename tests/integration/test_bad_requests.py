"""Requests that once got a 500 or a connection reset get a readable 4xx JSON answer instead:
bodies over the limit sent whole by urllib and requests, huge numbers and far-future times in
parameters, meta nested thousands deep, and clients that hang up mid-upload (one log line,
counted as the client's error, no traceback)."""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import httpx
import pytest
import requests
from servers import Server, start_server

LIMIT = 1024 * 1024
HUGE = "9" * 5000  # more digits than int() takes (4,300)
FAR_FUTURE_MS = str(10**15)  # the year 33658


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("bad"), TIMBERYARD_MAX_BODY_BYTES=str(LIMIT))
    yield running
    running.stop()


def basic(key: str) -> str:
    return "Basic " + base64.b64encode(key.encode() + b":").decode()


def oversized_body() -> bytes:
    return json.dumps({"lines": [{"line": "x" * 1000}] * (3 * LIMIT // 1000)}).encode()


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "code"}, body
    if code:
        assert body["code"] == code, body


def test_urllib_sending_an_oversized_body_reads_the_413(node: Server) -> None:
    request = urllib.request.Request(
        node.url + "/logs/ingest?hostname=urllib", data=oversized_body(),
        headers={"Authorization": basic(node.ingestion_key), "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 413
    assert json.loads(refused.value.read())["code"] == "PayloadTooLarge"


def test_requests_sending_an_oversized_body_or_a_wrong_key_reads_the_answer(node: Server) -> None:
    response = requests.post(
        node.url + "/logs/ingest", params={"hostname": "requests"}, data=oversized_body(),
        auth=(node.ingestion_key, ""), headers={"Content-Type": "application/json", "Connection": "close"}, timeout=30,
    )
    assert response.status_code == 413 and response.json()["code"] == "PayloadTooLarge"
    response = requests.post(
        node.url + "/logs/ingest", params={"hostname": "requests"}, data=b'{"lines": []}' + b" " * (LIMIT // 2),
        auth=("not-a-key", ""), headers={"Content-Type": "application/json", "Connection": "close"}, timeout=30,
    )
    assert response.status_code in (401, 403) and "error" in response.json()


NUMERIC_PARAMS = [
    ("/api/v1/search", "to"), ("/api/v1/search", "from"), ("/api/v1/search", "limit"),
    ("/api/v1/histogram", "to"), ("/api/v1/histogram", "buckets"), ("/api/v1/facets", "limit"),
    ("/api/v1/context", "id"), ("/api/v1/context", "before"), ("/v1/export", "to"), ("/v1/export", "size"),
    ("/v2/export", "from"), ("/api/v1/audit", "to"), ("/api/v1/audit", "limit"), ("/api/v1/audit", "cursor"),
    ("/api/v1/audit/report", "from"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "name"), NUMERIC_PARAMS, ids=[f"{p}?{n}" for p, n in NUMERIC_PARAMS])
@pytest.mark.parametrize("value", [HUGE, "1" + "0" * 30])
def test_huge_numbers_in_parameters_are_bad_requests(node: Server, path: str, name: str, value: str) -> None:
    params = {"from": "0", "to": "1000", "id": "1", "field": "host", name: value}
    response = httpx.get(node.url + path, params=params, auth=(node.service_key, ""), timeout=30)
    assert_error(response, 400, "BadRequest")
    assert name in response.json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/report"])
@pytest.mark.parametrize(
    "times",
    [{"to": FAR_FUTURE_MS}, {"from": "0", "to": "253402300799999"}, {"from": FAR_FUTURE_MS, "to": str(2**53 - 1)}],
)
def test_far_future_times_in_the_audit_trail_find_nothing_later(node: Server, path: str, times: dict[str, str]) -> None:
    """Python's datetime ends in the year 9999; the audit trail takes later times as its end."""
    response = httpx.get(node.url + path, params={"format": "json", **times}, auth=(node.service_key, ""), timeout=30)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/audit/report", "/api/v1/search", "/v1/export"])
def test_times_past_the_epoch_range_are_bad_requests(node: Server, path: str) -> None:
    response = httpx.get(node.url + path, params={"from": "0", "to": str(2**53)}, auth=(node.service_key, ""), timeout=30)
    assert_error(response, 400, "BadRequest")
    assert "out of range" in response.json()["error"]


@pytest.mark.parametrize("depth", [1100, 5000])
def test_meta_nested_thousands_deep_is_a_bad_request(node: Server, depth: int) -> None:
    body = '{"lines":[{"line":"deep","meta":' + '{"a":' * depth + "1" + "}" * depth + "}]}"
    response = node.ingest(content=body.encode())
    assert_error(response, 400, "BadRequest")


def test_a_client_hanging_up_mid_upload_is_its_error_logged_once(node: Server) -> None:
    rejected_before = node.metric('timberyard_ingest_rejected_total{reason="ClientDisconnected"}')
    internal_before = node.metric('timberyard_ingest_rejected_total{reason="InternalError"}')
    log_before = node.log_path.stat().st_size
    sock = socket.create_connection(("127.0.0.1", node.port))
    sock.sendall(
        f"POST /logs/ingest?hostname=gone HTTP/1.1\r\nHost: x\r\nAuthorization: {basic(node.ingestion_key)}\r\n"
        f"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n".encode() + b'{"lines": [' + b" " * 5000
    )
    time.sleep(0.3)
    sock.close()
    deadline = time.monotonic() + 10
    while node.metric('timberyard_ingest_rejected_total{reason="ClientDisconnected"}') == rejected_before:
        assert time.monotonic() < deadline, "the hang-up was not counted"
        time.sleep(0.1)
    assert node.metric('timberyard_ingest_rejected_total{reason="ClientDisconnected"}') == rejected_before + 1
    assert node.metric('timberyard_ingest_rejected_total{reason="InternalError"}') == internal_before
    with node.log_path.open("rb") as log:
        log.seek(log_before)
        written = log.read().decode()
    about = [line for line in written.splitlines() if "disconnected" in line]
    assert len(about) == 1, written
    assert "Traceback" not in written and "InternalError" not in written, written
