"""Stage 1, normalise: the columns every line has, in their canonical form.

- `line`: lines over `max_line_bytes` are cut at a UTF-8 boundary and marked; only those lines
  are touched in Python.
- `level`: the sender's level in canonical spelling (parse/levels.py), vectorised.
- `ts`: the sender's times under the time policy (`settle_times`, which the parse stage applies
  to times found in lines too); lines without one get theirs after parsing.
- Kubernetes origin (namespace, pod, container, node) from kubelet container-log file names.
- `fields`: the sender's meta as typed columns, each field in its kind in the account.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.ingest.batch import LineBatch
from timberyard.ingest.stages.context import Context
from timberyard.parse.levels import canonical_levels
from timberyard.parse.timestamps import MAX_MS

# /var/log/containers/<pod>_<namespace>_<container>-<64 hex container id>.log (the kubelet's naming)
K8S_FILE = r"^/var/log/containers/(?P<pod>[^_/]+)_(?P<namespace>[^_/]+)_(?P<container>[^/]+)-[0-9a-f]{64}\.log$"
K8S_COLUMNS = ("k8s_namespace", "k8s_pod", "k8s_container", "k8s_node")


def normalise(batch: LineBatch, context: Context) -> None:
    batch.fields = context.field_types.columns(len(batch), batch.meta, batch.problems)
    batch.columns["line"] = truncate_long_lines(batch, context.max_line_bytes)
    batch.columns["level"] = canonical_levels(batch.column("level"))
    sender_times = batch.column("ts").cast(pa.int64())
    if sender_times.null_count < len(sender_times):
        batch.columns["ts"] = settle_times(batch, sender_times, context, "sender").cast(batch.columns["ts"].type)
    _kubernetes_origin(batch)


def settle_times(batch: LineBatch, millis: pa.Array, context: Context, origin: str) -> pa.Array:
    """Apply the time policy to epoch-ms times (nulls pass through) and return them; drops the
    lines whose time is older than the account's retention (they would never be searchable).

    Live lines: a time further than `max_skew_ms` from the receive time (LogDNA's rule, for
    clocks that are wrong) becomes the receive time. Imported lines (`import_times`) keep their
    own time back to the retention; only times in the future beyond the skew are replaced.
    A skew of 0 keeps every time in the storable range (1970-2099)."""
    received, skew = context.received_ms, context.max_skew_ms
    outside = pc.or_(pc.less(millis, 0), pc.greater_equal(millis, MAX_MS))
    if skew:
        ahead = pc.greater(pc.subtract(millis, received), skew)
        behind = pc.greater(pc.subtract(received, millis), skew)
        outside = pc.or_(outside, ahead if batch.import_times else pc.or_(ahead, behind))
    if pc.any(outside).as_py():
        limit = f"more than {skew // 3_600_000} h from now" if skew else "outside 1970-2099"
        if batch.import_times and skew:
            limit = f"more than {skew // 3_600_000} h in the future"
        batch.problems.add(
            "clamped_timestamps", outside, lambda count, _: f"{count} line(s) with a {origin} time {limit}; using the receive time"
        )
        millis = pc.if_else(outside, received, millis)
    oldest = received - context.retention_days * 86_400_000
    expired = pc.fill_null(pc.less(millis, oldest), False)
    if pc.any(expired).as_py():
        days = context.retention_days
        batch.problems.add(
            "expired_lines",
            expired,
            lambda count, _: f"{count} line(s) with a {origin} time older than the account's {days}-day retention; not stored",
        )
        keep = pc.invert(expired)
        batch.keep(keep)
        millis = millis.filter(keep)
    return millis


def truncate_long_lines(batch: LineBatch, max_bytes: int) -> pa.Array:
    lines = batch.columns["line"]
    long = pc.greater(pc.binary_length(lines), max_bytes)
    if not pc.any(long).as_py():
        return lines
    texts = lines.to_pylist()
    for index in pc.indices_nonzero(long).to_pylist():
        encoded = texts[index].encode("utf-8")
        kept = encoded[:max_bytes].decode("utf-8", "ignore")
        removed = len(encoded) - len(kept.encode("utf-8"))
        texts[index] = kept + f" [timberyard: truncated {removed} bytes]"
        size = len(encoded)
        batch.problems.add(
            "truncated_lines", [index], lambda _, line, size=size: f"line {line}: {size} bytes, over the {max_bytes}-byte limit; truncated"
        )
    return pa.array(texts, pa.string())


def _kubernetes_origin(batch: LineBatch) -> None:
    files = batch.column("file")
    if not pc.any(pc.starts_with(files, "/var/log/containers/")).as_py():
        return
    found = pc.extract_regex(files, K8S_FILE)
    matched = found.is_valid()
    for column, part in zip(K8S_COLUMNS[:3], ("namespace", "pod", "container")):
        batch.columns[column] = pc.fill_null(pc.struct_field(found, part), "")
    batch.columns["k8s_node"] = pc.if_else(matched, batch.column("host"), "")
