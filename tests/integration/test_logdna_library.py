"""The official `logdna` Python library (LogDNAHandler) sending to a real server unchanged.

The handler buffers records in a worker thread pool, flushes on a timer or when its buffer is
over `flush_limit`, and sends `{"e": "ls", "ls": [...]}` with the key in an `apikey` header and
`hostname`, `ip`, `tags`, `now` as query parameters. With `index_meta` False it sends each
line's meta as a JSON string; with True, as an object. `close()` blocks until the last flush
is answered, then shuts its thread pools down.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from logdna import LogDNAHandler

from servers import Server

LEVELS = [
    (logging.DEBUG, "DEBUG"),
    (logging.INFO, "INFO"),
    (logging.WARNING, "WARN"),
    (logging.ERROR, "ERROR"),
    (logging.CRITICAL, "CRITICAL"),
]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def no_thread_leaks() -> Iterator[None]:
    """The handler's pools and timers must all be gone shortly after close()."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 10
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"threads left running after close(): {[t.name for t in leaked]}")
        time.sleep(0.05)


class Shipper:
    """A logger with a LogDNAHandler pointed at our server, cleaned up completely."""

    def __init__(self, server: Server, options: dict[str, Any], key: str | None = None) -> None:
        self.host = options.get("hostname") or unique("lib-host")
        self.app = unique("lib-app")
        self.options = {
            "url": server.url + "/logs/ingest",
            "hostname": self.host,
            "app": self.app,
            "request_timeout": 20,
            "flush_interval": 0.1,
            **options,
        }
        self.handler = LogDNAHandler(key or server.ingestion_key, self.options)
        self.logger = logging.getLogger(unique("lib-logger"))
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.logger.addHandler(self.handler)

    def close(self) -> None:
        self.handler.close()  # blocks until the buffer is sent
        self.logger.removeHandler(self.handler)
        # The library adds a stdout handler to its 'internal' logger per LogDNAHandler.
        logging.getLogger("internal").removeHandler(self.handler.internal_handler)


def read_back(server: Server, shipper: Shipper, expected: int) -> list[dict[str, Any]]:
    """Every line of this shipper, once the store has them (the export is read until it has
    `expected` lines, since other tests may have moved the store's counter meanwhile)."""
    deadline = time.monotonic() + 30
    while True:
        exported = server.export(hosts=shipper.host)
        if len(exported) >= expected or time.monotonic() > deadline:
            return exported
        time.sleep(0.1)


@pytest.mark.parametrize("index_meta", [True, False], ids=["meta-object", "meta-json-string"])
def test_numbered_lines_arrive_exactly_once_with_app_host_level_and_meta(server: Server, no_thread_leaks: None, index_meta: bool) -> None:
    count = 500
    shipper = Shipper(
        server,
        {"index_meta": index_meta, "custom_fields": ["meta", "order_id"], "env": "staging", "tags": ["lib", "python"], "ip": "10.9.8.7"},
    )
    start = int(time.time() * 1000)
    try:
        for n in range(count):
            level, _ = LEVELS[n % len(LEVELS)]
            if n % 2 == 0:
                shipper.logger.log(level, "numbered line %05d payment processed", n, extra={"meta": {"seq": n, "user": f"u{n % 7}"}, "order_id": f"o-{n}"})
            else:
                shipper.logger.log(level, "numbered line %05d plain", n)
    finally:
        shipper.close()
    end = int(time.time() * 1000)

    exported = read_back(server, shipper, count)
    numbers = collections.Counter(int(line["_line"].split()[2]) for line in exported)
    assert sorted(numbers) == list(range(count)), f"missing: {sorted(set(range(count)) - set(numbers))[:10]}"
    assert max(numbers.values()) == 1, f"duplicated: {[n for n, c in numbers.items() if c > 1][:10]}"

    for line in exported:
        n = int(line["_line"].split()[2])
        assert line["_app"] == shipper.app
        assert line["_host"] == shipper.host
        assert line["level"] == LEVELS[n % len(LEVELS)][1], line
        assert line["_env"] == "staging"
        assert line["_tag"] == ["lib", "python"]
        assert line["_ip"] == "10.9.8.7"
        assert start - 1000 <= line["_ts"] <= end + 5000
        meta = line["_meta"]
        # The library's standard meta fields, parsed whether they came as an object or a string.
        assert meta["name"] == shipper.logger.name
        assert meta["pathname"] == __file__
        assert isinstance(meta["lineno"], int)
        assert meta["args"] == [n]
        assert line["name"] == shipper.logger.name  # meta fields are also top-level fields
        if n % 2 == 0:
            assert line["_line"] == f"numbered line {n:05d} payment processed"
            assert meta["meta"] == {"seq": n, "user": f"u{n % 7}"}
            assert meta["order_id"] == line["order_id"] == f"o-{n}"
        else:
            assert line["_line"] == f"numbered line {n:05d} plain"
            assert "meta" not in meta and "order_id" not in meta

    levels = collections.Counter(line["level"] for line in server.export(hosts=shipper.host, levels="warn,critical"))
    assert levels == {"WARN": count // len(LEVELS), "CRITICAL": count // len(LEVELS)}
    assert len(server.export(hosts=shipper.host, apps=shipper.app, query="payment processed")) == count // 2


def test_many_concurrent_size_triggered_flushes(server: Server, no_thread_leaks: None) -> None:
    """A tiny flush_limit makes the handler flush from its worker threads while more lines
    arrive, with several requests in flight at once."""
    count = 2000
    shipper = Shipper(server, {"index_meta": True, "flush_limit": 3000, "max_concurrent_requests": 4})
    try:
        for n in range(count):
            shipper.logger.info("burst %05d %s", n, "x" * 40)
    finally:
        shipper.close()
    exported = read_back(server, shipper, count)
    numbers = collections.Counter(int(line["_line"].split()[1]) for line in exported)
    assert sorted(numbers) == list(range(count))
    assert max(numbers.values()) == 1
    assert {line["level"] for line in exported} == {"INFO"}


def test_per_message_options_override_app_and_level(server: Server, no_thread_leaks: None) -> None:
    """`logger.info(msg, {"app": ..., "level": ...})` is the library's per-line override."""
    shipper = Shipper(server, {"index_meta": True})
    try:
        shipper.logger.info("overridden line", {"app": "override-app", "level": "Fatal", "env": "canary"})
        shipper.logger.warning("ordinary line ünïcödé ☃")
    finally:
        shipper.close()
    exported = {line["_line"]: line for line in read_back(server, shipper, 2)}
    assert set(exported) == {"overridden line", "ordinary line ünïcödé ☃"}
    overridden = exported["overridden line"]
    assert (overridden["_app"], overridden["level"], overridden["_env"]) == ("override-app", "FATAL", "canary")
    ordinary = exported["ordinary line ünïcödé ☃"]
    assert (ordinary["_app"], ordinary["level"]) == (shipper.app, "WARN")


def test_wrong_key_stores_nothing_and_the_library_does_not_hang(server: Server, no_thread_leaks: None) -> None:
    """On 403 the library drops the buffer (it does not retry); nothing reaches the account."""
    shipper = Shipper(server, {"index_meta": True}, key="0" * 32)
    started = time.monotonic()
    try:
        for n in range(20):
            shipper.logger.error("should be refused %d", n)
    finally:
        shipper.close()
    assert time.monotonic() - started < 10
    # A line from a good key to the same host proves the export would have shown them.
    good = Shipper(server, {"index_meta": True, "hostname": shipper.host})
    try:
        good.logger.error("accepted line")
    finally:
        good.close()
    exported = read_back(server, good, 1)
    assert [line["_line"] for line in exported] == ["accepted line"]
