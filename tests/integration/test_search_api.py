"""The search APIs (/api/v1/search, histogram, facets, context) and /v2/export against a real server.

Lines carry explicit timestamps two hours in the past, one second apart, on hosts unique to
this module, so each test asks about a range it knows exactly. Paging tests run a thread that
keeps ingesting while they page and check every line present at the start comes exactly once.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from servers import Server, run_cli

RUN = uuid.uuid4().hex[:8]
HOST = f"search-{RUN}"
OTHER_HOST = f"search-other-{RUN}"
N = 60
BASE_MS = (int(time.time()) - 2 * 3600) * 1000
END_MS = BASE_MS + (N - 1) * 1000
LEVELS = ["INFO", "ERROR", "WARN"]


def corpus_line(n: int) -> dict[str, Any]:
    return {
        "line": f"seq={n} checkout {'failed' if n % 3 == 1 else 'done'} run{RUN}",
        "timestamp": BASE_MS + n * 1000,
        "app": "api" if n % 2 else "web",
        "level": LEVELS[n % 3],
        "tags": ["even"] if n % 2 == 0 else ["odd", "any"],
        "meta": {"seq": n, "status": 500 if n % 3 == 1 else 200, "user": {"name": f"u{n % 4}"}},
    }


def seq(line: dict[str, Any]) -> int:
    return int(line["fields"]["seq"])


def get(server: Server, path: str, key: str | None = None, **params: Any) -> httpx.Response:
    return httpx.get(server.url + path, params=params, auth=(key or server.service_key, ""), timeout=30)


def ok(server: Server, path: str, key: str | None = None, **params: Any) -> dict[str, Any]:
    response = get(server, path, key, **params)
    assert response.status_code == 200, response.text
    return response.json()


def ingest_and_wait(server: Server, lines: list[dict[str, Any]], host: str, key: str | None = None) -> None:
    before = server.metric("timberyard_store_lines_total")
    response = server.ingest(lines, key=key, params={"hostname": host})
    assert response.status_code == 200, response.text
    server.wait_stored(before + len(lines))


@pytest.fixture(scope="module")
def corpus(server: Server) -> list[dict[str, Any]]:
    """N lines on HOST and, interleaved in time, N lines on OTHER_HOST (app `api` only)."""
    ingest_and_wait(server, [corpus_line(n) for n in range(N)], HOST)
    other = [{**corpus_line(n), "timestamp": BASE_MS + n * 1000 + 500, "app": "api"} for n in range(N)]
    ingest_and_wait(server, other, OTHER_HOST)
    lines = ok(server, "/api/v1/search", q=f"host:=={HOST}", **{"from": BASE_MS, "to": END_MS}, limit=N + 10)["lines"]
    assert len(lines) == N
    return lines


def in_range(**params: Any) -> dict[str, Any]:
    return {"from": BASE_MS, "to": END_MS, **params}


class Ingester:
    """A background thread sending small batches to `host` with timestamps from `stamp()`."""

    def __init__(self, server: Server, host: str, stamp: Any) -> None:
        self.server, self.host, self.stamp = server, host, stamp
        self.sent = 0
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self.stop.is_set():
            batch = [{"line": f"live {RUN} {n + i}", "timestamp": self.stamp(n + i), "meta": {"live": n + i}} for i in range(3)]
            response = self.server.ingest(batch, params={"hostname": self.host})
            if response.status_code != 200:
                self.errors.append(response.text)
                return
            n += len(batch)
            self.sent = n
            time.sleep(0.02)

    def __enter__(self) -> Ingester:
        self.before = self.server.metric("timberyard_store_lines_total")
        self.thread.start()
        time.sleep(0.3)  # let some batches land before paging starts
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.errors, self.errors
        self.server.wait_stored(self.before + self.sent)


def pages(server: Server, path: str, token_name: str, next_name: str, list_name: str, **params: Any) -> Iterator[list[dict[str, Any]]]:
    token = None
    for _ in range(500):
        body = ok(server, path, **params, **({token_name: token} if token else {}))
        yield body[list_name]
        token = body[next_name]
        if token is None:
            return
        time.sleep(0.03)
    raise AssertionError("paging did not end")


# -- search ---------------------------------------------------------------------------------------


def test_search_is_newest_first_with_the_documented_shape(server: Server, corpus: list[dict[str, Any]]) -> None:
    assert [seq(line) for line in corpus] == list(range(N - 1, -1, -1))
    first = corpus[0]
    assert first["ts"] == END_MS and first["host"] == HOST and first["app"] == "api" and first["level"] == "WARN"
    assert first["tags"] == ["odd", "any"] and first["fields"]["user"] == {"name": "u3"} and first["labels"] == {}
    assert isinstance(first["id"], str) and first["id"].isdigit() and first["file"] == "" and first["env"] == ""
    assert first["annotations"] == {} and first["k8s"] == {"namespace": "", "pod": "", "container": "", "node": ""}
    body = ok(server, "/api/v1/search", q=f"host:=={HOST}", **in_range(), limit=10)
    assert body["lines"] == corpus[:10] and body["next_cursor"] and isinstance(body["took_ms"], int)


def test_kubernetes_fields_come_back_with_the_line(server: Server) -> None:
    host = f"k8s-{uuid.uuid4().hex[:8]}"
    file = f"/var/log/containers/checkout-7d9f_shop_api-{'ab' * 32}.log"
    before = server.metric("timberyard_store_lines_total")
    assert server.ingest([{"line": "pod line", "file": file}], params={"hostname": host}).status_code == 200
    server.wait_stored(before + 1)
    [line] = ok(server, "/api/v1/search", q=f"host:=={host}", **{"from": 0})["lines"]
    assert line["k8s"] == {"namespace": "shop", "pod": "checkout-7d9f", "container": "api", "node": host}


def test_search_ascending_and_seconds(server: Server, corpus: list[dict[str, Any]]) -> None:
    lines = ok(server, "/api/v1/search", q=f"host:=={HOST}", order="asc", limit=N, **{"from": BASE_MS // 1000, "to": END_MS // 1000})["lines"]
    assert [seq(line) for line in lines] == list(range(N))


def test_search_defaults_to_the_last_hour(server: Server, corpus: list[dict[str, Any]]) -> None:
    assert ok(server, "/api/v1/search", q=f"host:=={HOST}")["lines"] == []
    assert len(ok(server, "/api/v1/search", q=f"host:=={HOST}", to=END_MS, limit=N)["lines"]) == N


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("failed", [n for n in range(N) if n % 3 == 1]),
        ("status:>=500", [n for n in range(N) if n % 3 == 1]),
        ("level:error OR level:warn", [n for n in range(N) if n % 3]),
        ("-app:api tag:even", [n for n in range(N) if n % 2 == 0]),
        ("user.name:==u3", [n for n in range(N) if n % 4 == 3]),
        ('"checkout done" app:[api]', [n for n in range(N) if n % 2 and n % 3 != 1]),
        ("seq:(>=10 <20 -15)", [n for n in range(10, 20) if n != 15]),
        ("seq:7", [7]),
    ],
)
def test_query_language_through_search(server: Server, corpus: list[dict[str, Any]], query: str, expected: list[int]) -> None:
    lines = ok(server, "/api/v1/search", q=f"host:=={HOST} ({query})", order="asc", limit=N, **in_range())["lines"]
    assert [seq(line) for line in lines] == expected


def test_cursor_visits_every_line_once_while_other_lines_arrive(server: Server, corpus: list[dict[str, Any]]) -> None:
    now_stamp = lambda n: int(time.time() * 1000)  # noqa: E731 - same host, outside the range
    with Ingester(server, HOST, now_stamp):
        seen = [line for page in pages(server, "/api/v1/search", "cursor", "next_cursor", "lines", q=f"host:=={HOST}", limit=7, **in_range()) for line in page]
    assert [line["id"] for line in seen] == [line["id"] for line in corpus]


def test_cursor_keeps_exactly_once_while_lines_arrive_inside_the_range(server: Server) -> None:
    host = f"search-live-{RUN}"
    ingest_and_wait(server, [{**corpus_line(n), "app": "paging"} for n in range(N)], host)
    present = {line["_lid"] for line in server.export(hosts=host)}
    assert len(present) == N
    inside = lambda n: BASE_MS + (n * 7919) % (N * 1000)  # noqa: E731
    with Ingester(server, host, inside) as ingester:
        seen = [line["id"] for page in pages(server, "/api/v1/search", "cursor", "next_cursor", "lines", q=f"host:=={host}", limit=5, **in_range()) for line in page]
    assert ingester.sent > 0
    counts = Counter(seen)
    assert all(counts[line_id] == 1 for line_id in present) and max(counts.values()) == 1


def test_the_cursor_keeps_the_first_pages_range(server: Server, corpus: list[dict[str, Any]]) -> None:
    first = ok(server, "/api/v1/search", q=f"host:=={HOST}", limit=30, order="asc", **in_range())
    rest = ok(server, "/api/v1/search", q=f"host:=={HOST}", limit=30, cursor=first["next_cursor"], order="desc", to=1)
    assert [seq(line) for line in first["lines"] + rest["lines"]] == list(range(N)) and rest["next_cursor"] is None


# -- v2 export ------------------------------------------------------------------------------------


def test_v2_export_pages_oldest_first_exactly_once_while_lines_arrive(server: Server, corpus: list[dict[str, Any]]) -> None:
    inside = lambda n: BASE_MS + 250 + (n * 7919) % (N * 1000)  # noqa: E731
    host = f"search-v2-{RUN}"
    ingest_and_wait(server, [{**corpus_line(n), "app": "paging"} for n in range(N)], host)
    present = [line["_lid"] for line in server.export(hosts=host, prefer="head")]
    with Ingester(server, host, inside):
        got = [line for page in pages(server, "/v2/export", "pagination_id", "pagination_id", "lines", hosts=host, size=7, **in_range(to=END_MS + 1000)) for line in page]
    ids = [line["_lid"] for line in got]
    assert len(ids) == len(set(ids)) and set(present) <= set(ids)
    assert [(line["_ts"], int(line["_lid"])) for line in got] == sorted((line["_ts"], int(line["_lid"])) for line in got)
    original = [line for line in got if line["_lid"] in set(present)]
    assert [line["seq"] for line in original] == list(range(N)) and original[0]["_host"] == host


def test_v2_export_single_page_has_null_pagination_id(server: Server, corpus: list[dict[str, Any]]) -> None:
    body = ok(server, "/v2/export", hosts=HOST, query="level:error", **in_range())
    assert body["pagination_id"] is None and [line["seq"] for line in body["lines"]] == [n for n in range(N) if n % 3 == 1]


# -- histogram ------------------------------------------------------------------------------------


def test_histogram_counts_and_split_by_level(server: Server, corpus: list[dict[str, Any]]) -> None:
    # 60 lines at 1 s steps over a 120 s range in 12 buckets of 10 s: 6 full buckets, then 6 empty.
    body = ok(server, "/api/v1/histogram", q=f"host:=={HOST}", buckets=12, by="level", **{"from": BASE_MS, "to": BASE_MS + 120_000})
    assert body["interval_ms"] == 10_000
    buckets = body["buckets"]
    assert [b["ts"] for b in buckets] == [BASE_MS + i * 10_000 for i in range(12)]
    assert [b["count"] for b in buckets] == [10] * 6 + [0] * 6
    assert sum(b["count"] for b in buckets) == N
    for i, bucket in enumerate(buckets[:6]):
        assert bucket["by"] == dict(Counter(LEVELS[n % 3] for n in range(i * 10, i * 10 + 10)))
        assert sum(bucket["by"].values()) == bucket["count"]
    assert buckets[-1]["by"] == {}


def test_histogram_default_buckets_include_the_last_instant(server: Server, corpus: list[dict[str, Any]]) -> None:
    body = ok(server, "/api/v1/histogram", q=f"host:=={HOST}", **in_range())
    assert len(body["buckets"]) == 60 and body["interval_ms"] == 984  # ceil(59000 / 60)
    assert sum(b["count"] for b in body["buckets"]) == N and "by" not in body["buckets"][0]
    split = ok(server, "/api/v1/histogram", q=f"host:=={HOST}", by="app", buckets=1, **in_range())["buckets"]
    assert split == [{"ts": BASE_MS, "count": N, "by": {"api": N // 2, "web": N // 2}}]


# -- facets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("level", [("ERROR", 20), ("INFO", 20), ("WARN", 20)]),
        ("app", [("api", 30), ("web", 30)]),
        ("tag", [("even", 30), ("odd", 30), ("any", 30)]),
        ("status", [("200", 40), ("500", 20)]),
        ("user.name", [("u0", 15), ("u1", 15), ("u2", 15), ("u3", 15)]),
        ("meta.user.name", [("u0", 15), ("u1", 15), ("u2", 15), ("u3", 15)]),
        ("env", []),
        ("no.such.field", []),
    ],
)
def test_facets_top_values(server: Server, corpus: list[dict[str, Any]], field: str, expected: list[tuple[str, int]]) -> None:
    body = ok(server, "/api/v1/facets", q=f"host:=={HOST}", field=field, **in_range())
    assert body["field"] == field
    values = [(v["value"], v["count"]) for v in body["values"]]
    assert sorted(values) == sorted(expected)
    assert [count for _, count in values] == sorted((count for _, count in values), reverse=True)


def test_facets_limit_and_query(server: Server, corpus: list[dict[str, Any]]) -> None:
    body = ok(server, "/api/v1/facets", q="seq:<10", field="host", limit=1, **in_range(to=END_MS + 1000))
    # Every host of this module has 10 such lines; ties go to the smaller value, and HOST is the
    # shortest name with that prefix.
    assert body["values"] == [{"value": HOST, "count": 10}]
    body = ok(server, "/api/v1/facets", q=f"host:=={HOST} level:error", field="status", **in_range())
    assert body["values"] == [{"value": "500", "count": 20}]


# -- context --------------------------------------------------------------------------------------


def test_context_same_host(server: Server, corpus: list[dict[str, Any]]) -> None:
    by_seq = {seq(line): line for line in corpus}
    body = ok(server, "/api/v1/context", id=by_seq[30]["id"], before=3, after=4)
    assert body["line"] == by_seq[30]
    assert [seq(line) for line in body["before"]] == [27, 28, 29]
    assert [seq(line) for line in body["after"]] == [31, 32, 33, 34]
    assert all(line["host"] == HOST for line in body["before"] + body["after"])
    edge = ok(server, "/api/v1/context", id=by_seq[1]["id"])
    assert [seq(line) for line in edge["before"]] == [0] and len(edge["after"]) == 20


def test_context_scopes(server: Server, corpus: list[dict[str, Any]]) -> None:
    line = next(line for line in corpus if seq(line) == 31)  # app api, at BASE + 31 s
    by_app = ok(server, "/api/v1/context", id=line["id"], before=2, after=4, scope="app")
    # OTHER_HOST's lines (all app api) sit 0.5 s after each HOST line.
    assert [(l["host"], seq(l)) for l in by_app["before"]] == [(OTHER_HOST, 29), (OTHER_HOST, 30)]
    assert [(l["host"], seq(l)) for l in by_app["after"]] == [(OTHER_HOST, 31), (OTHER_HOST, 32), (HOST, 33), (OTHER_HOST, 33)]
    both = ok(server, "/api/v1/context", id=line["id"], before=2, after=2, scope="both")
    assert [seq(l) for l in both["before"]] == [27, 29] and [seq(l) for l in both["after"]] == [33, 35]
    assert ok(server, "/api/v1/context", id=line["id"], before=0, after=0) | {"line": None} == {"line": None, "before": [], "after": []}


# -- errors, auth, tenancy ----------------------------------------------------------------------------

BAD_CURSOR = base64.urlsafe_b64encode(json.dumps({"ts": "x", "id": 1}).encode()).decode()


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/api/v1/search", {"q": "(unclosed"}, "QuerySyntaxError"),
        ("/api/v1/search", {"limit": "0"}, "BadRequest"),
        ("/api/v1/search", {"limit": "10001"}, "BadRequest"),
        ("/api/v1/search", {"limit": "ten"}, "BadRequest"),
        ("/api/v1/search", {"order": "sideways"}, "BadRequest"),
        ("/api/v1/search", {"cursor": "not a cursor!"}, "BadRequest"),
        ("/api/v1/search", {"cursor": BAD_CURSOR}, "BadRequest"),
        ("/api/v1/search", {"from": "the day before"}, "BadRequest"),
        ("/api/v1/search", {"from": "2000", "to": "1000"}, "BadRequest"),
        ("/v2/export", {"from": "0", "to": "1", "pagination_id": "%%%"}, "BadRequest"),
        ("/v2/export", {"from": "0"}, "BadRequest"),
        ("/v2/export", {"from": "0", "to": "1", "query": "a:(b"}, "QuerySyntaxError"),
        ("/api/v1/histogram", {"buckets": "0"}, "BadRequest"),
        ("/api/v1/histogram", {"buckets": "1001"}, "BadRequest"),
        ("/api/v1/histogram", {"by": "file"}, "BadRequest"),
        ("/api/v1/histogram", {"q": '"open'}, "QuerySyntaxError"),
        ("/api/v1/facets", {}, "BadRequest"),
        ("/api/v1/facets", {"field": "a..b"}, "BadRequest"),
        ("/api/v1/facets", {"field": "host", "limit": "1001"}, "BadRequest"),
        ("/api/v1/context", {"id": "abc"}, "BadRequest"),
        ("/api/v1/context", {"id": "1", "before": "501"}, "BadRequest"),
        ("/api/v1/context", {"id": "1", "scope": "pod"}, "BadRequest"),
    ],
)
def test_bad_params_are_400(server: Server, path: str, params: dict[str, str], code: str) -> None:
    response = get(server, path, **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == code and body["error"]


ENDPOINTS = ["/api/v1/search", "/api/v1/histogram", "/api/v1/facets", "/api/v1/context", "/v2/export"]


@pytest.mark.parametrize("path", ENDPOINTS)
def test_missing_key_is_401(server: Server, path: str) -> None:
    response = httpx.get(server.url + path, params={"from": 0, "to": 1, "field": "host", "id": "1"}, timeout=10)
    assert response.status_code == 401 and response.json()["code"] == "MissingCredentials"


def test_context_of_an_unknown_line_is_404(server: Server, corpus: list[dict[str, Any]]) -> None:
    response = get(server, "/api/v1/context", id="12345")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


def test_another_account_never_sees_these_lines(server: Server, corpus: list[dict[str, Any]]) -> None:
    b = json.loads(run_cli("accounts", "create", f"search-b-{RUN}", "--data-dir", str(server.data_dir), "--json").stdout)
    ingest_and_wait(server, [{**corpus_line(n), "line": f"tenant b {n}"} for n in range(5)], HOST, key=b["ingestion_key"])
    key = b["service_key"]
    wide = {"from": BASE_MS - 1000, "to": END_MS + 1000}
    lines = ok(server, "/api/v1/search", key, limit=1000, **wide)["lines"]
    assert sorted(line["line"] for line in lines) == [f"tenant b {n}" for n in range(5)]
    exported = ok(server, "/v2/export", key, **wide)["lines"]
    assert sorted(line["_line"] for line in exported) == [f"tenant b {n}" for n in range(5)]
    hist = ok(server, "/api/v1/histogram", key, buckets=3, **wide)
    assert sum(bucket["count"] for bucket in hist["buckets"]) == 5
    assert ok(server, "/api/v1/facets", key, field="host", **wide)["values"] == [{"value": HOST, "count": 5}]
    for line in (corpus[0], corpus[-1]):
        response = get(server, "/api/v1/context", key, id=line["id"])
        assert response.status_code == 404, response.text
    own = next(line for line in lines if line["line"] == "tenant b 2")
    context = ok(server, "/api/v1/context", key, id=own["id"])
    assert [line["line"] for line in context["before"] + context["after"]] == ["tenant b 0", "tenant b 1", "tenant b 3", "tenant b 4"]
    # And the first account still sees only its own N lines on that host.
    assert len(ok(server, "/api/v1/search", q=f"host:=={HOST}", limit=1000, **in_range())["lines"]) == N


# -- errors that say what would work ---------------------------------------------------------------


def test_export_without_to_says_what_forms_times_take(server: Server) -> None:
    response = get(server, "/v1/export", **{"from": 0})
    assert response.status_code == 400
    assert response.json()["error"] == (
        "missing param to: a time as UNIX epoch seconds or milliseconds (1764316800), ISO 8601 "
        "(2026-11-28T10:00:00Z) or an expression (now, 15m, 2h ago, yesterday 1pm); both from and to are required here"
    )
    since = get(server, "/api/v1/search", **{"from": "since 15m", "q": "nothing-matches-this"})
    assert since.status_code == 200 and since.json()["to"] - since.json()["from"] == pytest.approx(900_000, abs=5_000)


def test_facets_errors_list_every_field_they_accept(server: Server) -> None:
    names = ["host", "app", "level", "source", "file", "env", "namespace", "pod", "container", "node", "_ingester", "_format", "tag", "template", "label.NAME"]
    for params in ({}, {"field": "user..id"}):
        response = get(server, "/api/v1/facets", **params)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert f"one of {', '.join(names)}, or a field path like status or user.id (meta. optional)" in error, error
