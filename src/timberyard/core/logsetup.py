"""The node's own logs on stderr: one JSON object per line for log collectors, or readable text
for a person at a terminal (`log_format = "auto"`, the default, picks by whether stderr is one).
Both show the fields a record carries (`extra=`), since they are what an operator needs."""

from __future__ import annotations

import logging
import sys
import time

import orjson

from timberyard.core.credentials_redaction import RedactingStreamHandler
from timberyard.core.errors import ConfigError

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field
# (except uvicorn's `color_message`, its message again with terminal colours).
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update((k, v) for k, v in vars(record).items() if k not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """`2026-11-28 10:00:00,123 INFO timberyard.server: node ready url=http://... records=3`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = " ".join(f"{k}={_logfmt(v)}" for k, v in vars(record).items() if k not in _STANDARD)
        if not fields:
            return text
        head, newline, traceback = text.partition("\n")
        return f"{head} {fields}{newline}{traceback}"


def _logfmt(value: object) -> str:
    text = str(value)
    return orjson.dumps(text).decode() if not text or any(c in text for c in ' "=\\') or not text.isprintable() else text


FORMATS = ("auto", "json", "text")


def configure_logging(level: str = "info", fmt: str = "auto") -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"log_format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    handler = RedactingStreamHandler(sys.stderr)  # no credential reaches the log (see its module)
    text = fmt == "text" or (fmt == "auto" and sys.stderr.isatty())
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic narrates every migration check at INFO; only its warnings matter to an operator.
    logging.getLogger("alembic").setLevel(max(root.level, logging.WARNING))
