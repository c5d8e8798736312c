"""LogDNA's ingestion body, decoded straight into a columnar `LineBatch`.

msgspec validates the JSON against the line schema in C, so a wrong type or a missing `line`
becomes a precise 400 ("Expected `str`, got `int` - at `$.lines[3].line`") without per-field
Python checks; the columns are then built with one comprehension each. Per-line Python runs
only where a line needs it: timestamps that are not epoch ms, and meta, which is read into
fields (and checked: a value the store could not read back, like 1e400, is kept as text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import orjson
import pyarrow as pa

from timberyard.core.clock import now_ms
from timberyard.core.errors import BadRequest
from timberyard.core.fields import MAX_FIELDS_PER_LINE, flatten
from timberyard.core.records import STRING_MAP, TIMESTAMP
from timberyard.ingest.batch import LineBatch, Problems
from timberyard.parse.jsonline import limit_fields
from timberyard.parse.timestamps import MAX_MS, SECONDS_CUTOFF, parse_timestamp

NO_META = msgspec.Raw(b"")
UNPARSED = "_unparsed"
MAX_UNPARSED_CHARS = 32 * 1024


class LineIn(msgspec.Struct):
    line: str
    timestamp: int | float | str | None = None
    app: str | None = None
    level: str | None = None
    env: str | None = None
    file: str | None = None
    host: str | None = None
    hostname: str | None = None
    meta: msgspec.Raw = NO_META
    label: dict[str, str] | None = None
    annotation: dict[str, str] | None = None
    tags: str | list[str] | None = None


class IngestBody(msgspec.Struct):
    """`{"lines": [...]}`, or the `{"e": "ls", "ls": [...]}` envelope the official libraries send."""

    lines: list[LineIn] | None = None
    ls: list[LineIn] | None = None
    e: str | None = None


_DECODER = msgspec.json.Decoder(IngestBody)


@dataclass(frozen=True)
class Request:
    """What the request's URL says about all of its lines."""

    account: str
    hostname: str
    ip: str = ""
    mac: str = ""
    tags: tuple[str, ...] = ()
    client_now_ms: int | None = None  # the client's clock, to correct its timestamps' drift
    import_times: bool = False


def decode(body: bytes, request: Request, ingester: str = "http") -> LineBatch:
    """The request body as a batch; a 400 naming the problem when it is not LogDNA's shape."""
    lines = decode_lines(body)
    problems = Problems()
    hosts = [item.hostname or item.host or request.hostname for item in lines]
    columns: dict[str, Any] = {
        "ts": _timestamps(lines, request, problems),
        "host": pa.array(hosts, pa.string()),
        "app": pa.array([item.app or "" for item in lines], pa.string()),
        "level": pa.array([item.level or "" for item in lines], pa.string()),
        "env": pa.array([item.env or "" for item in lines], pa.string()),
        "file": pa.array([item.file or "" for item in lines], pa.string()),
        "ip": pa.repeat(pa.scalar(request.ip, pa.string()), len(lines)),
        "mac": pa.repeat(pa.scalar(request.mac, pa.string()), len(lines)),
        "tags": pa.array([_tags(item.tags, request.tags) if item.tags else request.tags for item in lines], pa.list_(pa.string())),
        "line": pa.array([item.line for item in lines], pa.string()),
        "labels": _string_maps([item.label for item in lines]),
        "annotations": _string_maps([item.annotation for item in lines]),
    }
    return LineBatch(request.account, ingester, columns, _meta_rows(lines, problems), problems, request.import_times)


def decode_lines(body: bytes) -> list[LineIn]:
    try:
        decoded = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(_describe_decode_error(exc)) from None
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not valid UTF-8: byte {exc.start} ({exc.reason})") from None
    except RecursionError:
        raise BadRequest("the body nests objects or arrays about a thousand levels deep; meta is kept to 3 levels") from None
    lines = decoded.lines if decoded.lines is not None else decoded.ls
    if lines is None:
        raise BadRequest('the body has no lines: send {"lines": [{"line": "..."}]}')
    return lines


def _timestamps(lines: list[LineIn], request: Request, problems: Problems) -> pa.Array:
    """The sender's times in epoch ms, corrected for its clock's drift; null where none."""
    drift = now_ms() - request.client_now_ms if request.client_now_ms is not None else 0
    raw = [item.timestamp for item in lines]
    if all(type(value) is int and SECONDS_CUTOFF <= value < MAX_MS for value in raw):
        millis = [value + drift for value in raw]  # type: ignore[operator]
    else:
        millis = []
        for index, value in enumerate(raw):
            parsed = parse_timestamp(value) if value is not None else None
            if parsed is None and value is not None:
                shown = repr(str(value)[:40])
                problems.add("bad_timestamps", [index], lambda _, line, shown=shown: f"line {line}: unreadable timestamp {shown}; using the receive time")
            millis.append(None if parsed is None else parsed + drift)
    # Drift correction can push a time out of the storable range; the normalise stage replaces it.
    return pa.array(millis, pa.int64()).cast(TIMESTAMP)


def _meta_rows(lines: list[LineIn], problems: Problems) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for index, item in enumerate(lines):
        if item.meta:
            fields = _meta_fields(bytes(item.meta), index, problems)
            if fields:
                rows.append((index, fields))
    return rows


def _meta_fields(text: bytes, index: int, problems: Problems) -> dict[str, Any]:
    """Meta as flattened fields. An object is read as it is; a JSON string holding an object is
    unwrapped; anything else that is text, or an object no reader could load back, is kept under
    `_unparsed`."""
    first = text.lstrip()[:1]
    if first == b"n":  # null
        return {}
    if first not in (b"{", b'"'):
        raise BadRequest(f"meta must be an object or a JSON string - at `$.lines[{index}].meta`")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # valid JSON that orjson will not load: 1e400, nesting over 1024 deep
        return _unparsed(text.decode(), index, problems)
    if isinstance(value, str):
        try:
            inner = orjson.loads(value)
        except orjson.JSONDecodeError:
            inner = None
        if not isinstance(inner, dict):
            return _unparsed(value, index, problems)
        value = inner
    fields: dict[str, Any] = {}
    flatten(value, fields)
    return limit_fields(fields) if len(fields) > MAX_FIELDS_PER_LINE else fields


def _unparsed(text: str, index: int, problems: Problems) -> dict[str, Any]:
    problems.add("bad_meta", [index], lambda _, line: f"line {line}: meta is not a JSON object that can be kept as fields; kept as text under {UNPARSED}")
    return {UNPARSED: text[:MAX_UNPARSED_CHARS]}


def _string_maps(mappings: list[dict[str, str] | None]) -> pa.Array:
    if not any(mappings):
        return pa.array([[]] * len(mappings), STRING_MAP)
    return pa.array([list(m.items()) if m else [] for m in mappings], STRING_MAP)


def _tags(line_tags: str | list[str], request_tags: tuple[str, ...]) -> list[str]:
    """The request's tags, then the line's own, each once, in order (a dict keeps insertion order)."""
    own = line_tags.split(",") if isinstance(line_tags, str) else line_tags
    merged = dict.fromkeys(request_tags)
    merged.update(dict.fromkeys(tag.strip() for tag in own if tag.strip()))
    return list(merged)


def _describe_decode_error(exc: msgspec.DecodeError) -> str:
    if isinstance(exc, msgspec.ValidationError):
        return f"invalid body: {exc}"
    return f"malformed JSON: {exc}"
