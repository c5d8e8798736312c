"""Real servers on loopback for integration tests: `timberyard init` + `timberyard serve` as child processes.

Each server gets its own data directory and port and is driven over HTTP like a user would.
The process's log goes to `<data_dir>/server.log` and is printed when a start fails.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

TIMBERYARD = [sys.executable, "-m", "timberyard"]
START_TIMEOUT_S = 60
METRICS_TOKEN = "operator-metrics-token-for-tests-0123"  # every test server's `metrics_token`
OPERATOR = {"Authorization": f"Bearer {METRICS_TOKEN}"}  # headers that read the node-wide /metrics


def _port_range() -> range:
    """This test process's own ports: a slice, one per pytest-xdist worker, of the ports below the
    kernel's ephemeral range. Ports that `bind(0)` hands out can be handed to the other worker (or
    to any outgoing connection) before our server binds them; these are nobody else's."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    index = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    width = (ephemeral_low - PORTS_FROM) // count
    return range(PORTS_FROM + index * width, PORTS_FROM + (index + 1) * width)


PORTS_FROM = 10_000
_ports = _port_range()
_next_port = random.randrange(len(_ports))  # two sessions at once (two worktrees) start apart


def free_port() -> int:
    """A loopback port no socket (TCP or UDP) is bound to, never the same twice in a session."""
    global _next_port
    for _ in range(len(_ports)):
        port = _ports[_next_port % len(_ports)]
        _next_port += 1
        try:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                with socket.socket(socket.AF_INET, kind) as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise AssertionError(f"no free port in {_ports}")


def run_cli(*args: str, env: dict[str, str] | None = None, input: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run([*TIMBERYARD, *args], capture_output=True, env={**os.environ, **(env or {})}, input=input, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"timberyard {' '.join(args)} failed ({result.returncode}): {result.stderr.decode()[-2000:]}")
    return result


@dataclass
class Server:
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    serve_args: tuple[str, ...] = ()  # extra `timberyard serve` flags, e.g. --tls-cert/--tls-key
    tls_ca: Path | None = None  # set when the server speaks HTTPS with a certificate this file verifies

    @property
    def url(self) -> str:
        return f"{'https' if self.tls_ca else 'http'}://127.0.0.1:{self.port}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=str(self.tls_ca)) if self.tls_ca else True

    @property
    def ingestion_key(self) -> str:
        return self.credentials["ingestion_key"]

    @property
    def service_key(self) -> str:
        return self.credentials["service_key"]

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def init(self) -> None:
        created = run_cli("init", "--data-dir", str(self.data_dir), "--json")
        self.credentials = json.loads(created.stdout)

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [*TIMBERYARD, "serve", "--data-dir", str(self.data_dir), "--http", f"127.0.0.1:{self.port}", *self.serve_args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TIMBERYARD_METRICS_TOKEN": METRICS_TOKEN, **self.env},
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/readyz", timeout=1, verify=self.verify).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready after {START_TIMEOUT_S}s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    # -- HTTP helpers ---------------------------------------------------------------------------

    def ingest(self, lines: list[dict[str, Any]] | None = None, *, key: str | None = None, params: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        params = {"hostname": "test-host", **(params or {})}
        if lines is not None:
            kwargs.setdefault("content", orjson.dumps({"lines": lines}))
        return httpx.post(self.url + "/logs/ingest", params=params, auth=(key or self.ingestion_key, ""), timeout=30, **kwargs)

    def export(self, key: str | None = None, **params: Any) -> list[dict[str, Any]]:
        query = {"from": 0, "to": 9_999_999_999_999, "size": 10_000, **params}
        response = httpx.get(self.url + "/v1/export", params=query, auth=(key or self.service_key, ""), timeout=30)
        assert response.status_code == 200, response.text
        return [orjson.loads(line) for line in response.content.splitlines()]

    def metric(self, name: str) -> float:
        text = httpx.get(self.url + "/metrics", headers=OPERATOR, timeout=10).text
        match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        return float(match.group(1)) if match else 0.0

    def wait_stored(self, count: float, timeout: float = 30) -> None:
        """Block until the store holds `count` lines inserted since this process started and
        nothing acknowledged is still waiting in the WAL, so every line a caller got a 200 for
        (not merely as many lines as it sent) is in the store."""
        deadline = time.monotonic() + timeout
        while self.metric("timberyard_store_lines_total") < count or self.metric("timberyard_wal_pending_bytes") > 0:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"store has {self.metric('timberyard_store_lines_total')} lines, expected {count}; "
                    f"{self.metric('timberyard_wal_pending_bytes')} bytes still pending in the WAL"
                )
            time.sleep(0.05)


def start_server(data_dir: Path, **env: str) -> Server:
    server = Server(data_dir, env={"TIMBERYARD_BATCH_MAX_WAIT_MS": "100", **env})
    server.init()
    server.start()
    return server


def archive_node(tmp_path_factory: Any, settle_s: float, **env: str) -> Iterator[Server]:
    """A node archiving local destinations under a directory of its own (`archive_root`), taking
    lines `settle_s` after they arrive; for a module-scoped fixture to `yield from`."""
    root = tmp_path_factory.mktemp("archives")
    running = start_server(tmp_path_factory.mktemp("node"), TIMBERYARD_ARCHIVE_SETTLE_S=str(settle_s),
                           TIMBERYARD_ARCHIVE_LOCAL_ROOT=str(root), **env)
    running.archive_root = root  # type: ignore[attr-defined]
    yield running
    if running.process is not None:
        running.stop()


def create_account(server: Server, name: str) -> dict[str, str]:
    """A new account made with the CLI: its keys (`service_key`, `ingestion_key`) and owner."""
    return orjson.loads(run_cli("accounts", "create", name, "--data-dir", str(server.data_dir), "--json").stdout)  # type: ignore[no-any-return]


def call(server: Server, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
    """One API request, with `key` as its service key (none: unauthenticated)."""
    if key is not None:
        kwargs["auth"] = (key, "")
    return httpx.request(method, server.url + path, timeout=30, **kwargs)


def role_keys(server: Server, label: str) -> dict[str, str]:
    """Service keys of each role of the server's first account ("admin" is its own key), and
    "other": the admin key of a new account, for tests of the API's roles and tenancy."""
    made = {"admin": server.service_key}
    for role in ("readonly", "member"):
        response = httpx.post(server.url + "/api/v1/keys", json={"type": "service", "role": role, "name": f"{label}-{role}"},
                              auth=(server.service_key, ""), timeout=30)
        assert response.status_code == 201, response.text
        made[role] = response.json()["key"]
    other = json.loads(run_cli("accounts", "create", f"{label}-other-{os.urandom(3).hex()}", "--data-dir", str(server.data_dir), "--json").stdout)
    made["other"] = other["service_key"]
    return made


def delete_lines(server: Server, account: str, from_ms: int, to_ms: int) -> None:
    """Remove an account's lines of a range from the stopped node's store, as expiry would
    (the server is stopped for it, chDB having one owner, and started again)."""
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from timberyard.store.chdb import ChdbStore
        store = ChdbStore(Path(sys.argv[1]))
        store.select("ALTER TABLE timberyard.logs DELETE WHERE account = {a:String} AND toUnixTimestamp64Milli(ts) "
                     "BETWEEN {f:Int64} AND {t:Int64} SETTINGS mutations_sync = 2", {"a": sys.argv[2], "f": int(sys.argv[3]), "t": int(sys.argv[4])})
        store.close()
    """)
    server.stop()
    subprocess.run([sys.executable, "-c", script, str(server.data_dir / "store"), account, str(from_ms), str(to_ms)], check=True)
    server.start()
