"""Alert benchmark: a real `timberyard serve`, a webhook channel pointing at a local receiver,
and the time from a line's ingest 200 to its notification's arrival.

    .venv/bin/python bench/alerts.py                       # the issue's figures (about 6 minutes)
    .venv/bin/python bench/alerts.py --probes 10 --cost-lines 100000   # a quicker check
    .venv/bin/python bench/alerts.py --only cost                        # phase 4 alone

One phase after another (the machine has two cores):
1. idle: --probes immediate presence alerts (threshold 1, each on its own word), one probe line
   per alert, a second apart; latency = webhook arrival - the probe's ingest 200;
2. under load: the same with corpus lines pushed at --load-rate lines/s in the background (the
   rate reached is reported: on two cores shared with the client it can fall short);
3. end of interval: --eoi-probes 30 s alerts timed at the end of their interval; latency =
   arrival - the end of the window the probe fell in;
4. cost: --cost-lines corpus lines pushed as fast as the node takes them into a fresh node, then
   into another fresh node holding 1,000 alerts of the kinds people write (terms, apps, levels,
   fields); the ratio of the two end-to-end rates.
Prints the figures and the targets and writes them to bench/out/alerts-*.json. Exit status 0
when the run measured (even with targets missed), 1 when it failed.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import httpx  # noqa: E402
import orjson  # noqa: E402
from rich.table import Table  # noqa: E402

import corpus  # noqa: E402
from ingest import (  # noqa: E402
    RunFailed,
    ServerProcess,
    basic_auth,
    console,
    init_data_dir,
    new_report,
    push_and_watch,
    timberyard_command,
)

TARGETS = {"idle_p99_s": 2.0, "loaded_p99_s": 5.0, "end_of_interval_max_s": 5.0, "thousand_alerts_ratio": 0.8}
ENV = {"TIMBERYARD_ALERTS_OUTBOUND_ALLOW": "127.0.0.1"}
WINDOW_S = 30
ARRIVAL_TIMEOUT_S = 60
# What 1,000 alerts of one account look like: words, apps, levels, fields and their mixes.
COST_QUERIES = (
    "error", "timeout", "refused", "exception", "denied", "failed", "OutOfMemory", "disk", "restart",
    "app:nginx", "app:sshd", "level:error", "level:warn", "status:>=500", "status:==404",
    "app:nginx status:>=500", "level:error -app:sshd", '"connection refused"', "user.id:u_1", "region:==eu-west-1",
)


class Receiver:
    """A webhook receiver on loopback: notes each notification's arrival by alert name."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.count = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.perf_counter()
                try:
                    name = orjson.loads(body)["alert"]
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    name = None
                receiver.count += 1
                if name is not None:
                    receiver.arrivals.setdefault(name, arrived)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, names: list[str], timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and not all(n in self.arrivals for n in names):
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Node:
    """A fresh node, its API client and its ingestion key."""

    def __init__(self, cmd: list[str], out: Path, label: str) -> None:
        self.data_dir = Path(tempfile.mkdtemp(prefix="timberyard-bench-alerts-"))
        self.creds = init_data_dir(cmd, self.data_dir)
        self.server = ServerProcess(cmd, self.data_dir, out / f"alerts-{label}-server.log", env=ENV)
        self.server.start()
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{self.server.port}",
                                auth=(self.creds["service_key"], ""), timeout=60)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        resp = self.api.request(method, path, json=body)
        if resp.status_code >= 300:
            raise RunFailed(f"{method} {path}: HTTP {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    def webhook(self, receiver: Receiver) -> int:
        return self.call("POST", "/api/v1/channels", {
            "name": "bench receiver", "kind": "webhook",
            "config": {"url": receiver.url, "body": '{"alert": "{{ name }}", "matches": "{{ matches }}"}'},
        })["id"]

    def alert(self, name: str, query: str, channel: int, timing: str, interval: str = "30s") -> None:
        self.call("POST", "/api/v1/alerts", {
            "name": name, "kind": "presence", "query": query, "threshold": 1, "interval": interval,
            "timing": [timing], "channel_ids": [channel], "cooldown_s": 0,
        })

    def ingest_line(self, line: str) -> float:
        """Send one line; the perf_counter when its 200 arrived."""
        body = {"lines": [{"line": line, "app": "probe", "timestamp": int(time.time() * 1000)}]}
        resp = httpx.post(f"http://127.0.0.1:{self.server.port}/logs/ingest?hostname=bench-probe", json=body,
                          headers={"Authorization": basic_auth(self.creds["ingestion_key"])}, timeout=60)
        acked = time.perf_counter()
        if resp.status_code != 200:
            raise RunFailed(f"probe ingest: HTTP {resp.status_code}: {resp.text[:300]}")
        return acked

    def close(self) -> None:
        self.api.close()
        self.server.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def latencies(node: Node, receiver: Receiver, channel: int, label: str, probes: int) -> dict:
    """Immediate presence alerts, one probe line each, a second apart."""
    names = [f"{label}-{i}" for i in range(probes)]
    for i, name in enumerate(names):
        node.alert(name, f"alertprobe{label}x{i}", channel, "immediate")
    time.sleep(2)  # the engine reloads its alerts on change; give it a moment before the first probe
    acked = {}
    for i, name in enumerate(names):
        acked[name] = node.ingest_line(f"bench probe alertprobe{label}x{i} sent")
        time.sleep(1)
    receiver.wait(names, ARRIVAL_TIMEOUT_S)
    seconds = sorted(receiver.arrivals[n] - acked[n] for n in names if n in receiver.arrivals)
    missing = [n for n in names if n not in receiver.arrivals]
    return {"probes": probes, "arrived": len(seconds), "missing": missing, **_percentiles(seconds)}


def _percentiles(seconds: list[float]) -> dict:
    if not seconds:
        return {"p50_s": None, "p99_s": None, "max_s": None}
    p99 = seconds[min(len(seconds) - 1, round(0.99 * (len(seconds) - 1)))]
    return {"p50_s": statistics.median(seconds), "p99_s": p99, "max_s": seconds[-1]}


def under_load(node: Node, receiver: Receiver, channel: int, args) -> dict:
    """The probes while a paced pusher sends corpus lines at --load-rate."""
    bodies, counts = _bodies(200_000, args.seed)  # sent over and over until the probes are done
    stop = threading.Event()
    sent = {"lines": 0, "seconds": 0.0}
    lock = threading.Lock()

    def paced(share: int, senders: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", node.server.port, timeout=120)
        headers = {"Authorization": basic_auth(node.creds["ingestion_key"]), "Content-Type": "application/json"}
        started = time.perf_counter()
        mine = 0
        for (host, body), count in itertools.cycle(list(zip(bodies, counts))[share::senders]):
            if stop.is_set():
                break
            if (wait := started + mine / (args.load_rate / senders) - time.perf_counter()) > 0:
                time.sleep(wait)
            conn.request("POST", f"/logs/ingest?hostname={host}", body, headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                mine += count
            elif resp.status in (429, 503):
                time.sleep(0.1)  # the node pushes back; that is part of the load it can take
        with lock:
            sent["lines"] += mine
            sent["seconds"] = max(sent["seconds"], time.perf_counter() - started)
        conn.close()

    senders = 4
    background = [threading.Thread(target=paced, args=(i, senders), daemon=True) for i in range(senders)]
    for thread in background:
        thread.start()
    time.sleep(5)  # let the load settle before the first probe
    result = latencies(node, receiver, channel, "load", args.probes)
    stop.set()
    for thread in background:
        thread.join()
    result["background_lines_per_s"] = sent["lines"] / sent["seconds"] if sent["seconds"] else None
    result["background_target_lines_per_s"] = args.load_rate
    return result


def _bodies(lines: int, seed: int) -> tuple[list[tuple[str, bytes]], list[int]]:
    items = corpus.generate(lines, seed, int(time.time() * 1000), 3_600_000)
    bodies, counts = [], []
    for batch in corpus.per_host(items, 1000):
        bodies.append(corpus.ingest_body(batch))
        counts.append(len(batch))
    return bodies, counts


def end_of_interval(node: Node, receiver: Receiver, channel: int, probes: int) -> dict:
    """30 s alerts timed at the end of the interval; latency from the window's end."""
    names = [f"eoi-{i}" for i in range(probes)]
    for i, name in enumerate(names):
        node.alert(name, f"eoiprobe{i}", channel, "end_of_interval")
    time.sleep(2)
    window_end = {}
    for i, name in enumerate(names):
        node.ingest_line(f"bench probe eoiprobe{i} sent")
        now = time.time()
        end_wall = (now // WINDOW_S + 1) * WINDOW_S
        window_end[name] = time.perf_counter() + (end_wall - now)
        time.sleep(WINDOW_S / max(probes, 1) + 1)
    receiver.wait(names, WINDOW_S + ARRIVAL_TIMEOUT_S)
    seconds = sorted(receiver.arrivals[n] - window_end[n] for n in names if n in receiver.arrivals)
    return {"probes": probes, "arrived": len(seconds), "missing": [n for n in names if n not in receiver.arrivals],
            **_percentiles(seconds)}


def cost(cmd: list[str], args, receiver: Receiver) -> dict:
    """End-to-end ingest rate of a fresh node without and with 1,000 alerts."""
    from ingest import Workload

    bodies, counts = _bodies(args.cost_lines, args.seed + 1)
    work = Workload(bodies, counts, [], [], 0.0)
    push_args = argparse.Namespace(clients=4, timeout=1800)
    result = {}
    for label, alerts in (("without", 0), ("with", 1000)):
        node = Node(cmd, args.out, f"cost-{label}")
        try:
            if alerts:
                channel = node.webhook(receiver)
                with console.status(f"creating {alerts:,} alerts …"):
                    for i in range(alerts):
                        node.alert(f"cost-{i}", COST_QUERIES[i % len(COST_QUERIES)] + f" -zz{i}", channel, "end_of_interval",
                                   interval="5m")
            console.print(f"cost: pushing {args.cost_lines:,} lines {label} {alerts:,} alerts …")
            pushed = push_and_watch(node.server, node.creds, work, push_args)
            if pushed["failures"]:
                raise RunFailed(f"cost {label}: {pushed['failures'][:3]}")
            result[label] = {"alerts": alerts, "e2e_lines_per_s": pushed["e2e_lines_per_s"],
                             "server_cpu_seconds": pushed["server_cpu_seconds"]}
        finally:
            node.close()
    result["ratio"] = result["with"]["e2e_lines_per_s"] / result["without"]["e2e_lines_per_s"]
    return result


def run(args, report: dict) -> None:
    cmd = timberyard_command(args.timberyard)
    receiver = Receiver()
    try:
        if args.only != "cost":
            node = Node(cmd, args.out, "latency")
            try:
                channel = node.webhook(receiver)
                console.print(f"idle: {args.probes} immediate alerts, one probe line each …")
                report["idle"] = latencies(node, receiver, channel, "idle", args.probes)
                console.print(f"under load: {args.probes} probes while {args.load_rate:,} lines/s are pushed …")
                report["loaded"] = under_load(node, receiver, channel, args)
                console.print(f"end of interval: {args.eoi_probes} 30 s alerts …")
                report["end_of_interval"] = end_of_interval(node, receiver, channel, args.eoi_probes)
            finally:
                node.close()
        if args.only != "latency":
            report["cost"] = cost(cmd, args, receiver)
    finally:
        receiver.close()


def evaluate(report: dict) -> list[tuple[str, str, str, str]]:
    def verdict(value, target, higher_is_better=False):
        if value is None:
            return "—"
        return "PASS" if (value >= target if higher_is_better else value <= target) else "FAIL"

    rows = []
    for key, label, target in (("idle", "idle", TARGETS["idle_p99_s"]), ("loaded", "under load", TARGETS["loaded_p99_s"])):
        phase = report.get(key)
        if phase:
            rows.append((f"{label}: ingest 200 → webhook, p50", _s(phase["p50_s"]), "", ""))
            rows.append((f"{label}: p99 ({phase['arrived']}/{phase['probes']} arrived)", _s(phase["p99_s"]),
                         f"≤ {target:g} s", verdict(phase["p99_s"], target) if not phase["missing"] else "FAIL"))
    loaded = report.get("loaded")
    if loaded and loaded.get("background_lines_per_s"):
        rows.append(("under load: background ingest reached", f"{loaded['background_lines_per_s']:,.0f} lines/s",
                     f"{loaded['background_target_lines_per_s']:,} asked", ""))
    eoi = report.get("end_of_interval")
    if eoi:
        rows.append((f"end of interval: window end → webhook, max ({eoi['arrived']}/{eoi['probes']})", _s(eoi["max_s"]),
                     f"≤ {TARGETS['end_of_interval_max_s']:g} s",
                     verdict(eoi["max_s"], TARGETS["end_of_interval_max_s"]) if not eoi["missing"] else "FAIL"))
    spent = report.get("cost")
    if spent:
        rows.append(("ingest without alerts (same run)", f"{spent['without']['e2e_lines_per_s']:,.0f} lines/s", "", ""))
        rows.append(("ingest with 1,000 alerts", f"{spent['with']['e2e_lines_per_s']:,.0f} lines/s", "", ""))
        rows.append(("with / without", f"{spent['ratio']:.2f}", f"≥ {TARGETS['thousand_alerts_ratio']:g}",
                     verdict(spent["ratio"], TARGETS["thousand_alerts_ratio"], higher_is_better=True)))
    return rows


def _s(value) -> str:
    return "—" if value is None else f"{value:.2f} s"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Alert latency and cost benchmark of timberyard (see bench/README.md).")
    p.add_argument("--probes", type=int, default=30, help="probe alerts per latency phase (default 30)")
    p.add_argument("--load-rate", type=int, default=50_000, help="background lines/s under load (default 50000)")
    p.add_argument("--eoi-probes", type=int, default=3, help="end-of-interval probe alerts (default 3)")
    p.add_argument("--cost-lines", type=int, default=300_000, help="lines per cost run (default 300000)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    p.add_argument("--only", choices=("latency", "cost"),
                   help="run only phases 1-3 (latency) or only phase 4 (cost: with and without 1,000 alerts)")
    p.add_argument("--timberyard", help="the timberyard executable (default: the one next to this Python)")
    p.add_argument("--out", type=Path, default=BENCH / "out", help="where the JSON report goes (default bench/out)")
    args = p.parse_args(argv)
    if min(args.probes, args.load_rate, args.eoi_probes, args.cost_lines) <= 0:
        p.error("--probes, --load-rate, --eoi-probes and --cost-lines must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = new_report(args, time.gmtime(), TARGETS)
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        run(args, report)
    except RunFailed as exc:
        report["error"] = str(exc)
        console.print(f"[red bold]run failed:[/red bold] {exc}")
        status = 1
    table = Table(title=f"timberyard alert benchmark — {report['started']}")
    for column, justify in (("figure", "left"), ("value", "right"), ("target", "right"), ("", "center")):
        table.add_column(column, justify=justify)
    for row in evaluate(report):
        table.add_row(*row)
    console.print(table)
    console.print(f"on {os.cpu_count()} cores shared by the node, the pushers and the receiver")
    path = args.out / f"alerts-{report['stamp']}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    console.print(f"figures written to {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
