"""Kubernetes container logs: the kubelet's file names, the runtimes' line formats, pod metadata.

- `/var/log/containers/<pod>_<namespace>_<container>-<64 hex id>.log` names the origin. Lines
  are reported with that canonical path as their `file` whatever directory the agent reads it
  from (a hostPath mounted elsewhere), so the node fills namespace, pod, container and node.
- CRI (containerd, CRI-O): `<RFC 3339 time> <stdout|stderr> <P|F> <text>`; docker json-file:
  `{"log": "text\\n", "stream": "stdout", "time": "..."}`. Runtimes split long lines into
  partial pieces (CRI `P`, docker: no trailing newline); the pieces are joined again, per
  stream, since stdout and stderr interleave in one file. The runtime's time is the line's.
- Labels and annotations come from the Kubernetes API (the pod's service account), fetched
  once per pod in the background and cached; without the API the lines still flow.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import logging
import os
import queue
import re
import ssl
import threading
import time
import urllib.request
from typing import Any

log = logging.getLogger("timberyard.agent")

CONTAINER_FILE = re.compile(r"(?P<pod>[^_/]+)_(?P<namespace>[^_/]+)_(?P<container>[^/]+)-(?P<id>[0-9a-f]{64})\.log")
CANONICAL_DIR = "/var/log/containers/"
SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
METADATA_TTL_S = 300
METADATA_WAIT_S = 2.0

Line = tuple[str, int, "int | None", str]  # text, start offset, time (ms), stream


def container_origin(path: str) -> dict[str, str] | None:
    """namespace, pod and container from a kubelet container-log file name, else None."""
    match = CONTAINER_FILE.fullmatch(os.path.basename(path))
    return match.groupdict() if match else None


class ContainerDecoder:
    """Runtime log lines → text lines with their stream and time; partial pieces reassembled."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._pending: dict[str, tuple[list[bytes], int, int, str]] = {}  # stream → (pieces, start, size, first time)
        self._second = ("", 0)

    @property
    def held_from(self) -> int | None:
        return min((pending[1] for pending in self._pending.values()), default=None)

    def feed(self, raw: bytes, start: int, out: list[Line]) -> None:
        if raw[:1] == b"{":
            decoded = self._docker(raw)
        else:
            decoded = self._cri(raw)
        if decoded is None:  # not a runtime line: pass it through as it is
            out.append((raw.decode("utf-8", "replace"), start, None, "stdout"))
            return
        text, stream, stamp, complete = decoded
        pieces, first, size, first_stamp = self._pending.pop(stream, ([], start, 0, stamp))
        if size < self.max_bytes:
            pieces.append(text)
            size += len(text)
        if not complete:
            self._pending[stream] = (pieces, first, size, first_stamp)
            return
        joined = b"".join(pieces)[: self.max_bytes]
        out.append((joined.decode("utf-8", "replace"), first, self._millis(first_stamp), stream))

    def drain(self) -> list[tuple[str, int, str]]:
        """Pieces whose last piece never came (the file ended): (text, start, stream), oldest first."""
        pending = sorted(self._pending.items(), key=lambda item: item[1][1])
        self._pending = {}
        return [(b"".join(pieces).decode("utf-8", "replace"), start, stream) for stream, (pieces, start, _, _) in pending]

    def _cri(self, raw: bytes) -> tuple[bytes, str, str, bool] | None:
        parts = raw.split(b" ", 3)
        if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr"):
            return None
        text = parts[3] if len(parts) == 4 else b""
        return text, parts[1].decode(), parts[0].decode(), not parts[2].startswith(b"P")

    def _docker(self, raw: bytes) -> tuple[bytes, str, str, bool] | None:
        try:
            entry = json.loads(raw)
            text = entry["log"].encode()
        except (ValueError, KeyError, TypeError, AttributeError):
            return None
        complete = text.endswith(b"\n")
        return text.rstrip(b"\n") if complete else text, str(entry.get("stream", "stdout")), str(entry.get("time", "")), complete

    def _millis(self, stamp: str) -> int | None:
        """RFC 3339 (nanoseconds allowed) → epoch ms; the seconds part is cached per second."""
        if stamp.endswith("Z") and len(stamp) >= 20:
            seconds, cached = self._second
            if stamp[:19] != seconds:
                try:
                    cached = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
                except ValueError:
                    return None
                self._second = (stamp[:19], cached)
            fraction = stamp[20:-1][:3] if stamp[19] == "." else ""
            return cached * 1000 + int(fraction.ljust(3, "0")) if fraction.isdigit() or not fraction else None
        try:
            return int(dt.datetime.fromisoformat(stamp[:26] + stamp[-6:] if len(stamp) > 32 else stamp).timestamp() * 1000)
        except ValueError:
            return None


class PodMetadata:
    """Labels and annotations of pods from the Kubernetes API, fetched in the background."""

    def __init__(self, api_url: str, token_file: str = SERVICE_ACCOUNT + "/token", ca_file: str = SERVICE_ACCOUNT + "/ca.crt") -> None:
        self.api_url = api_url.rstrip("/")
        self.token_file = token_file
        self.context = ssl.create_default_context(cafile=ca_file if os.path.exists(ca_file) else None)
        self._known: dict[tuple[str, str], tuple[float, dict[str, Any] | None]] = {}
        self._wanted: queue.Queue[tuple[str, str]] = queue.Queue()
        self._asked: dict[tuple[str, str], float] = {}
        self._refreshing: set[tuple[str, str]] = set()
        threading.Thread(target=self._run, name="k8s-metadata", daemon=True).start()

    @classmethod
    def from_setting(cls, setting: str) -> PodMetadata | None:
        """`auto`: in a cluster (the service account's variables are set); `off`; or a URL."""
        if setting == "off":
            return None
        if setting == "auto":
            host, port = os.environ.get("KUBERNETES_SERVICE_HOST"), os.environ.get("KUBERNETES_SERVICE_PORT", "443")
            return cls(f"https://{host}:{port}") if host else None
        return cls(setting)

    def ready(self, namespace: str, pod: str, now: float) -> bool:
        """Whether lines of this pod may go (metadata known, failed, or waited long enough)."""
        key = (namespace, pod)
        if key in self._known:
            return True
        asked = self._asked.setdefault(key, now)
        if asked == now:
            self._wanted.put(key)
        return now - asked >= METADATA_WAIT_S

    def get(self, namespace: str, pod: str) -> dict[str, Any] | None:
        """{"label": {...}, "annotation": {...}} of the pod, or None when unknown."""
        known = self._known.get((namespace, pod))
        if known is None:
            return None
        fetched, value = known
        if time.monotonic() - fetched > METADATA_TTL_S and (namespace, pod) not in self._refreshing:
            self._refreshing.add((namespace, pod))
            self._wanted.put((namespace, pod))
        return value

    def _run(self) -> None:
        while True:
            namespace, pod = self._wanted.get()
            self._known[(namespace, pod)] = (time.monotonic(), self._fetch(namespace, pod))
            self._asked.pop((namespace, pod), None)
            self._refreshing.discard((namespace, pod))

    def _fetch(self, namespace: str, pod: str) -> dict[str, Any] | None:
        request = urllib.request.Request(f"{self.api_url}/api/v1/namespaces/{namespace}/pods/{pod}")
        if os.path.exists(self.token_file):
            with open(self.token_file) as token:
                request.add_header("Authorization", f"Bearer {token.read().strip()}")
        try:
            with urllib.request.urlopen(request, timeout=5, context=self.context if self.api_url.startswith("https") else None) as answer:
                metadata = json.loads(answer.read()).get("metadata", {})
        except (OSError, ValueError) as exc:
            log.warning("no labels for pod %s/%s: the Kubernetes API answered %s", namespace, pod, exc)
            return None
        return {"label": metadata.get("labels") or {}, "annotation": metadata.get("annotations") or {}}
