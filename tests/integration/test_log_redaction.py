"""No credential reaches the node's own log: a real server with the access log on is sent keys
and passwords in every place clients put them, and its captured log is searched for them."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest
from servers import start_server


def test_credentials_in_urls_and_headers_are_redacted_in_the_log(tmp_path_factory: pytest.TempPathFactory) -> None:
    node = start_server(tmp_path_factory.mktemp("redact"), TIMBERYARD_ACCESS_LOG="true")
    secrets = {name: f"{name}-{uuid.uuid4().hex}" for name in ("token", "password", "session", "secret")}
    try:
        ingest = httpx.post(node.url + "/logs/ingest", params={"hostname": "h", "apikey": node.ingestion_key},
                            json={"lines": [{"line": "redaction check"}]}, timeout=10)
        assert ingest.status_code == 200, ingest.text
        wrong = httpx.post(node.url + "/logs/ingest", params={"hostname": "h", "apikey": secrets["secret"]}, json={"lines": []}, timeout=10)
        assert wrong.status_code in (401, 403)
        export = httpx.get(node.url + "/v1/export", params={"from": 0, "to": 1, "token": secrets["token"], "key": node.service_key},
                           auth=(node.service_key, ""), timeout=10)
        assert export.status_code == 200, export.text
        missing = httpx.get(node.url + f"/nowhere?user=ann&password={secrets['password']}&session={secrets['session']}", timeout=10)
        assert missing.status_code == 404
        basic = "Basic " + base64.b64encode(f"{node.service_key}:".encode()).decode()
        assert httpx.get(node.url + "/api/v1/auth/me", headers={"Authorization": basic}, timeout=10).status_code == 200
    finally:
        node.stop()
    log = node.log_path.read_text()
    assert "/logs/ingest?hostname=h&apikey=[redacted]" in log, "the access log did not record the request"
    assert "password=[redacted]" in log and "user=ann" in log
    for secret in (node.ingestion_key, node.service_key, *secrets.values()):
        assert secret not in log, f"a credential reached the log:\n{log}"
