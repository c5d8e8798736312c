"""Accepted means durable: kill -9 at any instant loses no acknowledged line and duplicates none.

Clients send numbered lines concurrently and remember which requests got a 200. The server is
killed with SIGKILL at varying moments (mid-request, mid-fsync, mid-insert), restarted, killed
again, and finally drained. Then the store itself is read and every line counted.
"""

from __future__ import annotations

import collections
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson

from servers import Server, free_port, run_cli, start_server

CLIENTS = 4
LINES_PER_REQUEST = 50
KILL_CYCLES = 3


class Client(threading.Thread):
    """Sends numbered batches until the server goes away; records what was acknowledged."""

    def __init__(self, server: Server, name: str, start_at: int) -> None:
        super().__init__(daemon=True)
        self.server, self.client_name, self.next = server, name, start_at
        self.acked: list[str] = []

    def run(self) -> None:
        with httpx.Client(timeout=10) as http:
            while True:
                numbers = [f"{self.client_name}-{self.next + i}" for i in range(LINES_PER_REQUEST)]
                body = orjson.dumps({"lines": [{"line": f"seq={n} payload", "app": "durability"} for n in numbers]})
                try:
                    response = http.post(
                        self.server.url + "/logs/ingest",
                        params={"hostname": "crash-host"},
                        content=body,
                        auth=(self.server.ingestion_key, ""),
                    )
                except httpx.TransportError:
                    return  # the server died; this request's lines may or may not be durable
                self.next += LINES_PER_REQUEST
                if response.status_code == 200:
                    self.acked.extend(numbers)
                elif response.status_code != 503:
                    raise AssertionError(f"unexpected {response.status_code}: {response.text}")


def read_store_lines(data_dir: Path) -> list[str]:
    """Read the stopped node's store directly (a separate process: chDB opens one path per process)."""
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from timberyard.store.chdb import ChdbStore\n"
        "store = ChdbStore(Path(sys.argv[1]))\n"
        "rows = store.select(\"SELECT line FROM timberyard.logs WHERE app = 'durability'\", {})\n"
        "print(json.dumps([r['line'] for r in rows]))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(data_dir / "store")], capture_output=True, timeout=120, check=True)
    return json.loads(result.stdout)


def test_kill_9_during_concurrent_ingest_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    server = start_server(tmp_path, TIMBERYARD_BATCH_MAX_WAIT_MS="30", TIMBERYARD_BATCH_MAX_LINES="1500")
    kill_9_repeatedly_and_count(server, tmp_path, KILL_CYCLES)


def test_kill_9_with_an_encrypted_wal_loses_nothing_and_leaves_no_plaintext(tmp_path: Path) -> None:
    server = start_server(
        tmp_path, TIMBERYARD_WAL_KEY=os.urandom(32).hex(), TIMBERYARD_BATCH_MAX_WAIT_MS="30", TIMBERYARD_BATCH_MAX_LINES="1500"
    )
    kill_9_repeatedly_and_count(server, tmp_path, 1)
    segments = list((tmp_path / "wal").glob("*.wal"))
    assert segments and sum(segment.stat().st_size for segment in segments) > 0
    assert not any(b"payload" in segment.read_bytes() for segment in segments)


def kill_9_repeatedly_and_count(server: Server, data_dir: Path, cycles: int) -> None:
    """Ingest from concurrent clients, kill -9, restart, `cycles` times; drain; count every line."""
    rng = random.Random(20261128)
    acked: list[str] = []
    for cycle in range(cycles):
        clients = [Client(server, f"c{cycle}.{n}", 0) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        time.sleep(rng.uniform(0.8, 2.0))
        server.kill()
        for client in clients:
            client.join(timeout=30)
            assert not client.is_alive()
            acked.extend(client.acked)
        server.start()
    assert server.stop() == 0  # SIGTERM drains the WAL into the store
    assert len(acked) > 1000, "the clients got too few lines in to make this test meaningful"

    stored = [line.removeprefix("seq=").removesuffix(" payload") for line in read_store_lines(data_dir)]
    counts = collections.Counter(stored)
    duplicated = {seq: n for seq, n in counts.items() if n > 1}
    missing = set(acked) - set(counts)
    assert not duplicated, f"{len(duplicated)} lines stored more than once, e.g. {list(duplicated.items())[:5]}"
    assert not missing, f"{len(missing)} acknowledged lines lost, e.g. {sorted(missing)[:5]}"
    # Lines whose request died with the server may be in or out, but only whole requests.
    unacknowledged = set(counts) - set(acked)
    assert len(unacknowledged) % LINES_PER_REQUEST == 0


def test_sigterm_drains_everything_into_the_store(tmp_path: Path) -> None:
    server = start_server(tmp_path, TIMBERYARD_BATCH_MAX_WAIT_MS="600000", TIMBERYARD_BATCH_MAX_LINES="100000000")
    lines = [{"line": f"seq=drain-{n} payload", "app": "durability"} for n in range(500)]
    for start in range(0, 500, 100):
        assert server.ingest(lines[start : start + 100]).status_code == 200
    assert server.metric("timberyard_store_lines_total") == 0  # all of it still only in the WAL
    assert server.stop() == 0
    assert sorted(read_store_lines(tmp_path)) == sorted(line["line"] for line in lines)


def test_an_encrypted_wal_replays_only_with_its_key(tmp_path: Path) -> None:
    key = os.urandom(32).hex()
    server = start_server(tmp_path, TIMBERYARD_WAL_KEY=key, TIMBERYARD_BATCH_MAX_WAIT_MS="600000", TIMBERYARD_BATCH_MAX_LINES="100000000")
    lines = [{"line": f"seq=sealed-{n} payload", "app": "durability"} for n in range(200)]
    assert server.ingest(lines).status_code == 200
    server.kill()  # the lines are only in the encrypted WAL
    for env, error in [({}, "encrypted and no key is configured"), ({"TIMBERYARD_WAL_KEY": os.urandom(32).hex()}, "key does not decrypt")]:
        refused = run_cli("serve", "--data-dir", str(tmp_path), "--http", f"127.0.0.1:{free_port()}", env=env, check=False)
        assert refused.returncode == 1 and error in refused.stderr.decode(), refused.stderr.decode()[-2000:]
    server.start()
    assert server.stop() == 0
    assert sorted(read_store_lines(tmp_path)) == sorted(line["line"] for line in lines)
