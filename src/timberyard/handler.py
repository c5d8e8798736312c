"""`TimberyardHandler`: the standard `logging` module's records, straight to a node.

    import logging
    from timberyard.handler import TimberyardHandler

    logging.getLogger().addHandler(TimberyardHandler(KEY, url="https://logs.example.org/logs/ingest", app="billing", env="prod"))
    logging.getLogger("billing").error("charge failed", extra={"order": 1234})

Logging must never slow the program down or stop it from exiting:
- `emit` only appends to a bounded buffer (`max_buffer` records); when it is full the record
  is dropped and counted (`handler.dropped`), never waited for.
- A background thread sends batches (gzip, `POST /logs/ingest`) every `flush_interval`, or at
  once when `batch_lines` records wait, retrying with exponential backoff and jitter.
- `flush()` and `close()` (which `logging.shutdown` calls at exit) wait at most
  `flush_timeout` seconds; a node that is down costs the exiting program that long, no more.

Each record is one entry: the formatted message, with the traceback and stack in the same
entry. `extra={...}` fields become the line's meta beside the handler's `meta` and the logger's
name; levels map to LogDNA's (WARNING → WARN; custom levels to the nearest standard one below).
Only the standard library is used, so any application can install it without our server.
"""

from __future__ import annotations

import atexit
import gzip
import itertools
import json
import logging
import os
import random
import socket
import threading
import time
import weakref
from collections import deque
from typing import Any

from timberyard.agent.transport import Transport, Unreachable

# Attributes every LogRecord has; anything else on a record came from `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_LEVELS = ((logging.CRITICAL, "CRITICAL"), (logging.ERROR, "ERROR"), (logging.WARNING, "WARN"), (logging.INFO, "INFO"), (logging.DEBUG, "DEBUG"))
_RETRY_STATUS = {408, 429, 500, 502, 503, 504}
_handlers: weakref.WeakSet[TimberyardHandler] = weakref.WeakSet()


def level_name(levelno: int) -> str:
    return next((name for number, name in _LEVELS if levelno >= number), "TRACE")


class TimberyardHandler(logging.Handler):
    def __init__(
        self, key: str, url: str = "http://127.0.0.1:7080/logs/ingest", *, app: str = "", env: str = "",
        tags: list[str] | str | None = None, meta: dict[str, Any] | None = None, hostname: str | None = None,
        level: int = logging.NOTSET, max_buffer: int = 10_000, batch_lines: int = 500, flush_interval: float = 1.0,
        flush_timeout: float = 5.0, ca_file: str = "", timeout: float = 10.0,
    ) -> None:
        super().__init__(level)
        self.app, self.env, self.meta = app, env, dict(meta or {})
        tags = tags.split(",") if isinstance(tags, str) else list(tags or [])
        self.params = {"hostname": hostname or socket.gethostname(), **({"tags": ",".join(tags)} if tags else {})}
        self.max_buffer, self.batch_lines = max_buffer, batch_lines
        self.flush_interval, self.flush_timeout = flush_interval, flush_timeout
        self.transport = Transport(url, key, ca_file=ca_file, timeout=timeout, user_agent="timberyard-logging-handler")
        self.dropped = 0  # records lost: buffer full, or still unsent when flush_timeout ran out at close
        self.sent = 0
        self._buffer: deque[dict[str, Any]] = deque()
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._closing = False
        self._thread: threading.Thread | None = None
        _handlers.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            entry = self._entry(record)
        except Exception:  # a broken record must not break the program that logs it
            self.handleError(record)
            return
        if len(self._buffer) >= self.max_buffer or self._closing:
            self.dropped += 1
            return
        self._buffer.append(entry)
        self._idle.clear()
        if self._thread is None or not self._thread.is_alive():
            self._start()
        if len(self._buffer) >= self.batch_lines:
            self._wake.set()

    def _entry(self, record: logging.LogRecord) -> dict[str, Any]:
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        if record.stack_info:
            text = f"{text}\n{record.stack_info}"
        meta = {**self.meta, "logger": record.name}
        meta.update((name, value) for name, value in vars(record).items() if name not in _STANDARD)
        entry = {"line": text, "timestamp": int(record.created * 1000), "level": level_name(record.levelno), "meta": meta}
        if self.app:
            entry["app"] = self.app
        if self.env:
            entry["env"] = self.env
        return entry

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="timberyard-handler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        failures = 0
        while True:
            self._wake.wait(self.flush_interval if not failures else min(30.0, 0.5 * 2 ** failures) * random.uniform(0.5, 1))
            self._wake.clear()
            while self._buffer:
                batch = list(itertools.islice(self._buffer, self.batch_lines))
                if not self._send(batch):
                    failures += 1
                    break
                failures = 0
                for _ in batch:
                    self._buffer.popleft()
                self.sent += len(batch)
            if not self._buffer:
                self._idle.set()
            if self._closing and (not self._buffer or failures):
                return

    def _send(self, batch: list[dict[str, Any]]) -> bool:
        body = gzip.compress(json.dumps({"lines": batch}, default=repr).encode(), 1)
        try:
            answer = self.transport.post(body, {**self.params, "now": str(int(time.time() * 1000))},
                                         {"Content-Type": "application/json", "Content-Encoding": "gzip"})
        except Unreachable:
            return False
        if answer.status in _RETRY_STATUS:
            return False
        if answer.status != 200:  # refused for good (bad key, malformed): retrying cannot help
            self.dropped += len(batch)
        return True

    def flush(self) -> None:
        """Wait (at most `flush_timeout`) until every buffered record has been sent."""
        deadline = time.monotonic() + self.flush_timeout
        while self._buffer and self._thread is not None and time.monotonic() < deadline:
            self._wake.set()
            self._idle.wait(min(0.05, max(0.0, deadline - time.monotonic())))

    def close(self) -> None:
        """Send what is buffered, for at most `flush_timeout`; drop (and count) the rest."""
        if not self._closing:
            self._closing = True
            self._wake.set()
            if self._thread is not None:
                self._thread.join(self.flush_timeout)
            self.dropped += len(self._buffer)
            self._buffer.clear()
            self.transport.close()
        super().close()


def _after_fork() -> None:
    """A forked child has the buffer but not the thread: it starts its own on the next record."""
    for handler in list(_handlers):
        handler._thread = None
        handler._buffer.clear()


def _close_all() -> None:
    for handler in list(_handlers):
        handler.close()


os.register_at_fork(after_in_child=_after_fork)
atexit.register(_close_all)  # also when the handler was never added to a logger that logging.shutdown closes


def structlog_processor(handler: TimberyardHandler):  # type: ignore[no-untyped-def]
    """A structlog processor that sends each event through `handler` and passes it on unchanged:

        structlog.configure(processors=[..., structlog_processor(handler), structlog.processors.JSONRenderer()])

    The event's `event` is the line, `level` its level, every other key its meta."""
    def send(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        fields = dict(event_dict)
        message = str(fields.pop("event", ""))
        level = str(fields.pop("level", method)).upper()
        levelno = logging.getLevelName("WARNING" if level == "WARN" else level)
        record = logging.LogRecord(str(fields.pop("logger", "structlog")), levelno if isinstance(levelno, int) else logging.INFO,
                                   "", 0, message, None, None)
        record.__dict__.update(fields)
        handler.handle(record)
        return event_dict

    return send
