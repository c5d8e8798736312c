"""Search latency benchmark: a real `timberyard serve` process queried over HTTP, with ripgrep as reference.

    .venv/bin/python bench/search.py                                  # 10M lines (long: ingest first)
    .venv/bin/python bench/search.py --lines 300000 --repeat 5        # a quick check
    .venv/bin/python bench/search.py --keep /tmp/sb                   # keep data dir, needles, raw corpus
    .venv/bin/python bench/search.py --reuse /tmp/sb                  # query a kept run again, no ingest

In one run, one phase after another (the machine has two cores):
1. generate the corpus (bench/corpus.py) with about --needles planted UUIDs (each in exactly one line),
   write the raw lines to a file, serialise the request bodies, `timberyard init`, start
   `timberyard serve` and push the bodies from 4 keep-alive clients, 1,000 lines per request, until
   /metrics shows every line in the store (all of this is bench/ingest.py's machinery, imported);
2. time each query through HTTP (one httpx keep-alive client), --repeat times, the first run
   discarded as a warm-up: needle, common term, term + app, last 100 matching, phrase, meta fields,
   a 24 h histogram by level, facets by app;
3. time ripgrep over the raw corpus file for the text queries (file in the page cache);
4. print a table (p50, p95, targets, PASS/FAIL, result counts, rg p50) and write
   bench/out/search-<timestamp>.json.
Exit status: 0 when the run measured (even with targets missed), 1 when it failed (including a
needle search that did not find exactly one line).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
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
import orjson  # noqa: E402
from rich.table import Table  # noqa: E402

import corpus  # noqa: E402
from ingest import (  # noqa: E402  (_progress is a private helper of ingest.py)
    OPERATOR,
    RunFailed,
    ServerProcess,
    Workload,
    _progress,
    console,
    init_data_dir,
    new_report,
    push_and_watch,
    timberyard_command,
)

TARGET_NEEDLE_MS = 100.0
TARGET_NEEDLE_OVER_RG = 5.0
TARGET_LAST100_MS = 150.0
TARGET_HISTOGRAM_MS = 300.0
TARGET_RARE_FIELD_MS = 150.0  # a field comparison that matches almost nothing (issue 9)

PHRASE = "connection refused"  # auth-service: "jwks refresh failed: connection refused" (+ Loghub lines)
TERM = "error"
APP = "checkout-api"  # has two error events in corpus.py


# ---------------------------------------------------------------------------------------------
# Corpus and ingest (ingest.py's server and pusher)
# ---------------------------------------------------------------------------------------------


USER_ID = re.compile(r'"user":\{"id":"(u_[0-9]+)"')


def build_workload(args, raw_path: Path) -> tuple[Workload, list[dict], list[str]]:
    """Bodies for the server, raw lines written to `raw_path`, the planted needles, and user ids
    sampled from the JSON app logs (for `user.id:==<one id>`)."""
    started = time.perf_counter()
    gen = corpus.Corpus(args.seed, args.end_ms, args.span_ms).plant_needles(args.needles / args.lines)
    bodies: list[tuple[str, bytes]] = []
    counts: list[int] = []
    users: list[str] = []
    written = 0
    with open(raw_path, "wb") as raw, _progress() as progress:
        task = progress.add_task("generating, serialising, writing the raw corpus", total=args.lines)
        chunk: list[bytes] = []

        def recorded(items):
            nonlocal written
            for item in items:
                if len(users) < 64 and item["line"].startswith("{") and (written + len(chunk)) % 7919 == 0:
                    found = USER_ID.search(item["line"])
                    if found:
                        users.append(found.group(1))
                chunk.append(item["line"].encode())
                if len(chunk) == 10_000:
                    raw.write(b"\n".join(chunk) + b"\n")
                    written += len(chunk)
                    chunk.clear()
                yield item

        for batch in corpus.per_host(recorded(gen.generate(args.lines)), args.batch):
            bodies.append(corpus.ingest_body(batch))
            counts.append(len(batch))
            progress.update(task, completed=written)
        if chunk:
            raw.write(b"\n".join(chunk) + b"\n")
    needles = [dataclasses.asdict(n) for n in gen.needles]  # index, token, app, hostname, timestamp
    return Workload(bodies, counts, [], [], time.perf_counter() - started), needles, users


def prepare(args, report: dict, workdir: Path) -> tuple[ServerProcess, dict, list[dict], Path, dict]:
    """Returns (started server, credentials, needles, raw corpus path, run info); the run info
    holds the sampled user ids."""
    cmd = timberyard_command(args.timberyard)
    data_dir, raw_path = workdir / "data", workdir / "corpus.log"
    log_path = args.out / f"search-{report['stamp']}-server.log"
    if args.reuse:
        try:
            info = orjson.loads((workdir / "run.json").read_bytes())
            needles = orjson.loads((workdir / "needles.json").read_bytes())
        except OSError as exc:
            raise RunFailed(f"--reuse {workdir}: not a directory kept by --keep ({exc})") from exc
        if not raw_path.exists() or not data_dir.exists():
            raise RunFailed(f"--reuse {workdir}: corpus.log or data/ is missing")
        console.print(f"reusing {workdir}: {info['lines']:,} lines, {len(needles)} needles, seed {info['seed']}")
        server = ServerProcess(cmd, data_dir, log_path)
        console.print(f"server: starting on 127.0.0.1:{server.port} (log: {log_path}) …")
        server.start()
        return server, info["credentials"], needles, raw_path, info

    if args.keep and workdir.exists() and any(workdir.iterdir()):
        raise RunFailed(f"--keep {workdir}: the directory is not empty")
    workdir.mkdir(parents=True, exist_ok=True)
    work, needles, users = build_workload(args, raw_path)
    report["corpus"] = {"lines": work.count, "requests": len(work.bodies), "seconds": work.seconds,
                        "raw_bytes": raw_path.stat().st_size, "needles": len(needles),
                        "end_ms": args.end_ms, "span_ms": args.span_ms}
    console.print(f"corpus: {work.count:,} lines, {len(needles)} needles, raw file "
                  f"{raw_path.stat().st_size / 1e6:,.1f} MB, built in {work.seconds:.1f} s")
    if not needles:
        raise RunFailed("no needle was planted (use more --lines or --needles)")
    creds = init_data_dir(cmd, data_dir)
    info = {"lines": work.count, "seed": args.seed, "end_ms": args.end_ms, "span_ms": args.span_ms,
            "credentials": creds, "users": users}
    (workdir / "needles.json").write_bytes(orjson.dumps(needles))
    (workdir / "run.json").write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
    server = ServerProcess(cmd, data_dir, log_path)
    console.print(f"server: starting on 127.0.0.1:{server.port} (log: {log_path}) …")
    server.start()
    try:
        console.print(f"ingest: {len(work.bodies):,} requests from {args.clients} clients …")
        result = push_and_watch(server, creds, work, args)
    except BaseException:
        server.stop()
        raise
    report["ingest"] = {k: result[k] for k in ("acked_lines", "retries", "reconnects", "failures",
                                                "e2e_seconds", "e2e_lines_per_s")}
    if result["failures"]:
        server.stop()
        raise RunFailed(f"ingest failed: {result['failures'][:3]}")
    console.print(f"  all {work.count:,} lines in the store after {result['e2e_seconds']:.1f} s "
                  f"({result['e2e_lines_per_s']:,.0f} lines/s)")
    del work
    return server, creds, needles, raw_path, info


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def time_window(info: dict) -> dict:
    """`from=24h` when the corpus lies inside the last 24 h (the normal case), else its own range."""
    start = info["end_ms"] - info["span_ms"]
    if time.time() * 1000 - start < 24 * 3_600_000 - 60_000:
        return {"from": "24h"}
    console.print("[yellow]note:[/yellow] the corpus is older than 24 h; querying its own time range instead")
    return {"from": str(start), "to": str(info["end_ms"])}


def queries(window: dict, users: list[str]) -> list[dict]:
    """Each: name, path, params, what to check; `vary` gives run i its own q, so ClickHouse's
    query condition cache cannot answer a repetition."""
    s = "/api/v1/search"
    return [
        {"name": "needle (UUID)", "key": "needle", "path": s, "params": {"q": None, "limit": 10, **window}},
        {"name": f"common term `{TERM}`, limit 100", "key": "term", "path": s,
         "params": {"q": TERM, "limit": 100, **window}},
        {"name": f"term + app `{TERM} app:{APP}`", "key": "term_app", "path": s,
         "params": {"q": f"{TERM} app:{APP}", "limit": 100, **window}},
        {"name": "last 100 matching `level:error` desc", "key": "last100", "path": s,
         "params": {"q": "level:error", "limit": 100, "order": "desc", **window}},
        {"name": f'phrase `"{PHRASE}"`', "key": "phrase", "path": s,
         "params": {"q": f'"{PHRASE}"', "limit": 100, **window}},
        {"name": "field comparison `status:>=500`", "key": "field_numeric", "path": s,
         "params": {"q": "status:>=500", "limit": 100, **window}},
        {"name": "rare field value `status:==599` (598, ...)", "key": "field_rare_number", "path": s,
         "params": {"q": "status:==599", "limit": 100, **window}, "expect_empty": True,
         "vary": lambda i: f"status:=={599 - i}"},
        {"name": "one user `user.id:==<id>`", "key": "field_rare_string", "path": s,
         "params": {"q": f"user.id:=={users[0] if users else 'none'}", "limit": 100, **window},
         "vary": lambda i: f"user.id:=={users[i % len(users)]}" if users else "user.id:==none"},
        {"name": "meta string `region:==eu-west-1`", "key": "meta_string", "path": s,
         "params": {"q": "region:==eu-west-1", "limit": 100, **window}},
        {"name": "histogram 24 h, 96 buckets, by level", "key": "histogram", "path": "/api/v1/histogram",
         "params": {"buckets": 96, "by": "level", **window}},
        {"name": "facets field=app", "key": "facets", "path": "/api/v1/facets",
         "params": {"field": "app", **window}},
    ]


def measure(client: httpx.Client, qs: list[dict], needles: list[dict], repeat: int, window: dict,
            errors: list[str]) -> dict:
    results: dict = {}
    with _progress() as progress:
        task = progress.add_task("queries", total=len(qs) * repeat)
        for q in qs:
            times: list[float] = []
            returned: list[int] = []
            for i in range(repeat):
                params = dict(q["params"])
                if q["key"] == "needle":
                    params["q"] = needles[i % len(needles)]["token"]
                elif "vary" in q:
                    params["q"] = q["vary"](i)
                t0 = time.perf_counter()
                resp = client.get(q["path"], params=params)
                elapsed = (time.perf_counter() - t0) * 1000
                progress.advance(task)
                if resp.status_code != 200:
                    raise RunFailed(f"{q['name']}: HTTP {resp.status_code}: {resp.text[:300]}")
                doc = resp.json()
                if i > 0:  # the first run is a warm-up
                    times.append(elapsed)
                if q["path"].endswith("/search"):
                    n = len(doc["lines"])
                    returned.append(n)
                    if q["key"] == "needle":
                        tok = params["q"]
                        if n != 1 or doc.get("next_cursor") is not None or tok not in doc["lines"][0]["line"]:
                            errors.append(f"needle {tok}: expected exactly 1 line, got {n} "
                                          f"(next_cursor {doc.get('next_cursor')!r})")
                elif q["key"] == "histogram":
                    returned.append(sum(b["count"] for b in doc["buckets"]))
                    results.setdefault(q["key"], {})["buckets"] = len(doc["buckets"])
                    results[q["key"]]["levels"] = sorted({k for b in doc["buckets"] for k in b.get("by", {})})
                else:
                    returned.append(len(doc["values"]))
                    results.setdefault(q["key"], {})["top"] = doc["values"][:3]
            r = results.setdefault(q["key"], {})
            r.update({"name": q["name"], "path": q["path"], "params": {k: v for k, v in q["params"].items()},
                      "times_ms": times, "p50_ms": pct(times, 50), "p95_ms": pct(times, 95),
                      "returned": returned[-1] if returned else None})
    # Total matches per search query (untimed): a one-bucket histogram with the same q.
    for q in qs:
        if q["path"].endswith("/search") and q["key"] != "needle":
            resp = client.get("/api/v1/histogram", params={"q": q["params"]["q"], "buckets": 1, **window})
            if resp.status_code == 200:
                results[q["key"]]["total_matches"] = sum(b["count"] for b in resp.json()["buckets"])
        r = results[q["key"]]
        if q.get("expect_empty"):
            continue
        if q["key"] != "needle" and not r.get("returned"):
            errors.append(f"{q['name']}: returned nothing (the query should match this corpus)")
    results["needle"]["total_matches"] = 1 if not any(e.startswith("needle") for e in errors) else None
    return results


def ensure_rg() -> str | None:
    rg = shutil.which("rg")
    if rg:
        return rg
    console.print("[yellow]ripgrep (rg) is not installed[/yellow]: install it with `apt-get install ripgrep` "
                  "(Debian/Ubuntu) or see https://github.com/BurntSushi/ripgrep#installation")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        console.print("running as root: `apt-get install -y ripgrep` …")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "install", "-y", "-q", "ripgrep"], ["apt-get", "update", "-q"],
                    ["apt-get", "install", "-y", "-q", "ripgrep"]):
            subprocess.run(cmd, env=env, capture_output=True, timeout=600)
            if shutil.which("rg"):
                return shutil.which("rg")
    return None


def measure_rg(rg: str, raw_path: Path, needles: list[dict], repeat: int, errors: list[str]) -> dict:
    """ripgrep over the raw file (`-c`: every match is counted, so the whole file is read)."""
    cases = {
        "needle": lambda i: [rg, "-c", "-F", needles[i % len(needles)]["token"], str(raw_path)],
        "term": lambda i: [rg, "-c", "-i", TERM, str(raw_path)],
        "phrase": lambda i: [rg, "-c", "-F", "-i", PHRASE, str(raw_path)],
    }
    out: dict = {"version": subprocess.run([rg, "--version"], capture_output=True, text=True).stdout.split("\n")[0]}
    for key, make in cases.items():
        times, counts = [], []
        for i in range(repeat):  # run 0 reads the file into the page cache and is discarded
            cmd = make(i)
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            elapsed = (time.perf_counter() - t0) * 1000
            if proc.returncode not in (0, 1):
                raise RunFailed(f"{' '.join(cmd)} failed: {proc.stderr[-300:]}")
            count = int(proc.stdout.strip() or 0)
            counts.append(count)
            if key == "needle" and count != 1:
                errors.append(f"rg: needle {cmd[3]} is on {count} lines of the raw corpus, expected 1")
            if i > 0:
                times.append(elapsed)
        out[key] = {"cmd": " ".join(make(0)[:-1]) + " FILE", "times_ms": times, "p50_ms": pct(times, 50),
                    "p95_ms": pct(times, 95), "matching_lines": counts[-1]}
    return out


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def evaluate(report: dict) -> list[tuple]:
    res, rg = report.get("results", {}), report.get("ripgrep") or {}
    verdicts = report["verdicts"] = {}

    def verdict(key, value, ok) -> str:
        v = "n/a" if value is None else ("PASS" if ok(value) else "FAIL")
        verdicts[key] = {"value": value, "verdict": v}
        return v

    ratio = None
    if res.get("needle", {}).get("p50_ms") and rg.get("needle", {}).get("p50_ms"):
        ratio = rg["needle"]["p50_ms"] / res["needle"]["p50_ms"]
    report.setdefault("ratios", {})["needle_rg_over_ours"] = ratio
    rows = []
    for key, r in res.items():
        target, result = "", ""
        if key == "needle":
            target = f"p50 ≤ {TARGET_NEEDLE_MS:.0f} ms, ≥ {TARGET_NEEDLE_OVER_RG:.0f}x rg"
            a = verdict("needle_p50_ms", r["p50_ms"], lambda v: v <= TARGET_NEEDLE_MS)
            b = verdict("needle_rg_over_ours", ratio, lambda v: v >= TARGET_NEEDLE_OVER_RG)
            result = "FAIL" if "FAIL" in (a, b) else ("PASS" if a == b == "PASS" else "n/a")
        elif key == "last100":
            target = f"p50 ≤ {TARGET_LAST100_MS:.0f} ms"
            result = verdict("last100_p50_ms", r["p50_ms"], lambda v: v <= TARGET_LAST100_MS)
        elif key == "histogram":
            target = f"p50 ≤ {TARGET_HISTOGRAM_MS:.0f} ms"
            result = verdict("histogram_p50_ms", r["p50_ms"], lambda v: v <= TARGET_HISTOGRAM_MS)
        elif key in ("field_rare_number", "field_rare_string"):
            target = f"p50 ≤ {TARGET_RARE_FIELD_MS:.0f} ms"
            result = verdict(f"{key}_p50_ms", r["p50_ms"], lambda v: v <= TARGET_RARE_FIELD_MS)
        if key in ("histogram",):
            counts = f"{r['returned']:,} lines in {r.get('buckets')} buckets"
        elif key == "facets":
            counts = f"{r['returned']} values" + (f", top {r['top'][0]['value']} {r['top'][0]['count']:,}"
                                                  if r.get("top") else "")
        else:
            total = r.get("total_matches")
            counts = f"{r['returned']} returned" + (f" / {total:,} match" if total is not None else "")
        rg_p50 = ""
        if key in rg:
            rg_p50 = f"{rg[key]['p50_ms']:.1f} ({rg[key]['matching_lines']:,} lines)"
        rows.append((r["name"], _ms(r["p50_ms"]), _ms(r["p95_ms"]), target, result, counts, rg_p50))
    if ratio is not None:
        rows.append(("needle: rg p50 / ours p50", f"{ratio:.1f}x", "", f"≥ {TARGET_NEEDLE_OVER_RG:.0f}x",
                     verdicts["needle_rg_over_ours"]["verdict"], "", ""))
    return rows


def _ms(v) -> str:
    return "n/a" if v is None else f"{v:.1f}"


def print_report(report: dict, rows: list[tuple]) -> None:
    lines = report.get("corpus", {}).get("lines") or report.get("run", {}).get("lines")
    table = Table(title=f"timberyard search benchmark — {report['started']} — {lines or '?':,} lines, "
                        f"{report['config']['repeat'] - 1} timed runs each")
    for col, j in (("query", "left"), ("p50 ms", "right"), ("p95 ms", "right"), ("target", "right"),
                   ("", "center"), ("results", "right"), ("rg p50 ms", "right")):
        table.add_column(col, justify=j)
    colours = {"PASS": "[green]PASS[/green]", "FAIL": "[red]FAIL[/red]"}
    for row in rows:
        table.add_row(*row[:4], colours.get(row[4], row[4]), *row[5:])
    console.print(table)
    if report.get("ripgrep_missing"):
        console.print("[yellow]ripgrep was not available: no rg reference (apt-get install ripgrep)[/yellow]")
    for e in report.get("errors", [])[:10]:
        console.print(f"[red]error:[/red] {e}")


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(description="Search latency benchmark of timberyard (see bench/README.md).")
    p.add_argument("--lines", type=int, default=10_000_000, help="corpus lines (default 10000000)")
    p.add_argument("--seed", type=int, default=1, help="corpus seed (default 1)")
    p.add_argument("--needles", type=int, default=200, help="about this many planted UUIDs (default 200)")
    p.add_argument("--repeat", type=int, default=11, help="runs per query, the first discarded (default 11)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--keep", type=Path, metavar="DIR", help="keep data dir, needles and raw corpus in DIR")
    g.add_argument("--reuse", type=Path, metavar="DIR", help="skip generation and ingest: use a --keep DIR")
    p.add_argument("--clients", type=int, default=4, help="ingest connections (default 4)")
    p.add_argument("--batch", type=int, default=1000, help="lines per ingest request (default 1000)")
    p.add_argument("--span-hours", type=float, default=23.0, help="corpus window, ending now (default 23)")
    p.add_argument("--settle", type=float, default=5.0,
                   help="seconds to wait after the merges settle, before querying (default 5)")
    p.add_argument("--merge-timeout", type=float, default=900.0,
                   help="longest wait for the store's background merges to finish (default 900 s)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds allowed for push and drain")
    p.add_argument("--timberyard", help="the timberyard executable (default: the one next to this Python)")
    p.add_argument("--out", type=Path, default=BENCH / "out", help="where the JSON report goes")
    args = p.parse_args(argv)
    if args.lines <= 0 or args.needles <= 0 or args.repeat < 2:
        p.error("--lines and --needles must be positive, --repeat at least 2")
    args.span_ms = int(args.span_hours * 3_600_000)
    args.end_ms = int(time.time() * 1000)
    return args


def wait_for_merges(server, creds: dict, timeout: float) -> float:
    """Wait until /metrics shows no background merge twice in a row; return the seconds waited.

    Ingesting a day of lines in two minutes leaves the store a merge backlog that a node
    receiving the same lines over the day would never have; queries are timed after it, as on
    a settled store. The wait is reported, not hidden."""
    started = time.monotonic()
    quiet = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", headers=OPERATOR, timeout=30) as client:
        while time.monotonic() - started < timeout:
            text = client.get("/metrics").text
            merges = next((float(line.split()[-1]) for line in text.splitlines()
                           if line.startswith("timberyard_store_merges_running")), 0.0)
            quiet = quiet + 1 if merges == 0 else 0
            if quiet >= 2:
                break
            time.sleep(1.0)
    waited = time.monotonic() - started
    console.print(f"store merges settled after {waited:.0f} s" if quiet >= 2 else
                  f"[yellow]store still merging after {waited:.0f} s; timing queries anyway[/yellow]")
    return round(waited, 1)


def run(args, report: dict) -> None:
    workdir = (args.reuse or args.keep)
    temp = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="timberyard-search-")) if temp else workdir.resolve()
    report["workdir"] = str(workdir)
    server = None
    try:
        console.print("[bold]timberyard search benchmark[/bold]: "
                      + (f"reusing {workdir}" if args.reuse else
                         f"{args.lines:,} lines, ~{args.needles} needles, seed {args.seed}")
                      + f", {args.repeat} runs per query (first discarded)")
        server, creds, needles, raw_path, info = prepare(args, report, workdir)
        report["run"] = {k: v for k, v in info.items() if k != "credentials"}
        report["needles"] = len(needles)
        report["merges_settle_s"] = wait_for_merges(server, creds, args.merge_timeout)
        if args.settle > 0:
            time.sleep(args.settle)
        window = time_window(info)
        errors: list[str] = report.setdefault("errors", [])
        base = f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=base, auth=(creds["service_key"], ""), timeout=120) as client:
            console.print("queries over HTTP …")
            report["results"] = measure(client, queries(window, info.get("users", [])), needles, args.repeat, window, errors)
        server.stop()
        report["server"] = {"vm_hwm_bytes": server.vm_hwm, "rss_max_sampled_bytes": server.rss_max or None}
        server = None
        rg = ensure_rg()
        if rg:
            console.print(f"reference: ripgrep over {raw_path} …")
            report["ripgrep"] = measure_rg(rg, raw_path, needles, args.repeat, errors)
        else:
            report["ripgrep_missing"] = True
        if any(e.startswith(("needle", "rg: needle")) for e in errors):
            raise RunFailed("needle searches did not find exactly one line each")
    finally:
        if server is not None:
            server.stop()
        if temp:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.gmtime()
    report = new_report(args, started, {
        "needle_p50_ms": TARGET_NEEDLE_MS, "needle_rg_over_ours": TARGET_NEEDLE_OVER_RG,
        "last100_p50_ms": TARGET_LAST100_MS, "histogram_p50_ms": TARGET_HISTOGRAM_MS,
    })
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        run(args, report)
    except RunFailed as exc:
        report["error"] = str(exc)
        console.print(f"[red bold]run failed:[/red bold] {exc}")
        status = 1
    except (httpx.HTTPError, OSError) as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
        console.print(f"[red bold]run failed:[/red bold] {report['error']}")
        status = 1
    except KeyboardInterrupt:
        report["error"] = "interrupted"
        status = 130
    rows = evaluate(report)
    print_report(report, rows)
    out_path = args.out / f"search-{report['stamp']}.json"
    out_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    console.print(f"figures written to {out_path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
