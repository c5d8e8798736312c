"""Alerts in real time on a real node: an immediate presence alert reaches a webhook receiver on
loopback within seconds, and an end-of-interval alert whose node is killed (-9) mid-window still
sends that window's notification exactly once, counting the lines from before the kill (those
older than the engine's last save, every 2 s: see docs/alerts.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from receivers import HttpReceiver
from servers import Server, start_server

WINDOW_S = 30
BODY = '{"alert": "{{ name }}", "state": "{{ state }}", "matches": "{{ matches }}"}'


def of(receiver: HttpReceiver, name: str) -> list[dict]:
    return [body for body in (orjson.loads(r.body) for r in receiver.received) if body["alert"] == name]


def wait_for(receiver: HttpReceiver, name: str, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while not of(receiver, name) and time.monotonic() < deadline:
        time.sleep(0.05)
    return of(receiver, name)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Server]:
    server = start_server(tmp_path, TIMBERYARD_ALERTS_OUTBOUND_ALLOW="127.0.0.1")
    yield server
    if server.process is not None:
        server.stop()


def api(server: Server, method: str, path: str, body: dict) -> dict:
    response = httpx.request(method, server.url + path, json=body, auth=(server.service_key, ""), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def alert(server: Server, channel: int, name: str, query: str, timing: str, threshold: int) -> None:
    api(server, "POST", "/api/v1/alerts", {"name": name, "kind": "presence", "query": query, "threshold": threshold,
                                            "interval": "30s", "timing": [timing], "channel_ids": [channel]})


def test_an_immediate_alert_arrives_in_seconds_and_a_killed_node_keeps_its_window(node: Server, receiver: HttpReceiver) -> None:
    channel = api(node, "POST", "/api/v1/channels", {"name": "hook", "kind": "webhook", "config": {"url": receiver.url, "body": BODY}})["id"]
    alert(node, channel, "now", "urgentprobe", "immediate", 1)
    alert(node, channel, "later", "windowprobe", "end_of_interval", 3)
    time.sleep(1)  # the API tells the engine; give its thread a moment to reload

    sent = time.monotonic()
    assert node.ingest([{"line": "an urgentprobe line"}]).status_code == 200
    arrived = wait_for(receiver, "now", timeout=10)
    assert len(arrived) == 1 and arrived[0]["matches"] == 1, receiver.received
    assert time.monotonic() - sent < 5

    # Start just after a window opens, so the kill and restart fall inside that window.
    while time.time() % WINDOW_S > 2:
        time.sleep(0.2)
    window_end = (time.time() // WINDOW_S + 1) * WINDOW_S
    assert node.ingest([{"line": f"windowprobe {i}"} for i in range(2)]).status_code == 200
    # Past the engine's periodic save (every 2 s): lines the store took in the last 2 s before a
    # kill -9 are not replayed and not counted, the limit docs/alerts.md states.
    time.sleep(3)
    node.kill()
    node.start()
    assert time.time() < window_end, "the restart took longer than the window; the test cannot tell"
    assert node.ingest([{"line": "windowprobe 2"}]).status_code == 200

    time.sleep(max(0.0, window_end - time.time()))
    arrived = wait_for(receiver, "later", timeout=15)
    time.sleep(3)  # a repeat would come now
    assert [(b["state"], b["matches"]) for b in of(receiver, "later")] == [("firing", 3)], receiver.received
    assert len(arrived) == 1
