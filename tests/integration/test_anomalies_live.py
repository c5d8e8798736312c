"""Anomalies on a real node: a never-seen ERROR template, after the (shortened) learning time,
is listed by GET /api/v1/insights/anomalies with a query that finds its line, and an `anomaly`
alert sends it to a webhook receiver on loopback. The learning time is the setting
`insights_learn_minutes`, set to 0 here so that the test need not wait an hour."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from receivers import HttpReceiver
from servers import Server, start_server

RUN = uuid.uuid4().hex[:8]
APP = f"checkout-{RUN}"
BODY = ('{"alert": "{{ name }}", "kind": "{{ kind }}", "anomaly_kind": "{{ anomaly_kind }}", "key": "{{ anomaly_key }}",'
        ' "evidence": "{{ evidence }}", "query": "{{ query }}", "url": "{{ url }}"}')


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Server]:
    server = start_server(tmp_path, TIMBERYARD_ALERTS_OUTBOUND_ALLOW="127.0.0.1", TIMBERYARD_INSIGHTS_LEARN_MINUTES="0")
    yield server
    if server.process is not None:
        server.stop()


def api(server: Server, method: str, path: str, **kwargs: object) -> httpx.Response:
    return httpx.request(method, server.url + path, auth=(server.service_key, ""), timeout=30, **kwargs)  # type: ignore[arg-type]


def ingest(server: Server, lines: list[dict[str, str]]) -> None:
    before = server.metric("timberyard_store_lines_total")
    assert server.ingest(lines, params={"hostname": f"web-{RUN}"}).status_code == 200
    server.wait_stored(before + len(lines))


def eventually(read, timeout: float = 30):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_a_never_seen_error_template_is_listed_and_alerted(node: Server, receiver: HttpReceiver) -> None:
    channel = api(node, "POST", "/api/v1/channels", json={"name": "hook", "kind": "webhook", "config": {"url": receiver.url, "body": BODY}})
    assert channel.status_code == 201, channel.text
    alert = api(node, "POST", "/api/v1/alerts", json={"name": "new errors", "kind": "anomaly", "anomaly_kinds": ["new_template"],
                                                      "cooldown_s": 0, "channel_ids": [channel.json()["id"]]})
    assert alert.status_code == 201, alert.text
    assert alert.json()["anomaly_kinds"] == ["new_template"]

    ingest(node, [{"line": f"order {n} paid in {n + 3} ms", "app": APP, "level": "INFO"} for n in range(20)])
    ingest(node, [{"line": "payment gateway refused the card: circuit breaker open", "app": APP, "level": "ERROR"}])

    def listed() -> list[dict]:
        response = api(node, "GET", "/api/v1/insights/anomalies", params={"kind": "new_template"})
        assert response.status_code == 200, response.text
        return [a for a in response.json()["anomalies"] if APP in a["key"]]

    [anomaly] = eventually(listed)
    assert anomaly["kind"] == "new_template" and anomaly["key"].startswith(f"app={APP} template=")
    assert "at ERROR, never seen before" in anomaly["evidence"]
    # Its query finds the line behind it, and only that one.
    found = api(node, "GET", "/api/v1/search", params={"q": anomaly["query"], "from": "1h"})
    assert [line["line"] for line in found.json()["lines"]] == ["payment gateway refused the card: circuit breaker open"]

    [sent] = eventually(lambda: [orjson.loads(r.body) for r in receiver.received])
    assert (sent["alert"], sent["kind"], sent["anomaly_kind"], sent["key"]) == ("new errors", "anomaly", "new_template", anomaly["key"])
    assert sent["evidence"] == anomaly["evidence"] and sent["query"] == anomaly["query"]
    assert sent["url"].startswith(node.url + "/?q=")
    assert node.metric('timberyard_insights_anomalies_total{kind="new_template"}') >= 1
    assert node.metric("timberyard_insights_lines_observed_total") >= 21
    time.sleep(2)  # nothing more comes: one notification for one anomaly
    assert len(receiver.received) == 1


def test_after_a_restart_a_known_error_template_is_not_new_again(tmp_path: Path) -> None:
    """The detectors' state is saved at a clean stop and loaded at the start: the ERROR template
    seen before the restart is known after it (without the file it would be reported again, at
    its new line, with learning at 0 minutes), while one never seen is still reported."""
    node = start_server(tmp_path / "node", TIMBERYARD_INSIGHTS_LEARN_MINUTES="0")
    try:
        known = {"line": "payment gateway refused the card: circuit breaker open", "app": APP, "level": "ERROR"}
        ingest(node, [known])

        def listed() -> list[dict]:
            response = api(node, "GET", "/api/v1/insights/anomalies", params={"kind": "new_template"})
            assert response.status_code == 200, response.text
            return [a for a in response.json()["anomalies"] if APP in a["key"]]

        [before] = eventually(listed)
        node.stop()
        assert (node.data_dir / "insights" / "detectors.msgpack").stat().st_size > 0
        node.start()
        ingest(node, [known])
        ingest(node, [{"line": "ledger write failed: disk quota exceeded", "app": APP, "level": "ERROR"}])
        after = eventually(lambda: [a for a in listed() if a["key"] != before["key"]])
        assert [a["evidence"].endswith("never seen before") for a in after] == [True]  # the new one: the watch ran
        assert [a for a in listed() if a["key"] == before["key"]] == [before]
        assert "anomaly detectors restored" in node.log_path.read_text()
    finally:
        if node.process is not None:
            node.stop()
