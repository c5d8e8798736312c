"""LogDNA's ingestion body, decoded straight into a columnar batch.

msgspec validates the JSON against the line schema in C, so a wrong type or a missing `line`
becomes a precise 400 ("Expected `str`, got `int` - at `$.lines[3].line`") without per-field
Python checks; the columns are then built with one comprehension each. Per-line Python runs only
where a line needs it: timestamps that are not epoch ms, meta sent as a string, lines over the
size limit. Levels of lines sent without one are detected by the store, vectorised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import msgspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.errors import BadRequest
from timberyard.core.records import LOG_SCHEMA, STRING_MAP, TIMESTAMP
from timberyard.parse.levels import CANONICAL
from timberyard.parse.timestamps import MAX_MS, SECONDS_CUTOFF, parse_timestamp


NO_META = msgspec.Raw(b"")


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

K8S_LOG_DIR = "/var/log/containers/"
_K8S_FILE = re.compile(
    r"/var/log/containers/(?P<pod>[^_/]+)_(?P<namespace>[^_/]+)_(?P<container>[^/]+)-[0-9a-f]{64}\.log$"
)
NOT_K8S = ("", "", "", "")


@dataclass(frozen=True)
class RequestContext:
    """What the request's URL and connection say about all of its lines."""

    account: str
    hostname: str
    received_ms: int
    first_id: int
    ip: str = ""
    mac: str = ""
    tags: tuple[str, ...] = ()
    client_now_ms: int | None = None
    retention_days: int = 30


@dataclass(frozen=True)
class Limits:
    max_line_bytes: int
    max_timestamp_skew_ms: int  # 0 accepts any timestamp (backfills)


@dataclass
class Problems:
    """Per-line problems that did not fail the request; reported in metrics and the response."""

    truncated: int = 0
    bad_timestamps: int = 0
    clamped_timestamps: int = 0
    bad_meta: int = 0
    expired: int = 0
    samples: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if len(self.samples) < 5:
            self.samples.append(message)


def decode_lines(body: bytes) -> list[LineIn]:
    try:
        decoded = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise BadRequest(_describe_decode_error(exc)) from None
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not valid UTF-8: byte {exc.start} ({exc.reason})") from None
    lines = decoded.lines if decoded.lines is not None else decoded.ls
    if lines is None:
        raise BadRequest('the body has no lines: send {"lines": [{"line": "..."}]}')
    return lines


def build_batch(lines: list[LineIn], ctx: RequestContext, limits: Limits) -> tuple[pa.RecordBatch, Problems]:
    problems = Problems()
    count = len(lines)
    texts = _truncate_long_lines([item.line for item in lines], limits.max_line_bytes, problems)
    hosts = [item.hostname or item.host or ctx.hostname for item in lines]
    files = [item.file or "" for item in lines]
    columns = {
        "account": pa.repeat(ctx.account, count),
        "ts": _timestamps(lines, ctx, limits, problems),
        "id": pa.array(range(ctx.first_id, ctx.first_id + count), pa.uint64()),
        "host": hosts,
        "app": [item.app or "" for item in lines],
        "level": [_level(item.level) if item.level else "" for item in lines],
        "env": [item.env or "" for item in lines],
        "file": files,
        "ip": pa.repeat(ctx.ip, count),
        "mac": pa.repeat(ctx.mac, count),
        "tags": [_tags(item.tags, ctx.tags) if item.tags else ctx.tags for item in lines],
        **_k8s_columns(files, hosts),
        "line": texts,
        "meta": [_meta(item.meta, index, problems) if item.meta else "" for index, item in enumerate(lines)],
        "labels": _string_maps([item.label for item in lines]),
        "annotations": _string_maps([item.annotation for item in lines]),
        "retention_days": pa.repeat(pa.scalar(ctx.retention_days, pa.uint16()), count),
    }
    arrays = [_as_array(columns[f.name], f.type) for f in LOG_SCHEMA]
    return pa.RecordBatch.from_arrays(arrays, schema=LOG_SCHEMA), problems


def _as_array(values: pa.Array | list[object], kind: pa.DataType) -> pa.Array:
    if not isinstance(values, pa.Array):
        return pa.array(values, kind)
    return values if values.type == kind else values.cast(kind)


def _k8s_columns(files: list[str], hosts: list[str]) -> dict[str, pa.Array | list[str]]:
    """Kubernetes origin columns; constant empty columns when no line is a container log."""
    names = ("k8s_namespace", "k8s_pod", "k8s_container", "k8s_node")
    if not any(file.startswith(K8S_LOG_DIR) for file in files):
        return {name: pa.repeat("", len(files)) for name in names}
    origins = [_k8s_origin(file, host) if file.startswith(K8S_LOG_DIR) else NOT_K8S for file, host in zip(files, hosts)]
    return {name: [origin[index] for origin in origins] for index, name in enumerate(names)}


def _string_maps(mappings: list[dict[str, str] | None]) -> pa.Array:
    if not any(mappings):
        return pa.array([[]] * len(mappings), STRING_MAP)
    return pa.array([list(m.items()) if m else [] for m in mappings], STRING_MAP)


def _level(given: str) -> str:
    """The sender's level, canonical. Lines without one are left "" for the store to detect."""
    return CANONICAL.get(given) or CANONICAL.get(given.strip().upper()) or given.strip().upper()


def _timestamps(lines: list[LineIn], ctx: RequestContext, limits: Limits, problems: Problems) -> pa.Array:
    """Epoch-ms column: the sender's time corrected for its clock drift, else the receive time."""
    received = ctx.received_ms
    drift = received - ctx.client_now_ms if ctx.client_now_ms is not None else 0
    raw = [item.timestamp for item in lines]
    if all(type(value) is int and SECONDS_CUTOFF <= value < MAX_MS for value in raw):
        millis = pc.add(pa.array(raw, pa.int64()), drift)
    else:
        values = []
        for index, value in enumerate(raw):
            parsed = parse_timestamp(value) if value is not None else received - drift
            if parsed is None:
                problems.bad_timestamps += 1
                problems.note(f"line {index}: unreadable timestamp {str(value)[:40]!r}; using the receive time")
                parsed = received - drift
            values.append(parsed)
        millis = pc.add(pa.array(values, pa.int64()), drift)
    skew = limits.max_timestamp_skew_ms
    distance = pc.abs(pc.subtract(millis, received))
    # Drift correction can push a time out of the storable range; the skew limit is optional.
    too_far = pc.or_(pc.less(millis, 0), pc.greater_equal(millis, MAX_MS))
    if skew:
        too_far = pc.or_(too_far, pc.greater(distance, skew))
    clamped = pc.sum(too_far).as_py() or 0
    if clamped:
        problems.clamped_timestamps += clamped
        limit = f"more than {skew // 3_600_000} h from now" if skew else "outside 1970-2099"
        problems.note(f"{clamped} line(s) with a timestamp {limit}; using the receive time")
        millis = pc.if_else(too_far, received, millis)
    oldest_kept = received - ctx.retention_days * 86_400_000
    expired = pc.sum(pc.less(millis, oldest_kept)).as_py() or 0
    if expired:
        problems.expired += expired
        problems.note(f"{expired} line(s) older than the account's {ctx.retention_days}-day retention; the store drops them")
    return millis.cast(pa.int64()).cast(TIMESTAMP)


def _truncate_long_lines(texts: list[str], max_bytes: int, problems: Problems) -> list[str]:
    # A str of n characters has between n and 4n UTF-8 bytes: only lines over a quarter of the
    # limit in characters can be over it in bytes, so most lines are never encoded.
    quarter = max_bytes // 4
    for index, text in enumerate(texts):
        if len(text) > quarter:
            encoded = text.encode("utf-8", "surrogatepass")
            if len(encoded) > max_bytes:
                kept = encoded[:max_bytes].decode("utf-8", "ignore")
                removed = len(encoded) - len(kept.encode("utf-8", "surrogatepass"))
                texts[index] = kept + f" [timberyard: truncated {removed} bytes]"
                problems.truncated += 1
                problems.note(f"line {index}: {len(encoded)} bytes, over the {max_bytes}-byte limit; truncated")
    return texts


def _k8s_origin(file: str, host: str) -> tuple[str, str, str, str]:
    """Namespace, pod, container and node of a container log file, from the kubelet's naming:
    /var/log/containers/<pod>_<namespace>_<container>-<64 hex container id>.log."""
    match = _K8S_FILE.match(file)
    if not match:
        return NOT_K8S
    return match["namespace"], match["pod"], match["container"], host


def _tags(line_tags: str | list[str], request_tags: tuple[str, ...]) -> list[str]:
    own = line_tags.split(",") if isinstance(line_tags, str) else line_tags
    merged = list(request_tags)
    merged.extend(tag.strip() for tag in own if tag.strip() and tag.strip() not in merged)
    return merged


def _meta(raw: msgspec.Raw, index: int, problems: Problems) -> str:
    """Meta is kept as JSON object text; a JSON string holding an object is unwrapped."""
    text = bytes(raw)
    first = text.lstrip()[:1]
    if first == b"{":
        return text.decode()
    if first == b'"':
        inner = orjson.loads(text)
        try:
            value = orjson.loads(inner)
        except orjson.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return orjson.dumps(value).decode()
        problems.bad_meta += 1
        problems.note(f"line {index}: meta is a string that is not a JSON object; kept under _unparsed")
        return orjson.dumps({"_unparsed": inner}).decode()
    if first == b"n":  # null
        return ""
    raise BadRequest(f"meta must be an object or a JSON string - at `$.lines[{index}].meta`")


def _describe_decode_error(exc: msgspec.DecodeError) -> str:
    if isinstance(exc, msgspec.ValidationError):
        return f"invalid body: {exc}"
    return f"malformed JSON: {exc}"
