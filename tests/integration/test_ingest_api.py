"""LogDNA's ingestion API (`POST /logs/ingest`, `POST /logs/agent`) and the export API
(`GET /v1/export`), driven over HTTP against real server processes.

Most tests share the module's server and keep apart by a unique host name per test; tests that
need other settings start their own: `limited` (small body, decompression and line limits, no
timestamp skew limit) and the backpressure test's.
"""

from __future__ import annotations

import base64
import gzip
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from servers import OPERATOR, Server, start_server

INGEST_PATHS = ["/logs/ingest", "/logs/agent"]


# -- helpers ------------------------------------------------------------------------------------


def unique(prefix: str = "host") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def now_ms() -> int:
    return int(time.time() * 1000)


def stored_lines(server: Server) -> float:
    return server.metric("timberyard_store_lines_total")


def send_and_read(server: Server, lines: list[dict[str, Any]], *, params: dict[str, Any] | None = None, **export: Any) -> list[dict[str, Any]]:
    """Ingest `lines` under a fresh host name (unless `params` names one) and read them back."""
    params = {"hostname": unique(), **(params or {})}
    before = stored_lines(server)
    response = server.ingest(lines, params=params)
    assert response.status_code == 200, response.text
    server.wait_stored(before + len(lines))
    export.setdefault("hosts", params["hostname"])
    return server.export(**export)


def assert_error(response: httpx.Response, status: int, code: str | None = None, contains: str | None = None) -> dict[str, Any]:
    """Errors are JSON objects with `error` and `code`, never HTML or a traceback."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error"), str) and body["error"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    assert "Traceback" not in response.text
    if code is not None:
        assert body["code"] == code, body
    if contains is not None:
        assert contains in body["error"], body
    return body


def post(server: Server, body: bytes, *, path: str = "/logs/ingest", headers: dict[str, str] | None = None, params: dict[str, Any] | None = None, key: str | None = None) -> httpx.Response:
    return httpx.post(
        server.url + path,
        params={"hostname": unique(), **(params or {})},
        content=body,
        headers=headers or {},
        auth=(key or server.ingestion_key, ""),
        timeout=30,
    )


def body_of(lines: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"lines": lines})


def create_key(server: Server, kind: str, role: str | None = None) -> dict[str, Any]:
    response = httpx.post(
        server.url + "/api/v1/keys", json={"type": kind, "role": role}, auth=(server.service_key, ""), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()


# -- authentication -----------------------------------------------------------------------------


def _auth_basic(key: str) -> dict[str, Any]:
    return {"auth": (key, "")}


def _auth_header(name: str) -> Callable[[str], dict[str, Any]]:
    return lambda key: {"headers": {name: key}}


def _auth_query(key: str) -> dict[str, Any]:
    return {"params": {"apikey": key}}


AUTH_FORMS = {
    "basic": _auth_basic,
    "header-apikey": _auth_header("apikey"),
    "header-APIKEY": _auth_header("APIKEY"),
    "header-ApiKey": _auth_header("ApiKey"),
    "query-apikey": _auth_query,
}


@pytest.mark.parametrize("path", INGEST_PATHS)
@pytest.mark.parametrize("form", list(AUTH_FORMS))
def test_every_auth_form_ingests(server: Server, path: str, form: str) -> None:
    host = unique()
    text = f"auth form {form} via {path} {uuid.uuid4().hex}"
    request = AUTH_FORMS[form](server.ingestion_key)
    params = {"hostname": host, **request.pop("params", {})}
    before = stored_lines(server)
    response = httpx.post(server.url + path, params=params, content=body_of([{"line": text}]), timeout=30, **request)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"
    server.wait_stored(before + 1)
    assert [line["_line"] for line in server.export(hosts=host)] == [text]


def test_basic_auth_header_written_by_hand(server: Server) -> None:
    """`curl -u KEY:` sends `Basic base64(KEY:)`; the password part is empty."""
    token = base64.b64encode(f"{server.ingestion_key}:".encode()).decode()
    response = httpx.post(
        server.url + "/logs/ingest",
        params={"hostname": unique()},
        content=body_of([{"line": "by hand"}]),
        headers={"Authorization": f"Basic {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", INGEST_PATHS)
def test_missing_key_is_401(server: Server, path: str) -> None:
    response = httpx.post(server.url + path, params={"hostname": unique()}, content=body_of([{"line": "x"}]), timeout=30)
    assert_error(response, 401)
    assert '"error":"Missing Credentials"' in response.text


@pytest.mark.parametrize("path", INGEST_PATHS)
def test_unknown_key_is_403(server: Server, path: str) -> None:
    for form in ("basic", "header-apikey", "query-apikey"):
        request = AUTH_FORMS[form]("0123456789abcdef0123456789abcdef")
        params = {"hostname": unique(), **request.pop("params", {})}
        response = httpx.post(server.url + path, params=params, content=body_of([{"line": "x"}]), timeout=30, **request)
        assert_error(response, 403)
        assert response.text.startswith('{"error":"Account not found or inactive",'), response.text


def test_revoked_key_is_403(server: Server) -> None:
    created = create_key(server, "ingestion")
    assert post(server, body_of([{"line": "before revocation"}]), key=created["key"]).status_code == 200

    listed = httpx.get(server.url + "/api/v1/keys", auth=(server.service_key, ""), timeout=10)
    assert listed.status_code == 200, listed.text
    ids = [k["id"] for k in listed.json()["keys"] if k["id"] == created["id"]]
    assert ids == [created["id"]]

    revoked = httpx.delete(f"{server.url}/api/v1/keys/{created['id']}", auth=(server.service_key, ""), timeout=10)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"]

    for request in ({"auth": (created["key"], "")}, {"headers": {"apikey": created["key"]}}):
        response = httpx.post(
            server.url + "/logs/ingest", params={"hostname": unique()}, content=body_of([{"line": "after"}]), timeout=30, **request
        )
        assert_error(response, 403)
        assert '"error":"Account not found or inactive"' in response.text
    listed_after = httpx.get(server.url + "/api/v1/keys", auth=(server.service_key, ""), timeout=10).json()["keys"]
    assert [k["active"] for k in listed_after if k["id"] == created["id"]] == [False]


def test_service_key_cannot_ingest(server: Server) -> None:
    response = post(server, body_of([{"line": "x"}]), key=server.service_key)
    assert_error(response, 403)
    assert response.json()["error"] == "this is a service key: it reads but cannot send lines; send with an ingestion key"


def test_ingestion_key_cannot_export_or_read_metrics(server: Server) -> None:
    response = httpx.get(server.url + "/v1/export", params={"from": 0, "to": now_ms()}, auth=(server.ingestion_key, ""), timeout=10)
    assert_error(response, 403)
    assert response.json()["error"] == "this is an ingestion key: it sends lines but cannot read them; read with a service key"
    response = httpx.get(server.url + "/metrics", auth=(server.ingestion_key, ""), timeout=10)
    assert_error(response, 403)


# -- request validation -------------------------------------------------------------------------


@pytest.mark.parametrize("path", INGEST_PATHS)
@pytest.mark.parametrize("hostname", [None, "", "   "])
def test_missing_hostname_is_400(server: Server, path: str, hostname: str | None) -> None:
    params = {} if hostname is None else {"hostname": hostname}
    response = httpx.post(
        server.url + path, params=params, content=body_of([{"line": "x"}]), auth=(server.ingestion_key, ""), timeout=30
    )
    assert response.status_code == 400
    assert '"error":"Missing param hostname.","code":"BadRequest","status":"error"' in response.text


@pytest.mark.parametrize(
    ("body", "contains"),
    [
        (b'{"lines": [', "malformed JSON"),
        (b"not json at all", "malformed JSON"),
        (b"", "malformed JSON"),
        (b'{"lines": [{"line": "a"},]}', "malformed JSON"),
    ],
    ids=["truncated", "garbage", "empty", "trailing-comma"],
)
def test_malformed_json_is_400(server: Server, body: bytes, contains: str) -> None:
    assert_error(post(server, body), 400, "BadRequest", contains)


def test_missing_line_names_its_position(server: Server) -> None:
    body = body_of([{"line": "fine"}, {"line": "fine too"}, {"app": "no line here"}])
    error = assert_error(post(server, body), 400, "BadRequest")
    assert "line" in error["error"] and "$.lines[2]" in error["error"], error


@pytest.mark.parametrize(
    ("line", "where"),
    [
        ({"line": 42}, "$.lines[0].line"),
        ({"line": "x", "app": ["a", "b"]}, "$.lines[0].app"),
        ({"line": "x", "meta": 7}, "$.lines[0].meta"),
        ({"line": "x", "meta": [1, 2]}, "$.lines[0].meta"),
        ({"line": "x", "level": 3}, "$.lines[0].level"),
        ({"line": "x", "label": {"team": 1}}, "$.lines[0].label"),
    ],
    ids=["line-number", "app-list", "meta-number", "meta-list", "level-number", "label-value-number"],
)
def test_wrong_types_are_400(server: Server, line: dict[str, Any], where: str) -> None:
    error = assert_error(post(server, body_of([line])), 400, "BadRequest")
    assert where in error["error"], error


@pytest.mark.parametrize("body", [b"[]", b'[{"line": "x"}]', b"{}", b'"lines"', b"42", b'{"lines": null}', b'{"lines": {"line": "x"}}'])
def test_body_that_is_not_a_lines_object_is_400(server: Server, body: bytes) -> None:
    assert_error(post(server, body), 400, "BadRequest")


def test_rejected_request_stores_nothing(server: Server) -> None:
    """One bad line fails the whole request: nothing of it is stored, not even the good lines."""
    host = unique()
    body = body_of([{"line": "good one"}, {"line": 5}])
    assert_error(post(server, body, params={"hostname": host}), 400)
    before = stored_lines(server)
    marker = unique("marker")
    assert server.ingest([{"line": marker}], params={"hostname": host}).status_code == 200
    server.wait_stored(before + 1)
    assert [line["_line"] for line in server.export(hosts=host)] == [marker]


# -- envelopes and encodings --------------------------------------------------------------------


def test_lines_envelope(server: Server) -> None:
    lines = [{"line": f"plain envelope {n}"} for n in range(5)]
    exported = send_and_read(server, lines)
    assert sorted(line["_line"] for line in exported) == sorted(line["line"] for line in lines)


@pytest.mark.parametrize("path", INGEST_PATHS)
def test_ls_envelope_of_the_official_libraries(server: Server, path: str) -> None:
    host = unique()
    body = orjson.dumps({"e": "ls", "ls": [{"line": f"ls envelope {n}", "app": "lib", "timestamp": now_ms()} for n in range(3)]})
    before = stored_lines(server)
    response = post(server, body, path=path, params={"hostname": host})
    assert response.status_code == 200, response.text
    server.wait_stored(before + 3)
    exported = server.export(hosts=host)
    assert sorted(line["_line"] for line in exported) == [f"ls envelope {n}" for n in range(3)]
    assert {line["_app"] for line in exported} == {"lib"}


@pytest.mark.parametrize("encoding", ["gzip", "GZIP", "x-gzip", "deflate"])
def test_compressed_body(server: Server, encoding: str) -> None:
    host = unique()
    lines = [{"line": f"compressed {encoding} line {n} " + "padding " * 20} for n in range(200)]
    raw = body_of(lines)
    body = zlib.compress(raw) if encoding == "deflate" else gzip.compress(raw)
    assert len(body) < len(raw) // 5
    before = stored_lines(server)
    response = post(server, body, headers={"Content-Encoding": encoding, "Content-Type": "application/json"}, params={"hostname": host})
    assert response.status_code == 200, response.text
    server.wait_stored(before + len(lines))
    assert sorted(line["_line"] for line in server.export(hosts=host)) == sorted(line["line"] for line in lines)


def test_corrupt_gzip_is_400(server: Server) -> None:
    headers = {"Content-Encoding": "gzip"}
    assert_error(post(server, b"\x1f\x8b\x08\x00this is not deflate data at all", headers=headers), 400, "BadRequest")
    assert_error(post(server, b"plain text, not gzip", headers=headers), 400, "BadRequest")
    truncated = gzip.compress(body_of([{"line": "x" * 1000}]))[:-12]
    assert_error(post(server, truncated, headers=headers), 400, "BadRequest")


def test_multi_member_gzip_body_is_read_whole(server: Server) -> None:
    """A gzip stream may hold several members (RFC 1952 2.2; pigz and streaming compressors
    write them); the body is all of them, not just the first."""
    host = unique()
    raw = body_of([{"line": f"member line {n}"} for n in range(50)])
    middle = len(raw) // 2
    body = gzip.compress(raw[:middle]) + gzip.compress(raw[middle:])
    assert gzip.decompress(body) == raw
    before = stored_lines(server)
    response = post(server, body, headers={"Content-Encoding": "gzip"}, params={"hostname": host})
    assert response.status_code == 200, response.text
    server.wait_stored(before + 50)
    assert len(server.export(hosts=host)) == 50


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_unsupported_content_encoding_is_415(server: Server, encoding: str) -> None:
    body = assert_error(post(server, body_of([{"line": "x"}]), headers={"Content-Encoding": encoding}), 415)
    assert body["code"] == "UnsupportedMediaType"


# -- a server with tight limits -----------------------------------------------------------------

LIMIT_BODY = 60_000
LIMIT_DECOMPRESSED = 100_000
LIMIT_LINE = 1024


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Small body, decompression and line limits; no timestamp skew limit (backfills allowed)."""
    running = start_server(
        tmp_path_factory.mktemp("limited"),
        TIMBERYARD_MAX_BODY_BYTES=str(LIMIT_BODY),
        TIMBERYARD_MAX_DECOMPRESSED_BYTES=str(LIMIT_DECOMPRESSED),
        TIMBERYARD_MAX_LINE_BYTES=str(LIMIT_LINE),
        TIMBERYARD_MAX_TIMESTAMP_SKEW_S="0",
    )
    yield running
    if running.process is not None:
        running.stop()


def test_gzip_bomb_is_413(limited: Server) -> None:
    raw = body_of([{"line": "A" * 200_000}])
    body = gzip.compress(raw)
    assert len(body) < LIMIT_BODY and len(raw) > LIMIT_DECOMPRESSED
    assert_error(post(limited, body, headers={"Content-Encoding": "gzip"}), 413, "PayloadTooLarge")
    # A body that decompresses to just under the cap is fine.
    small = body_of([{"line": "B" * 500} for _ in range(150)])
    assert LIMIT_DECOMPRESSED * 0.7 < len(small) < LIMIT_DECOMPRESSED
    assert post(limited, gzip.compress(small), headers={"Content-Encoding": "gzip"}).status_code == 200


def test_body_over_the_limit_is_413(limited: Server) -> None:
    body = body_of([{"line": "C" * 500} for _ in range(130)])
    assert len(body) > LIMIT_BODY
    assert_error(post(limited, body), 413, "PayloadTooLarge")


def test_chunked_body_over_the_limit_is_413(limited: Server) -> None:
    """Without a Content-Length the server counts while reading."""
    body = body_of([{"line": "D" * 500} for _ in range(130)])

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 8192):
            yield body[start : start + 8192]

    response = httpx.post(
        limited.url + "/logs/ingest", params={"hostname": unique()}, content=chunks(), auth=(limited.ingestion_key, ""), timeout=30
    )
    assert_error(response, 413, "PayloadTooLarge")


def test_long_line_is_truncated_with_a_marker_not_dropped(limited: Server) -> None:
    host = unique()
    long_text = "".join(f"{n:05d}," for n in range(600))  # 3600 bytes
    lines = [{"line": "short line"}, {"line": long_text}, {"line": "x" * LIMIT_LINE}]
    truncated_before = limited.metric("timberyard_ingest_truncated_lines_total")
    exported = send_and_read(limited, lines, params={"hostname": host})
    by_start = {line["_line"][:5]: line["_line"] for line in exported}
    assert len(exported) == 3
    assert by_start["short"] == "short line"
    assert by_start["x" * 5] == "x" * LIMIT_LINE  # exactly at the limit: untouched
    cut = by_start["00000"]
    assert cut.startswith(long_text[:LIMIT_LINE])
    assert not cut.startswith(long_text[: LIMIT_LINE + 1])
    assert "truncated" in cut[LIMIT_LINE:]
    assert limited.metric("timberyard_ingest_truncated_lines_total") == truncated_before + 1


@pytest.mark.parametrize(("prefix", "char"), [("a", "é"), ("ab", "€"), ("a", "😀")], ids=["2-byte", "3-byte", "4-byte"])
def test_truncation_cuts_utf8_on_a_character_boundary(limited: Server, prefix: str, char: str) -> None:
    width = len(char.encode())
    assert (LIMIT_LINE - len(prefix)) % width != 0  # the limit falls inside a character
    (exported,) = send_and_read(limited, [{"line": prefix + char * 2000}])
    line = exported["_line"]
    assert "\ufffd" not in line
    kept, marker = line.split(" [", 1)
    assert kept == prefix + char * ((LIMIT_LINE - len(prefix)) // width)
    assert "truncated" in marker


def test_zero_skew_keeps_old_timestamps_for_backfill(limited: Server) -> None:
    # Old, but inside the account's default 30-day retention (older lines would expire at once).
    old = now_ms() - 10 * 24 * 3600 * 1000
    older_iso = (datetime.now(UTC) - timedelta(days=25)).replace(microsecond=0)
    lines = [{"line": "ten days ago", "timestamp": old}, {"line": "25 days ago", "timestamp": older_iso.isoformat()}]
    clamped_before = limited.metric("timberyard_ingest_clamped_timestamps_total")
    exported = send_and_read(limited, lines)
    ts = {line["_line"]: line["_ts"] for line in exported}
    assert ts == {"ten days ago": old, "25 days ago": int(older_iso.timestamp() * 1000)}
    assert limited.metric("timberyard_ingest_clamped_timestamps_total") == clamped_before


@pytest.mark.parametrize(
    "timestamp",
    ["2200-01-01T00:00:00Z", 7_258_118_400_000, 2**53, 2**62, "9999-12-31T00:00:00Z"],
    ids=["iso-2200", "ms-2200", "2^53", "2^62", "iso-9999"],
)
def test_zero_skew_never_loses_a_line_to_a_timestamp_the_store_cannot_hold(limited: Server, timestamp: Any) -> None:
    """Without a skew limit any readable timestamp is taken; one the store cannot represent
    must still leave an acknowledged line readable (at its time, or at the receive time)."""
    host = unique()
    before = stored_lines(limited)
    start = now_ms()
    response = limited.ingest([{"line": f"far future {timestamp}", "timestamp": timestamp}], params={"hostname": host})
    assert response.status_code == 200, response.text
    limited.wait_stored(before + 1)
    exported = limited.export(hosts=host, to=2**53 - 1)
    assert [line["_line"] for line in exported] == [f"far future {timestamp}"], "an acknowledged line vanished"
    sent = timestamp if isinstance(timestamp, int) else int(datetime.fromisoformat(timestamp).timestamp() * 1000)
    assert exported[0]["_ts"] == sent or start - 1000 <= exported[0]["_ts"] <= now_ms() + 1000, exported[0]["_ts"]


# -- line fields, read back through export ------------------------------------------------------


def test_export_with_basic_and_servicekey_header(server: Server) -> None:
    host = unique()
    before = stored_lines(server)
    assert server.ingest([{"line": "read me twice"}], params={"hostname": host}).status_code == 200
    server.wait_stored(before + 1)
    query = {"from": 0, "to": now_ms() + 60_000, "hosts": host}
    by_basic = httpx.get(server.url + "/v1/export", params=query, auth=(server.service_key, ""), timeout=10)
    by_header = httpx.get(server.url + "/v1/export", params=query, headers={"servicekey": server.service_key}, timeout=10)
    assert by_basic.status_code == by_header.status_code == 200
    assert by_basic.headers["content-type"].startswith("application/x-ndjson")
    assert by_basic.content == by_header.content
    assert [orjson.loads(line)["_line"] for line in by_basic.content.splitlines()] == ["read me twice"]


def test_timestamps_epoch_ms_seconds_and_iso(server: Server) -> None:
    base = (now_ms() // 1000) * 1000 - 3_600_000
    iso_z = datetime.fromtimestamp((base + 1000) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    iso_offset = datetime.fromtimestamp((base + 2000) / 1000, timezone(timedelta(hours=2))).isoformat()
    lines = [
        {"line": "epoch ms", "timestamp": base + 123},
        {"line": "iso z", "timestamp": iso_z},
        {"line": "iso offset", "timestamp": iso_offset},
        {"line": "epoch seconds", "timestamp": (base + 3000) // 1000},
        {"line": "epoch ms as string", "timestamp": str(base + 4000)},
        {"line": "epoch ms float", "timestamp": float(base + 5000)},
    ]
    exported = send_and_read(server, lines)
    ts = {line["_line"]: line["_ts"] for line in exported}
    assert ts == {
        "epoch ms": base + 123,
        "iso z": base + 1000,
        "iso offset": base + 2000,
        "epoch seconds": base + 3000,
        "epoch ms as string": base + 4000,
        "epoch ms float": base + 5000,
    }
    assert [line["_line"] for line in exported] == [line["line"] for line in lines]  # time order


def test_line_without_timestamp_gets_the_receive_time(server: Server) -> None:
    start = now_ms()
    (exported,) = send_and_read(server, [{"line": "no timestamp"}])
    assert start - 1000 <= exported["_ts"] <= now_ms() + 1000


def test_app_env_file_and_given_level(server: Server) -> None:
    lines = [
        {"line": "ERROR but the sender says info", "app": "billing", "env": "prod", "file": "/var/log/billing.log", "level": "info"},
        {"line": "given warning", "app": "billing", "level": "warning"},
        {"line": "given Err", "level": "Err"},
        {"line": "given custom", "level": "audit"},
        {"line": "given fatal lower", "level": "fatal"},
    ]
    exported = {line["_line"]: line for line in send_and_read(server, lines)}
    first = exported["ERROR but the sender says info"]
    assert (first["_app"], first["_env"], first["_file"], first["level"]) == ("billing", "prod", "/var/log/billing.log", "INFO")
    assert exported["given warning"]["level"] == "WARN"
    assert exported["given Err"]["level"] == "ERROR"
    assert exported["given custom"]["level"] == "AUDIT"
    assert exported["given fatal lower"]["level"] == "FATAL"
    assert "_env" not in exported["given custom"]


DETECTED_LEVELS = {
    "2026-11-28 10:00:00 ERROR payment failed": "ERROR",
    "[WARN] disk almost full": "WARN",
    "Warning: deprecated option": "WARN",
    "INFO: service started": "INFO",
    "debug: x=1": "DEBUG",
    "FATAL out of memory": "FATAL",
    "CRITICAL temperature reached": "CRITICAL",
    "TRACE entering handler": "TRACE",
    "level=error msg=boom": "ERROR",
    "ERR connection reset": "ERROR",
    "panic: runtime error": "FATAL",
    "nothing to see here": "",
    "information about terrorists": "",
    "an err in prose stays unknown": "",
}


def test_level_detected_from_the_line_when_absent(server: Server) -> None:
    lines = [{"line": text} for text in DETECTED_LEVELS]
    host = unique()
    exported = send_and_read(server, lines, params={"hostname": host})
    assert {line["_line"]: line["level"] for line in exported} == DETECTED_LEVELS
    fatal = server.export(hosts=host, levels="fatal")
    assert sorted(line["_line"] for line in fatal) == ["FATAL out of memory", "panic: runtime error"]


def test_per_line_hostname_overrides_the_query(server: Server) -> None:
    query_host, line_host, line_host2 = unique(), unique(), unique()
    before = stored_lines(server)
    lines = [{"line": "query host"}, {"line": "hostname field", "hostname": line_host}, {"line": "host field", "host": line_host2}]
    assert server.ingest(lines, params={"hostname": query_host}).status_code == 200
    server.wait_stored(before + 3)
    assert [line["_line"] for line in server.export(hosts=query_host)] == ["query host"]
    assert [line["_line"] for line in server.export(hosts=line_host)] == ["hostname field"]
    assert [line["_line"] for line in server.export(hosts=line_host2)] == ["host field"]
    both = server.export(hosts=f"{line_host},{line_host2}")
    assert {line["_host"] for line in both} == {line_host, line_host2}


def test_meta_as_object_and_as_json_string(server: Server) -> None:
    meta = {"user": "ann", "count": 5, "nested": {"a": [1, 2]}, "ok": True}
    lines = [
        {"line": "meta object", "meta": meta},
        {"line": "meta string", "meta": orjson.dumps(meta).decode()},
        {"line": "meta null", "meta": None},
        {"line": "no meta"},
    ]
    exported = {line["_line"]: line for line in send_and_read(server, lines)}
    for name in ("meta object", "meta string"):
        line = exported[name]
        assert line["_meta"] == meta, line
        assert (line["user"], line["count"], line["nested"], line["ok"]) == ("ann", 5, {"a": [1, 2]}, True)
    for name in ("meta null", "no meta"):
        assert "_meta" not in exported[name] and "user" not in exported[name]


def test_meta_cannot_overwrite_reserved_fields(server: Server) -> None:
    host = unique()
    meta = {"_host": "evil", "_line": "forged", "level": "FAKE", "_ts": 1, "_lid": "x", "custom": 1}
    (exported,) = send_and_read(server, [{"line": "real line", "meta": meta}], params={"hostname": host})
    assert (exported["_host"], exported["_line"], exported["level"], exported["custom"]) == (host, "real line", "", 1)
    assert exported["_ts"] > 1 and exported["_lid"] != "x"
    assert exported["_meta"] == meta


def test_meta_string_that_is_not_an_object_is_kept_not_lost(server: Server) -> None:
    bad_before = server.metric("timberyard_ingest_bad_meta_total")
    host = unique()
    before = stored_lines(server)
    response = server.ingest([{"line": "odd meta", "meta": "just words"}], params={"hostname": host})
    assert response.status_code == 200, response.text
    assert response.json()["warnings"]
    server.wait_stored(before + 1)
    (exported,) = server.export(hosts=host)
    assert exported["_meta"] == {"_unparsed": "just words"}
    assert server.metric("timberyard_ingest_bad_meta_total") == bad_before + 1


def test_labels_and_annotations(server: Server) -> None:
    lines = [{"line": "labelled", "label": {"team": "core", "tier": "1"}, "annotation": {"owner": "sre"}}, {"line": "bare"}]
    exported = {line["_line"]: line for line in send_and_read(server, lines)}
    assert exported["labelled"]["_label"] == {"team": "core", "tier": "1"}
    assert exported["labelled"]["_annotation"] == {"owner": "sre"}
    assert "_label" not in exported["bare"] and "_annotation" not in exported["bare"]


def test_tags_from_query_and_lines_are_merged(server: Server) -> None:
    host = unique()
    before = stored_lines(server)
    lines = [
        {"line": "no own tags"},
        {"line": "string tags", "tags": "x, y,a"},
        {"line": "list tags", "tags": ["z", "b"]},
    ]
    response = httpx.post(
        server.url + "/logs/ingest",
        params=[("hostname", host), ("tags", "a,b"), ("tags", "c"), ("tags", "a")],
        content=body_of(lines),
        auth=(server.ingestion_key, ""),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    server.wait_stored(before + 3)
    tags = {line["_line"]: line["_tag"] for line in server.export(hosts=host)}
    assert tags == {"no own tags": ["a", "b", "c"], "string tags": ["a", "b", "c", "x", "y"], "list tags": ["a", "b", "c", "z"]}


def test_ip_and_mac_query_params(server: Server) -> None:
    (exported,) = send_and_read(server, [{"line": "with ip"}], params={"hostname": unique(), "ip": "10.1.2.3", "mac": "aa:bb:cc:dd:ee:ff"})
    assert (exported["_ip"], exported["_mac"]) == ("10.1.2.3", "aa:bb:cc:dd:ee:ff")


def test_line_ids_are_unique(server: Server) -> None:
    host = unique()
    before = stored_lines(server)
    for batch in range(3):
        assert server.ingest([{"line": f"id {batch}-{n}"} for n in range(100)], params={"hostname": host}).status_code == 200
    server.wait_stored(before + 300)
    exported = server.export(hosts=host)
    assert len(exported) == 300
    assert len({line["_lid"] for line in exported}) == 300
    assert all(isinstance(line["_lid"], str) and line["_lid"] for line in exported)


def test_unicode_and_control_characters_round_trip(server: Server) -> None:
    texts = ["naïve café ☕ 日本語 😀", 'quotes " and \\ backslash', "tab\tand\nnewline", "   leading and trailing   "]
    exported = send_and_read(server, [{"line": text} for text in texts])
    assert sorted(line["_line"] for line in exported) == sorted(texts)


# -- timestamps that need correcting ------------------------------------------------------------


def test_bad_timestamp_does_not_fail_the_batch(server: Server) -> None:
    host = unique()
    good = now_ms() - 60_000
    bad_before = server.metric("timberyard_ingest_bad_timestamps_total")
    before = stored_lines(server)
    start = now_ms()
    lines = [{"line": "good ts", "timestamp": good}, {"line": "bad ts", "timestamp": "yesterday-ish"}, {"line": "negative ts", "timestamp": -5}]
    response = server.ingest(lines, params={"hostname": host})
    assert response.status_code == 200, response.text
    warnings = response.json()["warnings"]
    assert isinstance(warnings, list) and any("timestamp" in w for w in warnings), warnings
    server.wait_stored(before + 3)
    ts = {line["_line"]: line["_ts"] for line in server.export(hosts=host)}
    assert ts["good ts"] == good
    for name in ("bad ts", "negative ts"):
        assert start - 1000 <= ts[name] <= now_ms() + 1000, (name, ts[name], start)
    assert server.metric("timberyard_ingest_bad_timestamps_total") == bad_before + 2


def test_timestamps_far_from_now_get_the_receive_time(server: Server) -> None:
    host = unique()
    start = now_ms()
    within = start - 23 * 3_600_000
    lines = [
        {"line": "two days ahead", "timestamp": start + 48 * 3_600_000},
        {"line": "thirty days ago", "timestamp": start - 30 * 24 * 3_600_000},
        {"line": "in the year 2000", "timestamp": "2000-01-01T00:00:00Z"},
        {"line": "23 hours ago", "timestamp": within},
    ]
    clamped_before = server.metric("timberyard_ingest_clamped_timestamps_total")
    before = stored_lines(server)
    response = server.ingest(lines, params={"hostname": host})
    assert response.status_code == 200, response.text
    assert response.json().get("warnings")
    server.wait_stored(before + 4)
    ts = {line["_line"]: line["_ts"] for line in server.export(hosts=host)}
    assert ts["23 hours ago"] == within
    for name in ("two days ahead", "thirty days ago", "in the year 2000"):
        assert start - 1000 <= ts[name] <= now_ms() + 1000, (name, ts[name])
    assert server.metric("timberyard_ingest_clamped_timestamps_total") == clamped_before + 3


def test_client_clock_drift_is_corrected_with_now(server: Server) -> None:
    host = unique()
    client_now = now_ms() + 3_600_000  # the client's clock is an hour fast
    start = now_ms()
    lines = [{"line": "at client now", "timestamp": client_now}, {"line": "a minute before", "timestamp": client_now - 60_000}]
    before = stored_lines(server)
    response = server.ingest(lines, params={"hostname": host, "now": client_now})
    assert response.status_code == 200, response.text
    server.wait_stored(before + 2)
    ts = {line["_line"]: line["_ts"] for line in server.export(hosts=host)}
    end = now_ms()
    assert start - 2000 <= ts["at client now"] <= end + 2000
    assert ts["at client now"] - ts["a minute before"] == 60_000
    # Mixed timestamp forms take the per-line path; the correction must be the same.
    host2 = unique()
    before = stored_lines(server)
    iso = datetime.fromtimestamp(client_now / 1000, UTC).isoformat()
    response = server.ingest([{"line": "iso at client now", "timestamp": iso}, {"line": "none"}], params={"hostname": host2, "now": client_now})
    assert response.status_code == 200, response.text
    server.wait_stored(before + 2)
    ts2 = {line["_line"]: line["_ts"] for line in server.export(hosts=host2)}
    assert start - 2000 <= ts2["iso at client now"] <= now_ms() + 2000
    assert start - 2000 <= ts2["none"] <= now_ms() + 2000


@pytest.mark.parametrize("now", ["soon", "99999999999999999999999", "inf", "1e400", "-inf"])
def test_bad_now_param_is_400(server: Server, now: str) -> None:
    response = server.ingest([{"line": "x", "timestamp": now_ms()}], params={"hostname": unique(), "now": now})
    assert_error(response, 400, "BadRequest", "now")


def test_integer_timestamps_beyond_64_bits_are_bad_timestamps(server: Server) -> None:
    """Every line with an integer timestamp takes a vectorised path; out-of-range values must
    be treated like any unreadable timestamp, not crash the request."""
    host = unique()
    bad_before = server.metric("timberyard_ingest_bad_timestamps_total")
    before = stored_lines(server)
    start = now_ms()
    lines = [{"line": "int64 overflow", "timestamp": 2**63}, {"line": "uint64 max", "timestamp": 2**64 - 1}]
    response = server.ingest(lines, params={"hostname": host})
    assert response.status_code == 200, response.text
    assert response.json().get("warnings")
    server.wait_stored(before + 2)
    ts = {line["_line"]: line["_ts"] for line in server.export(hosts=host)}
    assert set(ts) == {"int64 overflow", "uint64 max"}
    assert all(start - 1000 <= value <= now_ms() + 1000 for value in ts.values()), ts
    assert server.metric("timberyard_ingest_bad_timestamps_total") == bad_before + 2


# -- the export API -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def timeline(server: Server) -> tuple[str, int, list[dict[str, Any]]]:
    """Ten lines a minute apart under a fresh host, the last one eleven minutes ago, sent newest first."""
    host = unique()
    base = (now_ms() // 1000) * 1000 - 20 * 60_000
    lines = [
        {
            "line": f"event {n:02d} {'Connection Refused by upstream' if n % 3 == 0 else 'all good'}",
            "timestamp": base + n * 60_000,
            "app": "api" if n % 2 == 0 else "worker",
            "level": ["error", "warn", "info"][n % 3],
            "tags": ["even"] if n % 2 == 0 else ["odd"],
        }
        for n in range(10)
    ]
    before = stored_lines(server)
    assert server.ingest(list(reversed(lines)), params={"hostname": host}).status_code == 200
    server.wait_stored(before + 10)
    return host, base, lines


def names(exported: list[dict[str, Any]]) -> list[str]:
    return [line["_line"][:8] for line in exported]


def test_export_is_in_time_order(server: Server, timeline: tuple[str, int, list[dict[str, Any]]]) -> None:
    host, base, lines = timeline
    exported = server.export(hosts=host)
    assert names(exported) == [f"event {n:02d}" for n in range(10)]
    assert [line["_ts"] for line in exported] == [base + n * 60_000 for n in range(10)]


def test_export_from_and_to_in_seconds_and_ms(server: Server, timeline: tuple[str, int, list[dict[str, Any]]]) -> None:
    host, base, _ = timeline
    expected = [f"event {n:02d}" for n in (3, 4, 5, 6)]
    in_ms = server.export(hosts=host, **{"from": base + 3 * 60_000, "to": base + 6 * 60_000})
    assert names(in_ms) == expected  # both ends inclusive
    in_s = server.export(hosts=host, **{"from": (base + 3 * 60_000) // 1000, "to": (base + 6 * 60_000) // 1000})
    assert names(in_s) == expected
    mixed = server.export(hosts=host, **{"from": (base + 150_000) // 1000, "to": base + 6 * 60_000 + 59_000})
    assert names(mixed) == expected
    assert server.export(hosts=host, **{"from": base + 10 * 60_000, "to": now_ms()}) == []


def test_export_size_limits_and_prefer(server: Server, timeline: tuple[str, int, list[dict[str, Any]]]) -> None:
    host, _, _ = timeline
    assert names(server.export(hosts=host, size=3, prefer="head")) == ["event 00", "event 01", "event 02"]
    assert names(server.export(hosts=host, size=3, prefer="tail")) == ["event 07", "event 08", "event 09"]
    assert names(server.export(hosts=host, size=3)) == ["event 07", "event 08", "event 09"]  # tail is the default
    assert len(server.export(hosts=host, size=10_000)) == 10


@pytest.mark.parametrize("size", ["0", "-1", "abc", "10001", "2.5", ""])
def test_export_invalid_size_is_400(server: Server, size: str) -> None:
    response = httpx.get(server.url + "/v1/export", params={"from": 0, "to": now_ms(), "size": size}, auth=(server.service_key, ""), timeout=10)
    assert_error(response, 400, "BadRequest", "size")


def test_export_query_terms(server: Server, timeline: tuple[str, int, list[dict[str, Any]]]) -> None:
    """`query` is the search language: terms are case-insensitive prefixes of words, AND by default."""
    host, _, _ = timeline
    refused = ["event 00", "event 03", "event 06", "event 09"]
    assert names(server.export(hosts=host, query="refused")) == refused
    assert names(server.export(hosts=host, query="REFUSED upstream")) == refused  # terms AND, any case
    assert names(server.export(hosts=host, query="refu")) == refused  # a prefix of a word
    assert names(server.export(hosts=host, query="fuse")) == []  # not the middle of a word
    assert names(server.export(hosts=host, query="refused downstream")) == []
    assert names(server.export(hosts=host, query="event 05")) == ["event 05"]
    assert names(server.export(hosts=host, query="refused -upstream")) == []


def test_export_malformed_query_is_a_400_naming_the_position(server: Server) -> None:
    response = httpx.get(
        server.url + "/v1/export", params={"from": 0, "to": now_ms(), "query": "error AND (app:nginx"}, auth=(server.service_key, ""), timeout=10
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "QuerySyntaxError" and isinstance(body["position"], int) and body["error"]


def test_export_query_text_is_data_not_syntax(server: Server) -> None:
    texts = ["disk 100% full", "it's done", "a_b literal", "path C:\\temp\\x", "semi; DROP TABLE logs --", "plain words"]
    host = unique()
    send_and_read(server, [{"line": text} for text in texts], params={"hostname": host})
    for term, expected in [("100%", ["disk 100% full"]), ("it's", ["it's done"]), ("_", ["a_b literal"]), ('"C:\\\\temp"', ["path C:\\temp\\x"]), ("DROP", ["semi; DROP TABLE logs --"]), ("%", ["disk 100% full"])]:
        assert [line["_line"] for line in server.export(hosts=host, query=term)] == expected, term
    assert len(server.export(hosts=host)) == len(texts)


def test_export_filters(server: Server, timeline: tuple[str, int, list[dict[str, Any]]]) -> None:
    host, _, _ = timeline
    assert names(server.export(hosts=host, apps="worker")) == [f"event {n:02d}" for n in (1, 3, 5, 7, 9)]
    assert names(server.export(hosts=host, levels="error")) == [f"event {n:02d}" for n in (0, 3, 6, 9)]
    assert names(server.export(hosts=host, levels="ERROR,warn")) == [f"event {n:02d}" for n in (0, 1, 3, 4, 6, 7, 9)]
    assert names(server.export(hosts=host, tags="odd")) == [f"event {n:02d}" for n in (1, 3, 5, 7, 9)]
    assert names(server.export(hosts=host, apps="api", levels="info")) == ["event 02", "event 08"]
    assert server.export(hosts=host, apps="nope") == []
    assert server.export(hosts=unique()) == []


def test_export_repeated_list_params(server: Server, timeline: tuple[str, int, list[dict[str, Any]]]) -> None:
    host, _, _ = timeline
    response = httpx.get(
        server.url + "/v1/export",
        params=[("from", 0), ("to", now_ms()), ("hosts", host), ("levels", "error"), ("levels", "warn")],
        auth=(server.service_key, ""),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert len(response.content.splitlines()) == 7


@pytest.mark.parametrize(
    ("params", "contains"),
    [
        ({"to": 1}, "from"),
        ({"from": "", "to": 1}, "from"),
        ({"from": 0}, "to"),
        ({"from": "the day before", "to": 1}, "from"),
        ({"from": "yesterday", "to": 1}, "after"),
        ({"from": 0, "to": 1, "prefer": "middle"}, "prefer"),
    ],
)
def test_export_bad_params_are_400(server: Server, params: dict[str, Any], contains: str) -> None:
    response = httpx.get(server.url + "/v1/export", params=params, auth=(server.service_key, ""), timeout=10)
    assert_error(response, 400, "BadRequest", contains)


def test_export_without_key_is_401(server: Server) -> None:
    response = httpx.get(server.url + "/v1/export", params={"from": 0, "to": now_ms()}, timeout=10)
    assert_error(response, 401)
    assert '"error":"Missing Credentials"' in response.text
    response = httpx.get(server.url + "/v1/export", params={"from": 0, "to": now_ms()}, auth=("nope", ""), timeout=10)
    assert_error(response, 403)


# -- operational endpoints ----------------------------------------------------------------------


def test_health_and_readiness_need_no_key(server: Server) -> None:
    health = httpx.get(server.url + "/healthz", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = httpx.get(server.url + "/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_metrics_need_a_service_key_or_the_operator_token(server: Server) -> None:
    assert_error(httpx.get(server.url + "/metrics", timeout=10), 401)
    response = httpx.get(server.url + "/metrics", auth=(server.service_key, ""), timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "timberyard_account_ingest_lines_total{account=" in response.text
    assert "timberyard_wal_pending_bytes" not in response.text  # node-wide: the operator's (test_metrics_access.py)
    assert "timberyard_wal_pending_bytes" in httpx.get(server.url + "/metrics", headers=OPERATOR, timeout=10).text


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/nope", 404), ("POST", "/logs", 404), ("GET", "/v1/export/x", 404), ("GET", "/logs/ingest", 405), ("DELETE", "/v1/export", 405)])
def test_unknown_routes_are_json(server: Server, method: str, path: str, status: int) -> None:
    response = httpx.request(method, server.url + path, timeout=10)
    assert_error(response, status)


# -- backpressure -------------------------------------------------------------------------------


def test_backpressure_503_then_everything_acknowledged_survives_a_restart(tmp_path: Path) -> None:
    wal_max = 300_000
    node = start_server(
        tmp_path,
        TIMBERYARD_WAL_MAX_BYTES=str(wal_max),
        TIMBERYARD_BATCH_MAX_WAIT_MS="600000",
        TIMBERYARD_BATCH_MAX_LINES="100000000",
    )
    try:
        host = unique()
        acked: list[str] = []
        refused: list[httpx.Response] = []
        with httpx.Client(auth=(node.ingestion_key, ""), timeout=30) as client:
            for request in range(400):
                numbers = [f"bp-{request:04d}-{n:03d}" for n in range(100)]
                body = body_of([{"line": f"seq={number} " + "load " * 20} for number in numbers])
                response = client.post(node.url + "/logs/ingest", params={"hostname": host}, content=body)
                if response.status_code == 200:
                    assert not refused, "a request was accepted after the log was full, with nothing draining it"
                    acked.extend(numbers)
                else:
                    refused.append(response)
                    if len(refused) == 10:
                        break
        assert acked, "no request was accepted at all"
        assert len(refused) == 10, f"never refused after {len(acked)} lines"
        for response in refused:
            body = assert_error(response, 503, "Overloaded")
            assert int(response.headers["retry-after"]) >= 1
            assert "retry" in body["error"]
        assert node.metric("timberyard_wal_pending_bytes") <= wal_max
        assert node.metric("timberyard_store_lines_total") == 0  # nothing drained: the test measured what it meant to

        assert node.stop() == 0  # SIGTERM drains the write-ahead log into the store
        node.start()
        exported = node.export(hosts=host)
        stored = [line["_line"].split(" ", 1)[0].removeprefix("seq=") for line in exported]
        assert len(stored) == len(set(stored)), "duplicates after the restart"
        assert sorted(stored) == sorted(acked)
        # With the log drained, the node accepts again.
        assert node.ingest([{"line": "after restart"}], params={"hostname": host}).status_code == 200
    finally:
        if node.process is not None:
            node.stop()
