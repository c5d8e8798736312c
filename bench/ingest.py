"""End-to-end ingest benchmark: a real `timberyard serve` process fed over HTTP, with references.

    .venv/bin/python bench/ingest.py                      # 2M lines, 4 clients, 1000-line batches
    .venv/bin/python bench/ingest.py --lines 20000        # a quick check
    .venv/bin/python bench/ingest.py --server-only-smoke  # 20k lines, no reference phases
    .venv/bin/python bench/ingest.py --lines 200000 --skip-reference --templates  # mining on vs off

In one run, one phase after another (never two at once, the machine has two cores):
1. generate the corpus (bench/corpus.py) and serialise every request body before any timing;
2. `timberyard init` a fresh data directory;
3. references on the same lines: gzip -6 and zstd -3 of the raw text, and the raw chDB insert
   rate into a minimal table with a text index (bench/raw_insert.py, its own process and dir);
4. `timberyard serve`, push every body from --clients keep-alive connections, time the last
   acknowledgement (durable in the WAL) and the moment /metrics shows every line in the store;
5. stop the server, read its store's sizes before and after OPTIMIZE FINAL (bench/store_size.py);
6. with --templates: the same push into another fresh data directory with template mining and
   the anomaly detectors off (`insights_templates = false`, `insights_anomalies = false`), the
   reference for the cost of insights (on / off ≥ 0.8).
Prints a table with each target PASS/FAIL and writes the figures to bench/out/ingest-*.json.
Exit status: 0 when the run measured something (even with targets missed), 1 when it failed.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import itertools
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import corpus  # bench/ is this script's directory, hence on sys.path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
MIB = 1 << 20
TARGET_E2E_LINES_PER_S = 70_000
TARGET_E2E_OVER_RAW = 0.60
TARGET_PEAK_RSS = 900 * MIB  # issue 10: "bring the peak to ≤ 900 MiB without losing ingest throughput"
TARGET_STORE_OVER_GZIP = 1.5
TARGET_TEMPLATES_ON_OVER_OFF = 0.8  # issue 15: ingest with template mining at least 0.8x of without
MAX_FAILURES = 10  # stop pushing after this many failed requests: the run has failed anyway
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)


class RunFailed(Exception):
    """The run could not measure what it set out to (as opposed to a missed target)."""


# ---------------------------------------------------------------------------------------------
# Corpus and references
# ---------------------------------------------------------------------------------------------


@dataclass
class Workload:
    bodies: list[tuple[str, bytes]]  # (hostname, pre-serialised request body), in sending order
    counts: list[int]  # lines in each body
    lines: list[str]  # raw line text in time order (the corpus order, as `corpus.py --format raw`)
    timestamps: list[int]
    seconds: float

    @property
    def count(self) -> int:
        return sum(self.counts)


def build_workload(args) -> Workload:
    started = time.perf_counter()
    bodies: list[tuple[str, bytes]] = []
    counts: list[int] = []
    lines: list[str] = []
    stamps: list[int] = []
    with _progress() as progress:
        task = progress.add_task("generating and serialising the corpus", total=args.lines)
        def recorded(items):
            for item in items:
                lines.append(item["line"])
                stamps.append(item["timestamp"])
                yield item

        items = corpus.generate(args.lines, args.seed, args.end_ms, args.span_ms)
        for batch in corpus.per_host(recorded(items), args.batch):
            bodies.append(corpus.ingest_body(batch))
            counts.append(len(batch))
            progress.update(task, completed=len(lines))
    return Workload(bodies, counts, lines, stamps, time.perf_counter() - started)


def compression_reference(lines: list[str]) -> dict:
    """Sizes of the raw text (lines joined by newlines) and of its gzip -6 / zstd -3 forms."""
    result: dict = {"raw_bytes": 0}
    gz = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: the gzip format, as `gzip -6`
    gz_bytes = 0
    zstd = _zstd_sink()
    result["zstd_method"] = zstd["method"]
    started = time.perf_counter()
    for i in range(0, len(lines), 10_000):
        chunk = "\n".join(lines[i:i + 10_000]).encode()
        if i + 10_000 < len(lines):
            chunk += b"\n"
        result["raw_bytes"] += len(chunk)
        gz_bytes += len(gz.compress(chunk))
        if zstd["write"]:
            zstd["write"](chunk)
    gz_bytes += len(gz.flush())
    result["gzip_bytes"] = gz_bytes
    result["zstd_bytes"] = zstd["close"]() if zstd["close"] else None
    result["seconds"] = time.perf_counter() - started
    return result


def _zstd_sink() -> dict:
    """A writer that counts zstd -3 output bytes: the zstandard module, else the zstd binary."""
    try:
        import zstandard
    except ImportError:
        zstandard = None
    if zstandard is not None:
        counter = _ByteCounter()
        writer = zstandard.ZstdCompressor(level=3).stream_writer(counter, closefd=False)

        def close() -> int:
            writer.close()
            return counter.count

        return {"method": "zstandard module, level 3", "write": writer.write, "close": close}
    binary = shutil.which("zstd")
    if binary is None:
        return {"method": "skipped: neither the zstandard module nor a zstd binary is available",
                "write": None, "close": None}
    proc = subprocess.Popen([binary, "-3", "-q", "-c"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    size = {"n": 0}

    def drain() -> None:
        while chunk := proc.stdout.read(1 << 20):
            size["n"] += len(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()

    def close() -> int:
        proc.stdin.close()
        reader.join()
        proc.wait()
        return size["n"]

    return {"method": f"{binary} -3 (the zstandard module is not installed)", "write": proc.stdin.write,
            "close": close}


class _ByteCounter:
    def __init__(self) -> None:
        self.count = 0

    def write(self, data) -> int:
        self.count += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def chdb_reference(work: Workload, account: str, tmp: Path) -> dict:
    """The raw chDB insert rate of the same lines, in its own process (bench/raw_insert.py)."""
    import pyarrow as pa

    table = pa.table({
        "account": pa.array([account] * work.count, pa.string()),
        "ts": pa.array(work.timestamps, pa.timestamp("ms", tz="UTC")),
        "line": pa.array(work.lines, pa.string()),
    })
    arrow_path = tmp / "lines.arrow"
    with pa.OSFile(str(arrow_path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    del table
    try:
        out = _run_json([sys.executable, str(BENCH / "raw_insert.py"), "--arrow", str(arrow_path),
                         "--dir", str(tmp / "raw-chdb"), "--batch", "100000"], "raw chDB reference")
    finally:
        arrow_path.unlink(missing_ok=True)
        shutil.rmtree(tmp / "raw-chdb", ignore_errors=True)
    return out


def _run_json(cmd: list[str], what: str, timeout: float = 3600) -> dict:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=BENCH)
    if proc.returncode != 0:
        raise RunFailed(f"{what} failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise RunFailed(f"{what} printed no JSON: {proc.stdout[-500:]!r} {proc.stderr[-500:]!r}") from exc


# ---------------------------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------------------------


def timberyard_command(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    script = Path(sys.executable).parent / "timberyard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "timberyard"]


def init_data_dir(cmd: list[str], data_dir: Path) -> dict:
    proc = subprocess.run([*cmd, "init", "--data-dir", str(data_dir), "--json"], capture_output=True,
                          text=True, timeout=300)
    if proc.returncode != 0:
        raise RunFailed(f"timberyard init failed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
    for candidate in (proc.stdout, *reversed(proc.stdout.splitlines())):
        try:
            creds = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(creds, dict) and "ingestion_key" in creds:
            return creds
    raise RunFailed(f"timberyard init --json printed no credentials: {proc.stdout[-1000:]!r}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Node-wide /metrics are the operator's (`metrics_token`), not any account's: every run sets one.
METRICS_TOKEN = secrets.token_hex(24)
OPERATOR = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def basic_auth(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class ServerProcess:
    """`timberyard serve` on a loopback port, its log in a file, RSS sampled while it runs."""

    def __init__(self, cmd: list[str], data_dir: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.cmd, self.data_dir, self.log_path, self.env = cmd, data_dir, log_path, env or {}
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.rss_max = 0
        self.vm_hwm: int | None = None
        self.exit_code: int | None = None
        self.stop_seconds: float | None = None
        self._stop_sampling = threading.Event()

    def start(self, timeout: float = 180) -> None:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [*self.cmd, "serve", "--data-dir", str(self.data_dir), "--http", f"127.0.0.1:{self.port}"],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "TIMBERYARD_METRICS_TOKEN": METRICS_TOKEN, **self.env})
        threading.Thread(target=self._sample_rss, daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RunFailed(f"the server exited with {self.proc.returncode} before it was ready:\n"
                                f"{self.log_tail()}")
            try:
                status, _, _ = self.request("GET", "/readyz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RunFailed(f"the server was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def request(self, method: str, path: str, headers: dict | None = None, timeout: float = 10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def cpu_seconds(self) -> float | None:
        try:
            import psutil

            t = psutil.Process(self.proc.pid).cpu_times()
            return t.user + t.system
        except Exception:  # noqa: BLE001 - psutil missing or the process is gone
            return None

    def _sample_rss(self) -> None:
        try:
            import psutil
        except ImportError:
            psutil = None
        while not self._stop_sampling.wait(0.2):
            try:
                if psutil is not None:
                    p = psutil.Process(self.proc.pid)
                    rss = p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
                else:
                    rss = _proc_status_kib(self.proc.pid, "VmRSS") * 1024
            except Exception:  # noqa: BLE001 - the process may be exiting
                continue
            self.rss_max = max(self.rss_max, rss)

    def stop(self, timeout: float = 180) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self._finish()
            return
        try:
            self.vm_hwm = _proc_status_kib(self.proc.pid, "VmHWM") * 1024
        except (OSError, ValueError):
            self.vm_hwm = None
        started = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            console.print(f"[red]the server did not stop within {timeout:.0f} s of SIGTERM; killing it[/red]")
            self.proc.kill()
            self.proc.wait()
        self.stop_seconds = time.perf_counter() - started
        self._finish()

    def _finish(self) -> None:
        self._stop_sampling.set()
        if self.proc is not None:
            self.exit_code = self.proc.returncode
        if getattr(self, "_log", None):
            self._log.close()

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no server log)"


def _proc_status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise ValueError(f"{key} not in /proc/{pid}/status")


# ---------------------------------------------------------------------------------------------
# Pushing and watching
# ---------------------------------------------------------------------------------------------


@dataclass
class PushResult:
    acked_lines: int = 0
    acked_requests: int = 0
    retries: int = 0
    reconnects: int = 0
    failures: list[str] = field(default_factory=list)
    last_ack: float = 0.0  # perf_counter of the last acknowledgement


class Pusher:
    """Sends every body from `clients` threads, one keep-alive connection each."""

    def __init__(self, port: int, ingestion_key: str, bodies: list[tuple[str, bytes]], counts: list[int],
                 clients: int, deadline: float) -> None:
        self.port, self.bodies, self.counts, self.clients = port, bodies, counts, clients
        self.deadline = deadline  # perf_counter after which retries give up
        self.headers = {"Authorization": basic_auth(ingestion_key), "Content-Type": "application/json; charset=UTF-8"}
        self.result = PushResult()
        self._next = itertools.count()
        self._lock = threading.Lock()
        self._abort = threading.Event()

    def run(self) -> PushResult:
        threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(self.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return self.result

    def _worker(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        try:
            while not self._abort.is_set():
                i = next(self._next)
                if i >= len(self.bodies):
                    return
                error = self._send(conn, i)
                with self._lock:
                    if error is None:
                        self.result.acked_requests += 1
                        self.result.acked_lines += self.counts[i]
                        self.result.last_ack = max(self.result.last_ack, time.perf_counter())
                    else:
                        self.result.failures.append(error)
                        if len(self.result.failures) >= MAX_FAILURES:
                            self._abort.set()
        finally:
            conn.close()

    def _send(self, conn: http.client.HTTPConnection, i: int) -> str | None:
        host, body = self.bodies[i]
        path = f"/logs/ingest?hostname={host}"
        reconnects = 0
        while True:
            try:
                conn.request("POST", path, body, self.headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError) as exc:
                conn.close()  # the next request reconnects
                if reconnects >= 3:
                    return f"request {i}: {type(exc).__name__}: {exc}"
                reconnects += 1
                with self._lock:
                    self.result.reconnects += 1
                continue
            if resp.status in (429, 503):
                if time.perf_counter() > self.deadline or self._abort.is_set():
                    return f"request {i}: still HTTP {resp.status} at the deadline"
                with self._lock:
                    self.result.retries += 1
                time.sleep(_retry_after(resp.getheader("Retry-After")))
                continue
            if resp.status != 200:
                return f"request {i}: HTTP {resp.status}: {data[:300]!r}"
            try:
                doc = orjson.loads(data)
            except orjson.JSONDecodeError:
                return f"request {i}: HTTP 200 with a body that is not JSON: {data[:300]!r}"
            if not isinstance(doc, dict) or doc.get("status") != "ok" or "batchID" not in doc:
                return f"request {i}: unexpected acknowledgement {data[:300]!r}"
            return None


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value), 0.05), 30.0)
    except (TypeError, ValueError):
        return 1.0


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format → metric name → value, summed over label sets."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, rest = line[:line.index("{")], line[line.rindex("}") + 1:]
        else:
            name, _, rest = line.partition(" ")
        try:
            values[name] = values.get(name, 0.0) + float(rest.split()[0])
        except (IndexError, ValueError):
            continue
    return values


class MetricsWatcher:
    """Polls /metrics (the operator's token) and records when the store first holds `target` lines."""

    def __init__(self, server: ServerProcess, target: int) -> None:
        self.server, self.target = server, target
        self.headers = OPERATOR
        self.samples: list[dict] = []
        self.reached_at: float | None = None
        self.last: dict[str, float] = {}

    def poll(self) -> dict[str, float]:
        status, _, body = self.server.request("GET", "/metrics", self.headers)
        if status != 200:
            raise RunFailed(f"GET /metrics answered HTTP {status}: {body[:200]!r}")
        now = time.perf_counter()
        self.last = parse_metrics(body.decode("utf-8", "replace"))
        self.samples.append({"t": now, **{k: v for k, v in self.last.items() if k.startswith("timberyard_")}})
        # A counter may appear only once it is first incremented: absent counts as zero.
        if self.reached_at is None and self.store_lines() >= self.target:
            self.reached_at = now
        return self.last

    def store_lines(self) -> int:
        return int(self.last.get("timberyard_store_lines_total", 0))


def push_and_watch(server: ServerProcess, creds: dict, work: Workload, args) -> dict:
    watcher = MetricsWatcher(server, work.count)
    watcher.poll()  # fails early when /metrics is not reachable with the operator's token
    baseline = watcher.store_lines()
    if baseline:
        raise RunFailed(f"the fresh store already reports {baseline} lines")

    server_cpu0, client_cpu0 = server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    deadline = started + args.timeout
    pusher = Pusher(server.port, creds["ingestion_key"], work.bodies, work.counts, args.clients, deadline)
    sender = threading.Thread(target=pusher.run, daemon=True)
    sender.start()
    with _progress() as progress:
        acked = progress.add_task("acknowledged (durable in the WAL)", total=work.count)
        stored = progress.add_task("in the store", total=work.count)
        while True:
            sending = sender.is_alive()
            try:
                watcher.poll()
            except OSError as exc:
                if server.proc.poll() is not None:
                    raise RunFailed(f"the server exited with {server.proc.returncode}:\n{server.log_tail()}") from exc
            progress.update(acked, completed=pusher.result.acked_lines)
            progress.update(stored, completed=min(watcher.store_lines(), work.count))
            if not sending and (watcher.reached_at is not None or pusher.result.failures):
                break
            if time.perf_counter() > deadline:
                break
            time.sleep(0.5 if sending else 0.05)
    sender.join(timeout=1)
    server_cpu1, client_cpu1 = server.cpu_seconds(), time.process_time()
    result = pusher.result
    acked_s = result.last_ack - started if result.acked_requests else None
    e2e_s = watcher.reached_at - started if watcher.reached_at else None
    if watcher.reached_at is None and not result.failures:
        if any("timberyard_store_lines_total" in s for s in watcher.samples):
            detail = f"the store holds {watcher.store_lines():,} of {work.count:,} lines"
        else:
            detail = "/metrics never showed timberyard_store_lines_total"
        result.failures.append(f"not every line reached the store within {args.timeout:.0f} s: {detail}")
    final = watcher.last
    return {
        "acked_lines": result.acked_lines,
        "acked_requests": result.acked_requests,
        "requests": len(work.bodies),
        "retries": result.retries,
        "reconnects": result.reconnects,
        "failures": result.failures,
        "acked_seconds": acked_s,
        "acked_lines_per_s": work.count / acked_s if acked_s and result.acked_lines == work.count else None,
        "e2e_seconds": e2e_s,
        "e2e_lines_per_s": work.count / e2e_s if e2e_s else None,
        "server_cpu_seconds": (server_cpu1 - server_cpu0) if None not in (server_cpu0, server_cpu1) else None,
        "client_cpu_seconds": client_cpu1 - client_cpu0,
        "metrics": {k: v for k, v in final.items() if k.startswith("timberyard_")},
        "metric_samples": [{**s, "t": round(s["t"] - started, 3)} for s in watcher.samples],
    }


# ---------------------------------------------------------------------------------------------
# Store sizes and the report
# ---------------------------------------------------------------------------------------------


def logs_table(tables: list[dict]) -> dict | None:
    """The log lines' table: timberyard.logs, else the table with the most rows."""
    for t in tables:
        if (t["database"], t["table"]) == ("timberyard", "logs"):
            return t
    return max(tables, key=lambda t: t["rows"], default=None)


def evaluate(report: dict) -> list[tuple[str, str, str, str]]:
    """(figure, value, target, PASS/FAIL/n/a) rows for the table.

    Also records in `report` the ratios and, per target, {"value", "verdict"}."""
    server, ref, comp = report.get("server", {}), report.get("raw_chdb", {}), report.get("compression", {})
    store, cfg = report.get("store", {}), report["config"]
    ratios = report.setdefault("ratios", {})
    verdicts = report["verdicts"] = {}

    def verdict(key: str, value, ok) -> str:
        result = "n/a" if value is None else ("PASS" if ok(value) else "FAIL")
        verdicts[key] = {"value": value, "verdict": result}
        return result

    rows = [("lines / clients / batch", f"{cfg['lines']:,} / {cfg['clients']} / {cfg['batch']}", "", ""),
            ("acked lines/s (durable in WAL)", _num(server.get("acked_lines_per_s")), "", "")]
    e2e, raw = server.get("e2e_lines_per_s"), ref.get("lines_per_s")
    rows.append(("end-to-end lines/s (in store)", _num(e2e), f"≥ {TARGET_E2E_LINES_PER_S:,}",
                 verdict("e2e_lines_per_s", e2e, lambda v: v >= TARGET_E2E_LINES_PER_S)))
    rows.append(("raw chDB insert lines/s (reference)", _num(raw), "", ""))
    ratios["e2e_over_raw_chdb"] = ratio = e2e / raw if e2e and raw else None
    rows.append(("end-to-end / raw chDB", _ratio(ratio), f"≥ {TARGET_E2E_OVER_RAW:.2f}",
                 verdict("e2e_over_raw_chdb", ratio, lambda v: v >= TARGET_E2E_OVER_RAW)))

    hwm, sampled = server.get("vm_hwm_bytes"), server.get("rss_max_sampled_bytes")
    peak = max([v for v in (hwm, sampled) if v], default=None)
    rows.append(("peak server RSS (VmHWM / sampled)", f"{_mib(hwm)} / {_mib(sampled)}", "≤ 900 MiB",
                 verdict("peak_rss_bytes", peak, lambda v: v <= TARGET_PEAK_RSS)))

    table = logs_table(store.get("after_optimize") or store.get("before_optimize") or [])
    gzip_bytes = comp.get("gzip_bytes")
    data = index = total_ratio = None
    if table:
        data, index = table["data_compressed_bytes"], table["index_compressed_bytes"]
        rows.append(("store data bytes (after OPTIMIZE)", _bytes(data), "", ""))
        rows.append(("store index bytes (after OPTIMIZE)", _bytes(index), "", ""))
    if table and gzip_bytes:
        total_ratio = (data + index) / gzip_bytes
        ratios.update({"store_total_over_gzip": total_ratio, "store_data_over_gzip": data / gzip_bytes,
                       "store_index_over_gzip": index / gzip_bytes})
    rows.append(("store data+index / gzip -6", _ratio(total_ratio), f"≤ {TARGET_STORE_OVER_GZIP}",
                 verdict("store_total_over_gzip", total_ratio, lambda v: v <= TARGET_STORE_OVER_GZIP)))
    if total_ratio is not None:
        rows.append(("  data / gzip, index / gzip", f"{data / gzip_bytes:.2f}, {index / gzip_bytes:.2f}", "", ""))
    ref_table = logs_table(ref.get("after_optimize") or [])
    if ref_table and gzip_bytes:
        ref_total = ref_table["data_compressed_bytes"] + ref_table["index_compressed_bytes"]
        ratios["raw_chdb_total_over_gzip"] = ref_total / gzip_bytes
        rows.append(("  reference table data+index / gzip", _ratio(ref_total / gzip_bytes), "", ""))
    if table:
        du_after = (store.get("du_after") or store.get("du_before") or {}).get("allocated_bytes")
        rows.append(("store parts on disk / store dir (du)",
                     f"{_bytes(table['bytes_on_disk'])} / {_bytes(du_after)}", "", ""))
    if comp:
        zstd = comp.get("zstd_bytes")
        rows.append(("raw / gzip -6 / zstd -3 bytes", f"{_bytes(comp['raw_bytes'])} / {_bytes(gzip_bytes)} / "
                     f"{_bytes(zstd) if zstd else 'skipped'}", "", ""))

    off = report.get("server_templates_off")
    if off:
        on_e2e, off_e2e = server.get("e2e_lines_per_s"), off.get("e2e_lines_per_s")
        rows.append(("end-to-end lines/s, insights off (templates, anomalies)", _num(off_e2e), "", ""))
        ratios["templates_on_over_off"] = mining = on_e2e / off_e2e if on_e2e and off_e2e else None
        rows.append(("end-to-end, insights on / off", _ratio(mining), f"≥ {TARGET_TEMPLATES_ON_OVER_OFF}",
                     verdict("templates_on_over_off", mining, lambda v: v >= TARGET_TEMPLATES_ON_OVER_OFF)))
        on_acked, off_acked = server.get("acked_lines_per_s"), off.get("acked_lines_per_s")
        rows.append(("acked lines/s, insights on / off", _ratio(on_acked / off_acked if on_acked and off_acked else None), "", ""))
        on_cpu, off_cpu = server.get("server_cpu_seconds"), off.get("server_cpu_seconds")
        if on_cpu and off_cpu:
            rows.append(("server CPU s, insights on / off", f"{on_cpu:.1f} / {off_cpu:.1f}", "", ""))

    failures = server.get("failures", [])
    rows.append(("retries (429/503) / reconnects / failures",
                 f"{server.get('retries', 0)} / {server.get('reconnects', 0)} / {len(failures)}", "0 failures",
                 verdict("failures", len(failures) if "failures" in server else None, lambda v: v == 0)))
    return rows


def _num(v) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def _ratio(v) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def _mib(v) -> str:
    return "n/a" if not v else f"{v / (1 << 20):,.0f} MiB"


def _bytes(v) -> str:
    if v is None:
        return "n/a"
    return f"{v / 1e6:,.1f} MB" if v >= 1e6 else f"{v:,} B"


def print_report(report: dict, rows: list[tuple[str, str, str, str]]) -> None:
    table = Table(title=f"timberyard ingest benchmark — {report['started']}")
    for col, justify in (("figure", "left"), ("value", "right"), ("target", "right"), ("", "center")):
        table.add_column(col, justify=justify)
    colours = {"PASS": "[green]PASS[/green]", "FAIL": "[red]FAIL[/red]"}
    for figure, value, target, result in rows:
        table.add_row(figure, value, target, colours.get(result, result))
    console.print(table)
    server = report.get("server", {})
    if server.get("server_cpu_seconds") is not None:
        console.print(f"CPU during the measured window: server {server['server_cpu_seconds']:.1f} s, "
                      f"benchmark client {server['client_cpu_seconds']:.1f} s, "
                      f"on {os.cpu_count()} cores shared by both.")
    if server.get("exit_code") not in (0, None):
        console.print(f"[yellow]note:[/yellow] the server's exit status after SIGTERM was {server['exit_code']} "
                      "(negative: ended by that signal rather than a clean shutdown)")
    for failure in server.get("failures", [])[:10]:
        console.print(f"[red]failure:[/red] {failure}")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, refresh_per_second=2)


def _git() -> dict:
    def run(*a: str) -> str | None:
        try:
            p = subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return p.stdout.strip() if p.returncode == 0 else None

    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in ("timberyard", "chdb", "pyarrow", "orjson"):
        try:
            versions[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - report what can be found
            versions[name] = None
    return versions


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="End-to-end ingest benchmark of timberyard (see bench/README.md).")
    p.add_argument("--lines", type=int, default=2_000_000, help="lines to send (default 2000000)")
    p.add_argument("--clients", type=int, default=4, help="concurrent keep-alive connections (default 4)")
    p.add_argument("--batch", type=int, default=1000, help="lines per request (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="use DIR as the server's data dir and keep it")
    p.add_argument("--server-only-smoke", action="store_true",
                   help="quick check: 20000 lines (unless --lines is given), no reference phases")
    p.add_argument("--skip-reference", action="store_true", help="skip the gzip/zstd and raw chDB references")
    p.add_argument("--end-ms", type=int, default=None,
                   help="end of the corpus time window, epoch ms (default: now, so every line is inside the "
                        "server's accepted timestamp skew and retention)")
    p.add_argument("--span-hours", type=float, default=23.0,
                   help="length of the corpus time window (default 23: inside the default 24 h skew limit)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed for push and drain (default 1800)")
    p.add_argument("--templates", action="store_true",
                   help="also push the same bodies with template mining and anomaly detection off, and compare (see step 6)")
    p.add_argument("--timberyard", help="the timberyard executable (default: the one next to this Python)")
    p.add_argument("--out", type=Path, default=BENCH / "out", help="where the JSON report goes (default bench/out)")
    args = p.parse_args(argv)
    if args.server_only_smoke:
        args.skip_reference = True
        if "--lines" not in (argv if argv is not None else sys.argv[1:]):
            args.lines = 20_000
    if args.lines <= 0 or args.clients <= 0 or args.batch <= 0:
        p.error("--lines, --clients and --batch must be positive")
    args.span_ms = int(args.span_hours * 3_600_000)
    args.end_ms = args.end_ms if args.end_ms is not None else int(time.time() * 1000)
    return args


def run(args: argparse.Namespace, report: dict) -> None:
    cmd = timberyard_command(args.timberyard)
    console.print(f"[bold]timberyard ingest benchmark[/bold]: {args.lines:,} lines, {args.clients} clients, "
                  f"{args.batch} lines per request, seed {args.seed}")
    console.print(f"note: client and server share this {os.cpu_count()}-core machine. Request bodies are "
                  "serialised before the clock starts, so during the measurement the client only writes "
                  "sockets; its CPU time is reported below.")

    work = build_workload(args)
    raw_len = sum(map(len, work.lines))
    report["corpus"] = {"lines": work.count, "requests": len(work.bodies), "seconds": work.seconds,
                        "mean_line_bytes": raw_len / max(work.count, 1),
                        "body_bytes": sum(len(b) for _, b in work.bodies),
                        "end_ms": args.end_ms, "span_ms": args.span_ms}
    console.print(f"corpus: {work.count:,} lines in {len(work.bodies):,} requests "
                  f"({report['corpus']['body_bytes'] / 1e6:,.0f} MB of JSON) built in {work.seconds:.1f} s")

    keep = args.keep is not None
    data_dir = args.keep.resolve() if keep else Path(tempfile.mkdtemp(prefix="timberyard-bench-"))
    tmp = Path(tempfile.mkdtemp(prefix="timberyard-bench-ref-"))
    report["data_dir"] = str(data_dir)
    try:
        if keep and data_dir.exists() and any(data_dir.iterdir()):
            raise RunFailed(f"--keep {data_dir}: the directory is not empty")
        creds = init_data_dir(cmd, data_dir)
        report["account"] = creds.get("account")

        if not args.skip_reference:
            console.print("reference: gzip -6 and zstd -3 of the raw lines …")
            report["compression"] = comp = compression_reference(work.lines)
            console.print(f"  raw {_bytes(comp['raw_bytes'])}, gzip {_bytes(comp['gzip_bytes'])}, "
                          f"zstd {_bytes(comp['zstd_bytes']) if comp['zstd_bytes'] else comp['zstd_method']}")
            console.print("reference: raw chDB insert of the same lines (separate process) …")
            report["raw_chdb"] = ref = chdb_reference(work, str(creds.get("account") or "bench"), tmp)
            console.print(f"  {ref['lines_per_s']:,.0f} lines/s ({ref['seconds']:.1f} s)")
        del work.lines[:], work.timestamps[:]  # the server phase needs only the bodies

        log_path = args.out / f"ingest-{report['stamp']}-server.log"
        server = ServerProcess(cmd, data_dir, log_path)
        report["server_log"] = str(log_path)
        console.print(f"server: starting on 127.0.0.1:{server.port} (log: {log_path}) …")
        try:
            server.start()
            report["server"] = push_and_watch(server, creds, work, args)
        finally:
            server.stop()
            srv = report.setdefault("server", {})
            srv.update({"vm_hwm_bytes": server.vm_hwm, "rss_max_sampled_bytes": server.rss_max or None,
                        "exit_code": server.exit_code, "stop_seconds": server.stop_seconds})
        if report["server"]["failures"]:
            raise RunFailed(f"{len(report['server']['failures'])} request(s) or checks failed")

        console.print("store: measuring sizes, then OPTIMIZE FINAL and again (separate process) …")
        report["store"] = _run_json([sys.executable, str(BENCH / "store_size.py"), "--store", str(data_dir / "store")],
                                    "store size measurement")
        if args.templates:
            report["server_templates_off"] = _templates_off(cmd, work, args, report["stamp"], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)


def _templates_off(cmd: list[str], work: Workload, args: argparse.Namespace, stamp: str, tmp: Path) -> dict:
    """The server phase again, same bodies, a fresh data directory, template mining and the
    anomaly detectors off (the detectors have nothing to learn from without templates)."""
    data_dir = tmp / "templates-off"
    creds = init_data_dir(cmd, data_dir)
    log_path = args.out / f"ingest-{stamp}-server-templates-off.log"
    server = ServerProcess(cmd, data_dir, log_path, env={"TIMBERYARD_INSIGHTS_TEMPLATES": "false",
                                                            "TIMBERYARD_INSIGHTS_ANOMALIES": "false"})
    console.print(f"server, insights off: starting on 127.0.0.1:{server.port} (log: {log_path}) …")
    try:
        server.start()
        result = push_and_watch(server, creds, work, args)
    finally:
        server.stop()
    if result["failures"]:
        raise RunFailed(f"insights off: {len(result['failures'])} request(s) or checks failed")
    return {key: result[key] for key in ("acked_lines_per_s", "e2e_lines_per_s", "server_cpu_seconds")}


def new_report(args: argparse.Namespace, started: time.struct_time, targets: dict) -> dict:
    """The head every benchmark report starts with: when, how it was run, on what, the targets."""
    return {
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", started),
        "stamp": time.strftime("%Y%m%dT%H%M%SZ", started),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), **_versions()},
        "git": _git(),
        "targets": targets,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.gmtime()
    report = new_report(args, started, {
        "e2e_lines_per_s": TARGET_E2E_LINES_PER_S, "e2e_over_raw_chdb": TARGET_E2E_OVER_RAW,
        "peak_rss_bytes": TARGET_PEAK_RSS, "store_total_over_gzip": TARGET_STORE_OVER_GZIP,
    })
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        run(args, report)
    except RunFailed as exc:
        report["error"] = str(exc)
        console.print(f"[red bold]run failed:[/red bold] {exc}")
        status = 1
    except KeyboardInterrupt:
        report["error"] = "interrupted"
        status = 130
    rows = evaluate(report)  # also adds the ratios to the report
    print_report(report, rows)
    out_path = args.out / f"ingest-{report['stamp']}.json"
    out_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    console.print(f"figures written to {out_path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
