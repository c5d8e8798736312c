"""Parsing and rules benchmark: the whole pipeline with automatic parsing, three redaction rules
and two exclusion rules, against the same pipeline with parsing and rules off, in one run.

    .venv/bin/python bench/parse.py                     # 1M lines, 4 clients, 1000-line requests
    .venv/bin/python bench/parse.py --lines 100000      # a quick check

One phase after another (never two at once, the machine has two cores):
1. the corpus: bench/corpus.py's mix (Loghub system logs, many of them syslog-style, nginx access
   lines, JSON app logs) with every other JSON app line written as logfmt instead, and an email
   address in 2% of the app lines so redaction has something to do; every request body is
   serialised before any clock starts;
2. OFF: `timberyard serve` with `parse_lines = false` and no rules; push everything from
   --clients keep-alive connections; time until every line is in the store;
3. ON: a fresh data directory, automatic parsing on, and these rules made through the API:
   redact `email` and `credit_card` (built-in detectors), redact IPv4 addresses in `app:sshd`,
   redact `session=<uuid>` (a custom regex); exclude `app:nginx request.path:/healthz` (dropped)
   and `level:debug` (kept for live tail only); time the same push until every stored line is in
   the store; then the store's size (data + indexes after OPTIMIZE FINAL) against gzip -6 of the
   raw lines.
Prints a table with each target PASS/FAIL and writes bench/out/parse-*.json. Exit status 0 when
the run measured (even with targets missed), 1 when it failed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import orjson  # noqa: E402
from rich.table import Table  # noqa: E402

import corpus  # noqa: E402
from ingest import (  # noqa: E402  (_progress, _run_json, basic_auth: ingest.py's helpers)
    OPERATOR,
    Pusher,
    RunFailed,
    ServerProcess,
    Workload,
    _progress,
    _run_json,
    basic_auth,
    compression_reference,
    console,
    init_data_dir,
    logs_table,
    new_report,
    parse_metrics,
    timberyard_command,
)

TARGET_ON_OVER_OFF = 0.75
TARGET_ON_LINES_PER_S = 70_000
TARGET_STORE_OVER_GZIP = 1.5
EMAIL_RATE = 0.02

RULES = [
    {"kind": "redact", "name": "personal data", "detectors": ["email", "credit_card"]},
    {"kind": "redact", "name": "attacker addresses", "scope": "app:sshd", "detectors": ["ipv4"]},
    {"kind": "redact", "name": "session ids", "patterns": ["session=[0-9a-f-]{36}"]},
    {"kind": "exclude", "name": "health checks", "query": "app:nginx request.path:/healthz"},
    {"kind": "exclude", "name": "debug for tail only", "query": "level:debug", "preserve_for_tail": True},
]


def mixed(items):
    """bench/corpus.py's items, every other JSON app line as logfmt, some with an email."""
    for index, item in enumerate(items):
        line = item["line"]
        if line.startswith("{"):
            fields = orjson.loads(line)
            if index % 97 < EMAIL_RATE * 97:
                fields["email"] = f"customer{index}@example.com"
            if index % 2:
                item = {**item, "line": _logfmt(fields)}
            else:
                item = {**item, "line": orjson.dumps(fields).decode()}
        yield item


def _logfmt(fields: dict) -> str:
    pairs = []
    for key, value in fields.items():
        if isinstance(value, dict):
            pairs.extend(f"{key}.{k}={_value(v)}" for k, v in value.items())
        else:
            pairs.append(f"{key}={_value(value)}")
    return " ".join(pairs)


def _value(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return orjson.dumps(text).decode() if (" " in text or '"' in text or "=" in text or not text) else text


def build(args) -> tuple[Workload, list[str]]:
    started = time.perf_counter()
    bodies, counts, lines = [], [], []
    with _progress() as progress:
        task = progress.add_task("generating and serialising the corpus", total=args.lines)

        def recorded(items):
            for item in items:
                lines.append(item["line"])
                yield item

        items = mixed(corpus.Corpus(args.seed, args.end_ms, args.span_ms).plant_needles(0.001).generate(args.lines))
        for batch in corpus.per_host(recorded(items), args.batch):
            bodies.append(corpus.ingest_body(batch))
            counts.append(len(batch))
            progress.update(task, completed=len(lines))
    return Workload(bodies, counts, [], [], time.perf_counter() - started), lines


def push(server: ServerProcess, creds: dict, work: Workload, args, what: str) -> dict:
    """Push every body; done when all are acknowledged and the store holds every line the
    pipeline kept for storage (exclusion rules drop some), with nothing left in the WAL."""
    def metrics() -> dict[str, float]:
        status, _, body = server.request("GET", "/metrics", OPERATOR)
        if status != 200:
            raise RunFailed(f"GET /metrics answered HTTP {status}")
        return parse_metrics(body.decode())

    cpu0 = server.cpu_seconds()
    started = time.perf_counter()
    deadline = started + args.timeout
    pusher = Pusher(server.port, creds["ingestion_key"], work.bodies, work.counts, args.clients, deadline)
    sender = threading.Thread(target=pusher.run, daemon=True)
    sender.start()
    done_at = None
    with _progress() as progress:
        task = progress.add_task(f"{what}: in the store", total=work.count)
        while time.perf_counter() < deadline:
            m = metrics()
            stored, kept = m.get("timberyard_store_lines_total", 0), m.get("timberyard_ingest_stored_lines_total", 0)
            received = m.get("timberyard_ingest_lines_total", 0)
            progress.update(task, completed=received)
            if not sender.is_alive():
                if pusher.result.failures:
                    raise RunFailed(f"{what}: {pusher.result.failures[:3]}")
                if received >= work.count and stored >= kept and m.get("timberyard_wal_pending_bytes", 1) == 0:
                    done_at = time.perf_counter()
                    break
            time.sleep(0.5 if sender.is_alive() else 0.05)
    if done_at is None:
        figures = {k.removeprefix("timberyard_"): m.get(k) for k in (
            "timberyard_ingest_lines_total", "timberyard_ingest_stored_lines_total", "timberyard_store_lines_total",
            "timberyard_wal_pending_bytes")}
        raise RunFailed(f"{what}: not every line reached the store within {args.timeout:.0f} s: {figures}")
    seconds = done_at - started
    cpu1 = server.cpu_seconds()
    return {
        "seconds": seconds,
        "lines_per_s": work.count / seconds,
        "stored_lines": int(m.get("timberyard_store_lines_total", 0)),
        "retries": pusher.result.retries,
        "server_cpu_seconds": (cpu1 - cpu0) if None not in (cpu0, cpu1) else None,
        "metrics": {k: v for k, v in m.items() if k.startswith("timberyard_")},
    }


def make_rules(server: ServerProcess, creds: dict) -> list[dict]:
    import http.client

    made = []
    for rule in RULES:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("POST", "/api/v1/rules", orjson.dumps(rule),
                      {"Authorization": basic_auth(creds["service_key"]), "Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        if response.status != 201:
            raise RunFailed(f"creating rule {rule['name']!r}: HTTP {response.status}: {body[:300]!r}")
        made.append(orjson.loads(body))
    return made


def run(args, report: dict) -> None:
    cmd = timberyard_command(args.timberyard)
    console.print(f"[bold]timberyard parse benchmark[/bold]: {args.lines:,} lines, {args.clients} clients, "
                  f"{args.batch} lines per request, seed {args.seed}")
    work, lines = build(args)
    report["corpus"] = {"lines": work.count, "requests": len(work.bodies), "seconds": work.seconds,
                        "mean_line_bytes": sum(map(len, lines)) / max(work.count, 1)}
    console.print("reference: gzip -6 of the raw lines …")
    report["compression"] = compression_reference(lines)
    del lines[:]
    for phase, env, rules in (("off", {"TIMBERYARD_PARSE_LINES": "false"}, False), ("on", {}, True)):
        data_dir = Path(tempfile.mkdtemp(prefix=f"timberyard-parse-{phase}-"))
        try:
            creds = init_data_dir(cmd, data_dir)
            log_path = args.out / f"parse-{report['stamp']}-{phase}-server.log"
            server = ServerProcess(cmd, data_dir, log_path, env)
            console.print(f"{phase}: server on 127.0.0.1:{server.port} (log: {log_path}) …")
            try:
                server.start()
                if rules:
                    report["rules"] = [r["name"] for r in make_rules(server, creds)]
                profiler = _profile(server, args, phase)
                report[phase] = push(server, creds, work, args, phase)
                if profiler is not None:
                    profiler.send_signal(2)
                    profiler.wait(60)
            finally:
                server.stop()
            report[phase]["vm_hwm_bytes"] = server.vm_hwm
            if phase == "on":
                console.print("store: sizes after OPTIMIZE FINAL (separate process) …")
                report["store"] = _run_json([sys.executable, str(BENCH / "store_size.py"), "--store", str(data_dir / "store")],
                                            "store size measurement")
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


def _profile(server: ServerProcess, args, phase: str):
    """With --profile, py-spy records the server during the push (collapsed stacks in bench/out,
    for speedscope or flamegraph.pl)."""
    if not args.profile:
        return None
    import subprocess

    out = args.out / f"parse-{phase}-profile.txt"
    console.print(f"  profiling with py-spy into {out}")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen([py_spy, "record", "-o", str(out), "-p", str(server.proc.pid), "--rate", "50", "--threads", "--format", "raw"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def evaluate(report: dict) -> list[tuple[str, str, str, str]]:
    verdicts = report["verdicts"] = {}

    def verdict(key, value, ok) -> str:
        v = "n/a" if value is None else ("PASS" if ok(value) else "FAIL")
        verdicts[key] = {"value": value, "verdict": v}
        return v

    off, on = report.get("off", {}), report.get("on", {})
    ratio = on["lines_per_s"] / off["lines_per_s"] if on.get("lines_per_s") and off.get("lines_per_s") else None
    rows = [
        ("lines / clients / batch", f"{report['config']['lines']:,} / {report['config']['clients']} / {report['config']['batch']}", "", ""),
        ("off: parsing and rules off, lines/s", _n(off.get("lines_per_s")), "", ""),
        ("on: parsing + 3 redaction + 2 exclusion rules, lines/s", _n(on.get("lines_per_s")), f"≥ {TARGET_ON_LINES_PER_S:,}",
         verdict("on_lines_per_s", on.get("lines_per_s"), lambda v: v >= TARGET_ON_LINES_PER_S)),
        ("on / off", "n/a" if ratio is None else f"{ratio:.2f}", f"≥ {TARGET_ON_OVER_OFF}",
         verdict("on_over_off", ratio, lambda v: v >= TARGET_ON_OVER_OFF)),
        ("server CPU s (off / on)", f"{_n(off.get('server_cpu_seconds'), 1)} / {_n(on.get('server_cpu_seconds'), 1)}", "", ""),
        ("lines stored (on: after exclusion)", f"{_n(off.get('stored_lines'))} / {_n(on.get('stored_lines'))}", "", ""),
    ]
    store, gzip_bytes = report.get("store"), (report.get("compression") or {}).get("gzip_bytes")
    table = logs_table((store or {}).get("after_optimize") or [])
    if table and gzip_bytes:
        total = table["data_compressed_bytes"] + table["index_compressed_bytes"]
        report["store_bytes"] = {"data": table["data_compressed_bytes"], "index": table["index_compressed_bytes"], "gzip": gzip_bytes}
        rows.append(("on: store data+index / gzip -6", f"{total / gzip_bytes:.2f}", f"≤ {TARGET_STORE_OVER_GZIP}",
                     verdict("store_over_gzip", total / gzip_bytes, lambda v: v <= TARGET_STORE_OVER_GZIP)))
    metrics = on.get("metrics", {})
    rows.append(("on: lines redacted by rules / excluded", "see server metrics and /api/v1/rules counts", "", ""))
    rows.append(("on: field conflicts / over limit", f"{_n(metrics.get('timberyard_ingest_field_conflicts_total'))} / "
                 f"{_n(metrics.get('timberyard_ingest_fields_over_limit_total'))}", "", ""))
    return rows


def _n(value, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Parsing and rules benchmark (see bench/README.md).")
    p.add_argument("--lines", type=int, default=1_000_000, help="lines to send (default 1000000)")
    p.add_argument("--clients", type=int, default=4, help="concurrent keep-alive connections (default 4)")
    p.add_argument("--batch", type=int, default=1000, help="lines per request (default 1000)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed for each push (default 1800)")
    p.add_argument("--timberyard", help="the timberyard executable (default: the one next to this Python)")
    p.add_argument("--out", type=Path, default=BENCH / "out", help="where the JSON report goes")
    p.add_argument("--profile", action="store_true", help="record each server with py-spy (must be installed)")
    args = p.parse_args(argv)
    args.span_ms = 23 * 3_600_000
    args.end_ms = int(time.time() * 1000)
    args.out.mkdir(parents=True, exist_ok=True)
    report = new_report(args, time.gmtime(), {"on_lines_per_s": TARGET_ON_LINES_PER_S, "on_over_off": TARGET_ON_OVER_OFF,
                                               "store_over_gzip": TARGET_STORE_OVER_GZIP})
    status = 0
    try:
        run(args, report)
    except RunFailed as exc:
        report["error"] = str(exc)
        console.print(f"[red bold]run failed:[/red bold] {exc}")
        status = 1
    rows = evaluate(report)
    table = Table(title=f"timberyard parse benchmark — {report['started']}")
    for column in ("figure", "value", "target", ""):
        table.add_column(column)
    for row in rows:
        table.add_row(*row[:3], {"PASS": "[green]PASS[/green]", "FAIL": "[red]FAIL[/red]"}.get(row[3], row[3]))
    console.print(table)
    out = args.out / f"parse-{report['stamp']}.json"
    out.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    console.print(f"figures written to {out}")
    return status


if __name__ == "__main__":
    sys.exit(main())
