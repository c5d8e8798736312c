"""Agent benchmark: a real `timberyard agent` shipping files to a real `timberyard serve`.

    .venv/bin/python bench/agent.py                    # steady 10k lines/s for 30 s, then max throughput of 1M lines
    .venv/bin/python bench/agent.py --quick            # 10 s steady, 200k lines
    .venv/bin/python bench/agent.py --install-size     # also: a fresh venv with only deploy/agent-package

Phases, one after another (the machine has two cores):
1. corpus lines (bench/corpus.py, ~197 bytes each) generated before any timing;
2. **steady**: a writer process appends 10,000 lines/s to four files; the agent follows them
   with its defaults. Agent CPU (user+sys of its process over the window) and RSS (peak, from
   /proc) are measured while every line reaches the node. Targets: CPU ≤ 10% of one core,
   RSS ≤ 60 MiB (the OpenTelemetry Collector's filelog receiver publishes 11-13% and 53-57 MiB
   at 10k lines/s);
3. **maximum**: the same four files already hold N lines; a fresh agent (lookback start) ships
   them all; the time until the node acknowledged the last one gives lines/s. Reference in the
   same run: `cat` of the same files to /dev/null (from the page cache), the raw read speed.
   Then again into a stand-in node that answers 200 at once: the agent's own ceiling;
4. optionally, the agent-only install's size and its idle RSS, in a fresh venv.
Writes bench/out/agent-*.json. Exit status 0 when it measured, 1 when a phase failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from corpus import generate  # noqa: E402
from servers import free_port, start_server  # noqa: E402

FILES = 4
def corpus_lines(count: int) -> list[str]:
    return [item["line"].replace("\n", " ") for item in generate(count, seed=7)]


def agent_process(server, workdir: Path, files: list[Path], metrics_port: int, lookback: str) -> subprocess.Popen[bytes]:
    config = workdir / "agent.yaml"
    config.write_text(json.dumps({
        "server": server.url, "key": server.ingestion_key, "state_dir": str(workdir / "state"), "hostname": "bench",
        "files": [str(path) for path in files], "lookback": lookback, "metrics": f"127.0.0.1:{metrics_port}",
    }))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGDNA_", "MZ_", "TIMBERYARD_"))}
    return subprocess.Popen([sys.executable, "-m", "timberyard", "agent", "--config", str(config)],
                            stdout=subprocess.DEVNULL, stderr=(workdir / "agent.log").open("wb"), env=env)


def metric(port: int, name: str) -> float:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.TransportError:
        return 0.0
    match = re.search(rf"^timberyard_agent_{name} (\S+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split(f"{field}:")[1].split()[0]) / 1024


def wait_for(port: int, count: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while metric(port, "lines_sent_total") < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {metric(port, 'lines_sent_total'):.0f} of {count} lines acknowledged after {timeout} s")
        time.sleep(0.05)
    return time.monotonic()


def steady(server, workdir: Path, lines: list[str], rate: int, seconds: float) -> dict[str, float]:
    files = [workdir / f"steady-{index}.log" for index in range(FILES)]
    for path in files:
        path.touch()
    port = free_port()
    agent = agent_process(server, workdir, files, port, "tail")
    while metric(port, "files_watched") < FILES:
        time.sleep(0.1)
    handles = [path.open("a", encoding="utf-8") for path in files]
    total = int(rate * seconds)
    began = time.monotonic()
    cpu_before = cpu_seconds(agent.pid)
    peak = 0.0
    for written in range(0, total, rate // 100):  # 100 slices a second
        for offset in range(rate // 100):
            handles[(written + offset) % FILES].write(lines[(written + offset) % len(lines)] + "\n")
        for handle in handles:
            handle.flush()
        if written % rate == 0:
            peak = max(peak, rss_mib(agent.pid))
        delay = began + (written + rate // 100) / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    wrote = time.monotonic()
    done = wait_for(port, total, 60)
    window = time.monotonic() - began
    cpu = (cpu_seconds(agent.pid) - cpu_before) / window
    peak = max(peak, rss_mib(agent.pid), rss_mib(agent.pid, "VmHWM"))
    agent.terminate()
    agent.wait(30)
    return {"rate_lines_s": rate, "seconds": seconds, "lines": total, "cpu_share_of_one_core": round(cpu, 4),
            "rss_peak_mib": round(peak, 1), "last_line_lag_s": round(done - wrote, 2)}


def maximum(server, workdir: Path, lines: list[str], count: int, name: str = "max") -> dict[str, float]:
    files = [workdir / f"{name}-{index}.log" for index in range(FILES)]
    handles = [path.open("w", encoding="utf-8") for path in files]
    for number in range(count):
        handles[number % FILES].write(lines[number % len(lines)] + "\n")
    for handle in handles:
        handle.close()
    shutil.rmtree(workdir / "state", ignore_errors=True)  # a fresh agent: every file is new to it
    size = sum(path.stat().st_size for path in files)
    subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    began = time.monotonic()
    for _ in range(3):
        subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)
    cat_s = (time.monotonic() - began) / 3
    port = free_port()
    began = time.monotonic()
    agent = agent_process(server, workdir, files, port, "start")
    done = wait_for(port, count, 600)
    elapsed = done - began
    cpu = cpu_seconds(agent.pid)
    peak = rss_mib(agent.pid, "VmHWM")
    agent.terminate()
    agent.wait(30)
    return {"lines": count, "bytes": size, "seconds": round(elapsed, 2), "lines_per_s": round(count / elapsed),
            "mib_per_s": round(size / elapsed / 2**20, 1), "agent_cpu_s": round(cpu, 1), "rss_peak_mib": round(peak, 1),
            "cat_lines_per_s": round(count / cat_s), "cat_mib_per_s": round(size / cat_s / 2**20), "agent_over_cat": round(cat_s / elapsed, 4)}


class Sink:
    """A stand-in node that answers 200 at once: what the agent alone can ship."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                body = b'{"status":"ok","batchID":"sink"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.ingestion_key = "sink"
        import threading

        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def install_size(workdir: Path) -> dict[str, float]:
    venv = workdir / "agent-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "pip", "install", "--quiet", "--disable-pip-version-check", str(ROOT / "deploy" / "agent-package")],
                   check=True, stderr=subprocess.DEVNULL)
    site = next((venv / "lib").glob("python*/site-packages"))
    ours = {"pip", "setuptools", "_distutils_hack", "distutils-precedence.pth"}
    size = sum(path.stat().st_size for entry in site.iterdir() if not entry.name.startswith(tuple(ours))
               for path in ([entry] if entry.is_file() else entry.rglob("*")) if path.is_file())
    probe = subprocess.run([venv / "bin" / "python", "-c",
                            "import timberyard.agent.runner, timberyard.handler, sys; "
                            "print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0]); "
                            "print(sorted(m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('chdb','pyarrow','numpy')))"],
                           capture_output=True, text=True, check=True)
    rss_kib, heavy = probe.stdout.split("\n", 1)
    packages = sorted(entry.name for entry in site.iterdir() if entry.name.endswith(".dist-info"))
    return {"installed_mib": round(size / 2**20, 2), "import_rss_mib": round(int(rss_kib) / 1024, 1),
            "heavy_modules_loaded": heavy.strip(), "distributions": [name.removesuffix(".dist-info") for name in packages]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=10_000, help="lines/s in the steady phase")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in the maximum-throughput phase")
    parser.add_argument("--quick", action="store_true", help="10 s steady, 200k lines")
    parser.add_argument("--install-size", action="store_true", help="also measure the agent-only install in a fresh venv")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.lines = 10, 200_000
    workdir = Path(tempfile.mkdtemp(prefix="timberyard-bench-agent-"))
    results: dict[str, object] = {"date": time.strftime("%Y-%m-%d"), "cores": os.cpu_count()}
    try:
        print("generating corpus lines ...", file=sys.stderr)
        lines = corpus_lines(200_000)
        server = start_server(workdir / "node")
        try:
            print(f"steady: {args.rate:,} lines/s for {args.seconds:g} s ...", file=sys.stderr)
            results["steady"] = steady(server, workdir, lines, args.rate, args.seconds)
            print(f"maximum: {args.lines:,} lines ...", file=sys.stderr)
            results["maximum"] = maximum(server, workdir, lines, args.lines)
        finally:
            server.stop()
        print(f"maximum into a stand-in node that answers at once: {args.lines:,} lines ...", file=sys.stderr)
        sink = Sink()
        try:
            results["maximum_sink"] = maximum(sink, workdir, lines, args.lines, name="sink")
        finally:
            sink.stop()
        if args.install_size:
            print("agent-only install in a fresh venv ...", file=sys.stderr)
            results["install"] = install_size(workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / f"agent-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json").write_text(json.dumps(results, indent=2))
    return 0


def report(results: dict) -> None:
    steady_figures, top = results["steady"], results["maximum"]
    cpu, rss = steady_figures["cpu_share_of_one_core"], steady_figures["rss_peak_mib"]
    print(f"\nsteady {steady_figures['rate_lines_s']:,} lines/s for {steady_figures['seconds']:g} s:")
    print(f"  agent CPU       {cpu:.1%} of one core   (target <= 10%)  {'PASS' if cpu <= 0.10 else 'FAIL'}")
    print(f"  agent RSS peak  {rss:.1f} MiB          (target <= 60 MiB) {'PASS' if rss <= 60 else 'FAIL'}")
    print(f"  last line acknowledged {steady_figures['last_line_lag_s']} s after it was written")
    print(f"maximum, {top['lines']:,} lines ({top['bytes'] / 2**20:.0f} MiB) in {FILES} files:")
    print(f"  file -> node    {top['lines_per_s']:,} lines/s ({top['mib_per_s']} MiB/s), agent RSS peak {top['rss_peak_mib']} MiB")
    print(f"  cat > /dev/null {top['cat_lines_per_s']:,} lines/s ({top['cat_mib_per_s']} MiB/s); agent/cat = {top['agent_over_cat']:.3f}")
    print(f"  agent CPU {top['agent_cpu_s']} s for {top['lines']:,} lines: the node sets this pace")
    sink = results["maximum_sink"]
    print(f"  into a stand-in node that answers at once: {sink['lines_per_s']:,} lines/s ({sink['mib_per_s']} MiB/s), "
          f"agent CPU {sink['agent_cpu_s']} s, RSS peak {sink['rss_peak_mib']} MiB; agent/cat = {sink['agent_over_cat']:.3f}")
    if "install" in results:
        install = results["install"]
        print(f"agent-only install: {install['installed_mib']} MiB in site-packages ({', '.join(install['distributions'])}); "
              f"RSS after importing the agent and handler {install['import_rss_mib']} MiB; heavy modules loaded: {install['heavy_modules_loaded']}")


if __name__ == "__main__":
    sys.exit(main())
