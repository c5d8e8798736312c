"""Archive benchmark: a real `timberyard serve`, corpus lines ingested into two accounts (one
archiving encrypted, one plain, to local directories), one timed `POST /api/v1/archive/run`
each, and `gzip -6` of the very same JSON lines (the plain archive's content) in the same run.

    PYTHONPATH=src .venv/bin/python bench/archive.py                  # 200,000 lines
    PYTHONPATH=src .venv/bin/python bench/archive.py --lines 50000    # a quicker check
    PYTHONPATH=src .venv/bin/python bench/archive.py --format parquet # and a third account: Parquet, encrypted

The run's time is the whole job as the node does it: read the range from the store, shape each
line like /v1/export, gzip (level 6), seal (AES-256-GCM) and write with fsync, then the digest
and the database record. Target: the encrypted archive at >= 0.8x gzip -6's lines/s.

    PYTHONPATH=src .venv/bin/python bench/archive.py --search          # re-search 1,000,000 lines

Re-search: one day of corpus lines (1M by default) written as 24 hourly archive files in a
local directory, then the archive search (archive/search.py, in-process chDB as the node runs
it) for a needle (a UUID in one line) and for a term (a common word), each the best of 3, and
`zcat | grep -c` of the same files as the reference. Target: each search <= 2 s.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
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
SEARCH_TARGET_S = 2.0
NEEDLE = "5f0c1e7a-93b4-4d2e-a6c1-0b7d9e2f4a18"
TERM = "error"
SETTLE_S = 2
TOKEN = "bench-archive-metrics-token-0123456789"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--format", choices=("json", "parquet"), default="json",
                        help="parquet: also time a third account archiving encrypted Parquet files")
    parser.add_argument("--timberyard", help="the timberyard command [default: this Python's]")
    parser.add_argument("--search", action="store_true", help="measure re-search latency over one day of archive instead")
    parser.add_argument("--search-lines", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.search:
        return research(args.search_lines)
    cmd = [args.timberyard] if args.timberyard else [sys.executable, "-m", "timberyard"]  # this checkout, with PYTHONPATH=src
    work = Path(tempfile.mkdtemp(prefix="timberyard-bench-archive-"))
    data_dir, root = work / "node", work / "archives"
    creds = init_data_dir(cmd, data_dir)
    def account(name: str) -> dict[str, str]:
        return json.loads(subprocess.run([*cmd, "accounts", "create", name, "--data-dir", str(data_dir), "--json"],
                                         capture_output=True, text=True, check=True).stdout)  # type: ignore[no-any-return]
    env = {"TIMBERYARD_ARCHIVE_SETTLE_S": str(SETTLE_S), "TIMBERYARD_ARCHIVE_LOCAL_ROOT": str(root), "TIMBERYARD_METRICS_TOKEN": TOKEN}
    server = ServerProcess(cmd, data_dir, work / "server.log", env=env)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        accounts = {"encrypted": creds, "plain": account("plain")}
        settings = {"encrypted": {"encryption": True}, "plain": {"encryption": False}}
        if args.format == "parquet":
            accounts["parquet"], settings["parquet"] = account("parquet"), {"encryption": True, "format": "parquet"}
        items = list(corpus.generate(args.lines, 1, int(time.time() * 1000), 3_600_000))
        with httpx.Client(base_url=base, timeout=120) as client:
            for name, keys in accounts.items():
                put = client.put("/api/v1/archive", auth=(keys["service_key"], ""),
                                 json={**settings[name], "destination": {"type": "local", "path": name}})
                if put.status_code != 200:
                    raise RunFailed(f"configure {name}: {put.text}")
                for batch in corpus.per_host(items, 1000):
                    host, body = corpus.ingest_body(batch)
                    sent = client.post("/logs/ingest", params={"hostname": host}, content=body, auth=(keys["ingestion_key"], ""))
                    if sent.status_code != 200:
                        raise RunFailed(f"ingest: HTTP {sent.status_code} {sent.text[:200]}")
            _wait_stored(client, len(accounts) * args.lines)
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
        gzip_bytes = len(subprocess.run(["gzip", "-6", "-c", str(source)], stdout=subprocess.PIPE, check=True).stdout)
        gzip_s = time.perf_counter() - started
    finally:
        server.stop()
    lines = runs["encrypted"][0]
    print(f"{lines:,} lines, {len(plain) / 1e6:.1f} MB of JSON lines (export shape), 2 cores shared with the client")
    for name, (n, stored, seconds) in runs.items():
        print(f"archive run ({name:9}): {n / seconds:10,.0f} lines/s  {len(plain) / seconds / 1e6:6.1f} MB/s of JSON  "
              f"{seconds:6.2f} s  stored {stored / 1e6:.1f} MB")
    print(f"gzip -6 of the same lines: {lines / gzip_s:10,.0f} lines/s  {len(plain) / gzip_s / 1e6:6.1f} MB/s  {gzip_s:6.2f} s  output {gzip_bytes / 1e6:.1f} MB")
    ratio = gzip_s / runs["encrypted"][2]
    print(f"encrypted archive / gzip -6: {ratio:.2f}x (target >= {TARGET_RATIO}x) {'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    if "parquet" in runs:
        print(f"encrypted Parquet archive / gzip -6: {gzip_s / runs['parquet'][2]:.2f}x; "
              f"its files {runs['parquet'][1] / runs['encrypted'][1]:.2f}x the size of the encrypted JSON ones")
    return 0


def research(count: int) -> int:
    """Re-search latency over `count` archived lines of one day (see the module doc)."""
    import orjson

    from timberyard.archive import layout
    from timberyard.archive.search import search_archived
    from timberyard.search import compile_sql, parse
    from timberyard.store.chdb import ChdbStore

    work = Path(tempfile.mkdtemp(prefix="timberyard-bench-research-"))
    account, day_end = "bench", 1_764_892_800_000  # 2025-12-05 00:00 UTC
    files: dict[int, gzip.GzipFile] = {}
    raw = 0
    for index, item in enumerate(corpus.generate(count, 1, day_end, corpus.DAY_MS)):
        text = item["line"] if index != count // 2 else f"{item['line']} request {NEEDLE}"
        hour = layout.hour_of(item["timestamp"])
        if hour not in files:
            path = work / layout.data_key(account, hour, 0, False)
            path.parent.mkdir(parents=True, exist_ok=True)
            files[hour] = gzip.open(path, "wb", compresslevel=6)
        meta = item.get("meta") or {}
        line = {**meta, "_ts": item["timestamp"], "_host": item["hostname"], "_app": item["app"], "_line": text,
                "level": item.get("level", ""), "_file": "", "_tag": [], "_lid": str((item["timestamp"] << 20) + index),
                "_ip": "", "_mac": "", **({"_meta": meta} if meta else {})}
        encoded = orjson.dumps(line) + b"\n"
        raw += len(encoded)
        files[hour].write(encoded)
    for f in files.values():
        f.close()
    paths = sorted(str(p) for p in work.rglob("*.json.gz"))
    staged = work / "staged"
    staged.mkdir()
    for index, path in enumerate(paths):  # as archive/staging.py links a local directory's files
        (staged / f"{index:06d}.json.gz").symlink_to(path)
    store = ChdbStore(work / "chdb")
    print(f"{count:,} lines in {len(paths)} hourly files, {raw / 1e6:.0f} MB of JSON, "
          f"{sum(Path(p).stat().st_size for p in paths) / 1e6:.0f} MB gzipped; 2 cores, shared (contended)")
    try:
        for name, query in (("needle", NEEDLE), ("term", TERM)):
            compiled = compile_sql(parse(query))
            times, found = [], 0
            for _ in range(3):
                started = time.perf_counter()
                found = len(search_archived(store, account, {"json": str(staged / "*.json.gz")}, day_end - corpus.DAY_MS, day_end,
                                            compiled, 100))
                times.append(time.perf_counter() - started)
            started = time.perf_counter()
            grep = subprocess.run(f"zcat {' '.join(paths)} | grep -ci {query}", shell=True, capture_output=True, text=True)
            grep_s = time.perf_counter() - started
            best = min(times)
            print(f"re-search {name:6} {query!r}: {best:5.2f} s (best of 3; {found} lines shown, limit 100), "
                  f"zcat | grep -ci: {grep_s:5.2f} s ({grep.stdout.strip()} lines); "
                  f"target <= {SEARCH_TARGET_S} s {'met' if best <= SEARCH_TARGET_S else 'MISSED'}")
    finally:
        store.close()
        shutil.rmtree(work, ignore_errors=True)
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
