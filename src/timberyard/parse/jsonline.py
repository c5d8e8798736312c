"""A log line that is a JSON object: its fields, and the time, level and message it states.

Structured loggers (pino, bunyan, zap, logrus, structlog, Serilog, Docker's json-file driver)
write one object per line under a handful of key names; the first present of each list below
is taken. Numeric levels are pino's and bunyan's (10 trace ... 60 fatal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from timberyard.core.fields import MAX_FIELDS_PER_LINE, OVERFLOW, flatten

MESSAGE_KEYS = ("message", "msg", "log")
LEVEL_KEYS = ("level", "severity", "lvl", "loglevel", "log_level")
TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "datetime")
NUMERIC_LEVELS = {10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL"}


@dataclass(frozen=True)
class JsonLine:
    fields: dict[str, Any]  # flattened (see core/fields.py), at most MAX_FIELDS_PER_LINE + _overflow
    time: object  # the time value as written (a number or a string), or None
    level: str | None
    message: str | None


def parse_json_line(text: str) -> JsonLine | None:
    """The line read as a JSON object, or None when it is not one."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    fields: dict[str, Any] = {}
    flatten(value, fields)
    if len(fields) > MAX_FIELDS_PER_LINE:
        fields = limit_fields(fields)
    return JsonLine(fields, *stated(value))


def stated(value: dict[str, Any]) -> tuple[object, str | None, str | None]:
    """The time, level and message a structured line states under the usual key names (also
    for logfmt lines, whose keys are the same)."""
    return _first(value, TIME_KEYS), _level(value), _message(value)


def limit_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The first MAX_FIELDS_PER_LINE fields; the rest as one JSON object's text under _overflow."""
    paths = list(fields)
    kept = {path: fields[path] for path in paths[:MAX_FIELDS_PER_LINE]}
    kept[OVERFLOW] = orjson.dumps({path: fields[path] for path in paths[MAX_FIELDS_PER_LINE:]}).decode()
    return kept


def _first(value: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        found = value.get(key)
        if found is not None:
            return found
    return None


def _level(value: dict[str, Any]) -> str | None:
    found = _first(value, LEVEL_KEYS)
    if isinstance(found, str):
        return found
    if isinstance(found, int) and not isinstance(found, bool):
        return NUMERIC_LEVELS.get(found)
    return None


def _message(value: dict[str, Any]) -> str | None:
    found = _first(value, MESSAGE_KEYS)
    return found if isinstance(found, str) else None
