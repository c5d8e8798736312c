"""The fixed rows the conformance cases search: realistic lines of many shapes.

Each row has the line columns (`template` the id of its log template, 0 for none) and `meta`, the fields the sender gave or a parser read (None for
none). `BATCHES` holds them as the pipeline writes them (fields flattened into one typed column
per path, see core/fields.py): rows with `batch` set share that batch, and every other row joins
the first batch where its fields keep their kinds, so a path can be a number in one batch and a
string in another, as it can in the store. `TAIL_ROWS` are the same lines as live tail hands
them over, fields as nested objects.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from timberyard.core.fields import CONFLICTS, FieldColumns, flatten
from timberyard.core.records import FIELDS, RECORD_SCHEMA

_EMPTY: dict[str, Any] = {
    "ingester": "http",
    "host": "",
    "app": "",
    "level": "",
    "env": "",
    "file": "",
    "format": "",
    "tags": [],
    "k8s_namespace": "",
    "k8s_pod": "",
    "k8s_container": "",
    "k8s_node": "",
    "labels": {},
    "template": 0,
    "batch": None,
}


def _row(id_: int, line: str, meta: dict[str, Any] | None = None, **columns: Any) -> dict[str, Any]:
    return {**_EMPTY, **columns, "id": id_, "line": line, "meta": meta}


_NGINX = {"app": "nginx", "env": "production", "file": "/var/log/nginx/access.log", "format": "nginx"}
_AUTH = {"host": "db-1", "app": "sshd", "file": "/var/log/auth.log", "ingester": "syslog-tcp", "format": "syslog"}
_JSON = {"format": "json"}
_AGENT = {"ingester": "agent"}
_UDP = {"ingester": "syslog-udp"}

ROWS: list[dict[str, Any]] = [
    _row(
        1,
        '10.0.0.1 - - [12/Mar/2024:10:00:00 +0000] "GET /api/users?id=42 HTTP/1.1" 200 512 "-" '
        '"Mozilla/5.0 (X11; Linux x86_64)"',
        {"status": 200, "bytes": 512, "method": "GET", "path": "/api/users"},
        host="web-01", level="INFO", tags=["web", "frontend"], template=7, **_NGINX,
    ),
    _row(
        2,
        '10.0.0.2 - - [12/Mar/2024:10:00:01 +0000] "GET /favicon.ico HTTP/1.1" 404 0 "-" "curl/8.1"',
        {"status": 404, "bytes": 0, "method": "GET"},
        host="web-01", level="WARN", template=7, **_NGINX,
    ),
    _row(
        3,
        '10.0.0.3 - - [12/Mar/2024:10:00:02 +0000] "POST /api/orders HTTP/1.1" 503 162 "-" "python-requests/2.31"',
        {"status": 503, "method": "POST", "upstream": {"addr": "10.0.1.5:8080", "time": 1.25}},
        host="web-02", level="ERROR", template=8, **_NGINX,
    ),
    _row(
        4,
        '10.0.0.9 - - [12/Mar/2024:10:00:03 +0000] "PUT /api/orders/7 HTTP/1.1" 500 99 "-" "okhttp/4.9"',
        {"status": "500", "method": "PUT"},
        host="web-02", level="ERROR", template=8, **_NGINX,
    ),
    # template ids use all 64 bits
    _row(5, "Accepted publickey for deploy from 192.168.1.20 port 52144 ssh2", level="INFO", template=2**63 + 5, **_AUTH),
    _row(6, "Failed password for invalid user admin from 203.0.113.7 port 40022 ssh2", level="WARN", **_AUTH),
    _row(7, "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)", host="db-1", app="kernel", **_UDP),
    _row(8, "(root) CMD (/usr/lib/php/sessionclean)", host="db-1", app="CRON", level="INFO", **_UDP, format="syslog"),
    _row(
        9,
        "payment failed for order 1234: card_declined",
        {
            "user": {"id": 42, "name": "Ada Lovelace", "email": "ada@example.com"},
            "order_id": "1234",
            "amount": 99.95,
            "currency": "EUR",
            "retry": False,
        },
        host="api-1", app="billing-api", level="ERROR", env="staging", **_JSON,
    ),
    _row(
        10,
        "payment captured for order 1235",
        {"user": {"id": "43", "name": "Grace Hopper"}, "order_id": "1235", "amount": "12.50", "retry": True},
        host="api-1", app="billing-api", level="INFO", env="staging", **_JSON,
    ),
    _row(
        11,
        "cache hit ratio=0.93 keys=1024",
        {"cache": {"hit_ratio": 0.93, "keys": 1024}, "user": None},
        host="api-2", app="billing-api", level="DEBUG", env="production", format="logfmt",
    ),
    _row(
        12,
        "token expired for user_id=77 (clock skew 3s)",
        {"user": {"id": 77}, "skew_s": 3, "reason": "Expired"},
        host="api-2", app="auth-service", level="WARN", env="production", **_JSON,
    ),
    _row(
        13,
        "GET /cart 200 12ms",
        {"latency_ms": 12, "route": "/cart"},
        host="node-a", app="checkout", level="INFO", env="production", tags=["k8s"], **_AGENT, **_JSON,
        k8s_namespace="shop", k8s_pod="checkout-7d9f8b6c4-x2k9p", k8s_container="checkout", k8s_node="node-a",
        labels={"team": "payments", "tier": "backend"},
    ),
    _row(
        14,
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
        host="node-b", app="istio-proxy", level="WARN", env="production", tags=["k8s", "mesh"], **_AGENT,
        k8s_namespace="shop", k8s_pod="checkout-7d9f8b6c4-abcde", k8s_container="istio-proxy", k8s_node="node-b",
        labels={"team": "platform", "shard": "3"},
    ),
    _row(
        15,
        "[ERROR] plugin/errors: 2 example.org. A: read udp 10.244.0.3:53->8.8.8.8:53: i/o timeout",
        host="node-a", app="coredns", level="ERROR", **_AGENT,
        k8s_namespace="kube-system", k8s_pod="coredns-5d78c9869d-qwert", k8s_container="coredns", k8s_node="node-a",
        labels={"k8s-app": "kube-dns"},
    ),
    _row(
        16,
        "Größe überschritten für Benutzer Zoë — café ÉCOLE",
        {"ville": "Zürich", "note": "é"},
        host="paris-1", app="app-fr", level="INFO",
    ),
    _row(17, "エラー: 接続がタイムアウトしました (timeout=30s)", {"code": "E100"}, app="app-jp", level="ERROR"),
    _row(18, "Ошибка подключения к базе данных", {}, app="app-ru", level="ERROR"),
    _row(
        19,
        "job[queue=emails] done: sent=15/15 (100%) in 2.5s; next=@hourly #tag",
        app="worker", level="INFO", tags=["batch", "Email", "2024"],
    ),
    _row(
        20,
        "path \"C:\\Temp\\new folder\" isn't writable: it's 'read-only'",
        {"path": "C:\\Temp\\new folder"},
        app="worker", level="WARN",
    ),
    _row(21, "user_login_success uid=5 snake_case_name", {"event": "user_login_success"}, app="worker", level="INFO"),
    _row(22, "Linux kLinux LINUX-kernel", host="WEB-03", app="Frontend", level="info", env="Production", tags=["Web"]),
    _row(23, "heartbeat"),
    _row(
        24,
        "stock updated sku=ABC-123 qty=-5",
        {
            "sku": "ABC-123",
            "qty": -5,
            "tags": ["a", "b"],
            "deep": {"a": {"b": {"c": "bottom"}}},
            "ratio": "1e3",
            "big": "12abc",
        },
        app="inventory", level="INFO",
    ),
    _row(
        25,
        "gauge cpu.load=0.75 mem.used=512MB",
        {"cpu": {"load": 0.75}, "mem": {"used": "512MB"}, "count": "0012", "neg": "-3.5", "empty": ""},
        app="metrics", level="INFO",
    ),
    _row(
        26,
        "CRITICAL disk /dev/sda1 is 99% full",
        {"disk": "/dev/sda1", "pct": 99},
        app="legacy", level="CRITICAL", file="/var/log/messages",
    ),
    _row(
        27,
        "backend api-servers/api-1 is UP, reason: Layer7 check passed, code: 200, check duration: 3ms",
        {"backend": "api-servers", "server": "api-1", "status": "UP"},
        host="lb-1.example.com", app="haproxy", level="INFO",
    ),
    _row(
        28,
        "flag new_checkout evaluated to true for user 42",
        {"flag": "new_checkout", "value": True, "user": {"id": 42}},
        app="feature-flags", level="INFO", labels={"team": "payments", "canary": "yes"},
    ),
    _row(
        29,
        "sent mail to ada@example.com via https://smtp.example.com:587/relay",
        {"to": "ada@example.com"},
        app="mailer", level="INFO",
    ),
    _row(30, "read this OR that and those; NOT now", {"status": "OK"}, app="docs", level="INFO"),
    _row(
        31,
        "multi\nline trace\n\tat com.example.Main.run(Main.java:42)",
        {"exception": {"class": "java.lang.NullPointerException"}},
        app="java-app", level="ERROR",
    ),
    # long ids (the Bloom-indexed tokens): a UUID, one inside a longer token, upper case, glued by `_`
    _row(32, "tid=b4dd622d-976f-4a3c-9d1e-0123456789ab", app="tracer"),
    _row(33, "sid xb4dd622d-976f-4a3c; B4DD622D-976F-FFFF", app="tracer"),
    _row(34, "req_7f3a9c1e5d2b_end 7f3a9c1e5d2b4 deadbeef00112233", app="tracer"),
    # levels beyond the common ones, as the pipeline stores them (canonical names)
    _row(35, "Kernel panic: attempted to kill init", app="kernel", level="FATAL", **_UDP, format="syslog"),
    _row(36, "system is unusable", app="kernel", level="EMERGENCY", **_UDP, format="syslog"),
    # parsed fields: depth 3 kept, deeper objects kept as their JSON text
    _row(
        37,
        "request handled in 0.5s",
        {"http": {"request": {"method": "GET", "headers": {"ua": "curl/8.1"}}, "status": 201}, "took": 0.5},
        app="gateway", level="INFO", format="json", **_AGENT,
    ),
    # arrays (the json kind): never match a value, but are present
    _row(
        38,
        "bulk change of 3 items",
        {"ids": [1, 2, 3], "items": [{"sku": "ABC-123"}], "names": ["ada", "grace"], "none": []},
        app="inventory", level="INFO", format="json",
    ),
    # one path, five kinds across batches: a string, a boolean, a number, an array, an object
    _row(39, "mixed string", {"mixed": "true", "port": 8080}, app="mix", format="logfmt"),
    _row(40, "mixed boolean", {"mixed": True}, app="mix", format="json"),
    _row(41, "mixed number", {"mixed": 1, "big_id": 9007199254740993}, app="mix", format="json"),
    _row(42, "mixed array", {"mixed": [True]}, app="mix", format="json"),
    _row(43, "mixed object", {"mixed": {"x": 1}}, app="mix", format="json"),
    # two kinds in one batch: the first kind seen wins, the other value goes to _conflicts.<path>
    _row(44, "port as a name", {"port": "http"}, app="mix", format="logfmt", batch="conflict"),
    _row(45, "port as a number", {"port": 443}, app="mix", format="logfmt", batch="conflict"),
]

ALL = frozenset(row["id"] for row in ROWS)

ACCOUNT = "search-" + uuid.uuid4().hex


def _fields(rows: list[dict[str, Any]]) -> FieldColumns:
    """The rows' fields as one batch's columns."""
    flat = []
    for index, row in enumerate(rows):
        into: dict[str, Any] = {}
        flatten(row["meta"] or {}, into)
        flat.append((index, into))
    return FieldColumns.from_rows(len(rows), flat)


def _keeps_kinds(rows: list[dict[str, Any]]) -> bool:
    return not any(path.startswith(CONFLICTS + ".") for path in _fields(rows))


def _groups() -> list[list[dict[str, Any]]]:
    """Rows with `batch` set go together; every other row joins the first group where its
    fields keep their kinds, so a path's kinds differ only between batches."""
    named: dict[str, list[dict[str, Any]]] = {}
    groups: list[list[dict[str, Any]]] = []
    for row in ROWS:
        if row["batch"] is not None:
            named.setdefault(row["batch"], []).append(row)
            continue
        for group in groups:
            if _keeps_kinds([*group, row]):
                group.append(row)
                break
        else:
            groups.append([row])
    return [*groups, *named.values()]


def _batch(rows: list[dict[str, Any]]) -> pa.Table:
    """A durable batch as the pipeline writes it: RECORD_SCHEMA columns, then the fields."""
    now = datetime.now(UTC)
    values = [
        {
            **row,
            "account": ACCOUNT,
            "ts": now,
            "ip": "",
            "mac": "",
            "labels": list(row["labels"].items()),
            "annotations": [],
            "retention_days": 30,
            "stored": True,
        }
        for row in rows
    ]
    arrays = [pa.array([value[spec.name] for value in values], spec.type) for spec in RECORD_SCHEMA]
    return pa.Table.from_arrays([*arrays, _fields(rows).to_struct()], names=[*RECORD_SCHEMA.names, FIELDS])


BATCHES = [_batch(rows) for rows in _groups()]


def _tail_rows(batch: pa.Table) -> list[dict[str, Any]]:
    """The batch's lines as live tail gives them: columns, and fields as nested objects."""
    rows = batch.drop_columns([FIELDS]).to_pylist()
    fields = FieldColumns.from_struct(batch.column(FIELDS)).rows(range(batch.num_rows))
    return [{**row, "fields": found} for row, found in zip(rows, fields, strict=True)]


TAIL_ROWS = [row for batch in BATCHES for row in _tail_rows(batch)]
