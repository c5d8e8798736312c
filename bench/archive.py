"""Archive benchmark: a real `timberyard serve`, corpus lines ingested into two accounts (one
archiving encrypted, one plain, to local directories), one timed `POST /api/v1/archive/run`
each, and `gzip -6` of the very same JSON lines (the plain archive's content) in the same run.

    PYTHONPATH=src .venv/bin/python bench/archive.py                  # 200,000 lines
    PYTHONPATH=src .venv/bin/python bench/archive.py --lines 50000    # a quicker check

The run's time is the whole job as the node does it: read the range from the store, shape each
line like /v1/export, gzip (level 6), seal (AES-256-GCM) and write with fsync, then the digest
and the database record. Target: the encrypted archive at >= 0.8x gzip -6's lines/s.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import httpx  # noqa: E402

import corpus  # noqa: E402
from ingest import RunFailed, ServerProcess, init_data_dir  # noqa: E402

TARGET_RATIO = 0.8
SETTLE_S = 2
TOKEN = "bench-archive-metrics-token-0123456789"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--timberyard", help="the timberyard command [default: this Python's]")
    args = parser.parse_args()
    cmd = [args.timberyard] if args.timberyard else [sys.executable, "-m", "timberyard"]  # this checkout, with PYTHONPATH=src
    work = Path(tempfile.mkdtemp(prefix="timberyard-bench-archive-"))
    data_dir, root = work / "node", work / "archives"
    creds = init_data_dir(cmd, data_dir)
    other = json.loads(subprocess.run([*cmd, "accounts", "create", "plain", "--data-dir", str(data_dir), "--json"],
                                      capture_output=True, text=True, check=True).stdout)
    env = {"TIMBERYARD_ARCHIVE_SETTLE_S": str(SETTLE_S), "TIMBERYARD_ARCHIVE_LOCAL_ROOT": str(root), "TIMBERYARD_METRICS_TOKEN": TOKEN}
    server = ServerProcess(cmd, data_dir, work / "server.log", env=env)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        accounts = {"encrypted": creds, "plain": other}
        items = list(corpus.generate(args.lines, 1, int(time.time() * 1000), 3_600_000))
        with httpx.Client(base_url=base, timeout=120) as client:
            for name, keys in accounts.items():
                put = client.put("/api/v1/archive", auth=(keys["service_key"], ""),
                                 json={"encryption": name == "encrypted", "destination": {"type": "local", "path": name}})
                if put.status_code != 200:
                    raise RunFailed(f"configure {name}: {put.text}")
                for batch in corpus.per_host(items, 1000):
                    host, body = corpus.ingest_body(batch)
                    sent = client.post("/logs/ingest", params={"hostname": host}, content=body, auth=(keys["ingestion_key"], ""))
                    if sent.status_code != 200:
                        raise RunFailed(f"ingest: HTTP {sent.status_code} {sent.text[:200]}")
            _wait_stored(client, 2 * args.lines)
            time.sleep(SETTLE_S + 0.5)
            runs = {}
            for name, keys in accounts.items():
                started = time.perf_counter()
                answer = client.post("/api/v1/archive/run", auth=(keys["service_key"], ""), timeout=600)
                seconds = time.perf_counter() - started
                if answer.status_code != 200:
                    raise RunFailed(f"run {name}: {answer.text}")
                result = answer.json()
                runs[name] = (result["lines"], sum(f["bytes"] for f in result["files"]), seconds)
        plain = b"".join(gzip.decompress(p.read_bytes()) for p in sorted((root / "plain").rglob("*.json.gz")))
        source = work / "lines.json"
        source.write_bytes(plain)
        started = time.perf_counter()
        subprocess.run(["gzip", "-6", "-c", str(source)], stdout=subprocess.DEVNULL, check=True)
        gzip_s = time.perf_counter() - started
    finally:
        server.stop()
    lines = runs["encrypted"][0]
    print(f"{lines:,} lines, {len(plain) / 1e6:.1f} MB of JSON lines (export shape), 2 cores shared with the client")
    for name, (n, stored, seconds) in runs.items():
        print(f"archive run ({name:9}): {n / seconds:10,.0f} lines/s  {len(plain) / seconds / 1e6:6.1f} MB/s of JSON  "
              f"{seconds:6.2f} s  stored {stored / 1e6:.1f} MB")
    print(f"gzip -6 of the same lines: {lines / gzip_s:10,.0f} lines/s  {len(plain) / gzip_s / 1e6:6.1f} MB/s  {gzip_s:6.2f} s")
    ratio = gzip_s / runs["encrypted"][2]
    print(f"encrypted archive / gzip -6: {ratio:.2f}x (target >= {TARGET_RATIO}x) {'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    return 0


def _wait_stored(client: httpx.Client, count: int) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
        stored = pending = 0.0
        for line in text.splitlines():
            if line.startswith("timberyard_store_lines_total "):
                stored = float(line.split()[1])
            if line.startswith("timberyard_wal_pending_bytes "):
                pending = float(line.split()[1])
        if stored >= count and pending == 0:
            return
        time.sleep(0.2)
    raise RunFailed(f"the store did not reach {count} lines")


if __name__ == "__main__":
    sys.exit(main())
