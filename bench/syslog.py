"""Syslog benchmark: a real `timberyard serve` fed over TCP, UDP and RELP, with rsyslog as the
reference in the same run.

    .venv/bin/python bench/syslog.py                      # 1M messages per phase, 4 TCP senders
    .venv/bin/python bench/syslog.py --messages 100000    # a quick check

One phase after another (never two at once: the machine has two cores):
1. generate the messages (bench/corpus.py lines as RFC 5424: PRI from the level, the corpus's
   time, host and app) and frame every sender's stream before any timing;
2. reference: rsyslogd (imtcp -> omfile, `sync="on"` so a batch is on disk before the next, as
   our write-ahead log) receives the same octet-counted stream from the same senders; timed
   until its file holds every message;
3. timberyard over TCP (octet counting): timed until every message is durable in the
   write-ahead log (`timberyard_ingest_stored_lines_total`), and until the store has them;
4. timberyard over UDP at a steady --udp-rate: received, stored, and lost as counted by the
   node and by the kernel;
5. timberyard over RELP: rsyslogd (imtcp -> omrelp) forwards the stream; timed until durable.
Prints the figures and the targets, and writes them to bench/out/syslog-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import corpus
from ingest import (
    RunFailed,
    ServerProcess,
    console,
    free_port,
    init_data_dir,
    new_report,
    parse_metrics,
    timberyard_command,
)
from rich.table import Table

BENCH = Path(__file__).resolve().parent
TARGETS = {"tcp_messages_per_s": 80_000, "tcp_over_rsyslog": 0.5, "udp_loss": 0.001, "relp_messages_per_s": 30_000}
SEVERITY = {"EMERGENCY": 0, "ALERT": 1, "CRITICAL": 2, "ERROR": 3, "WARN": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7}
LOCAL0 = 16


def messages(count: int, seed: int, end_ms: int) -> list[bytes]:
    """The corpus's lines as RFC 5424 messages, in time order."""
    out = []
    for item in corpus.generate(count, seed, end_ms, 23 * 3_600_000):
        pri = LOCAL0 * 8 + SEVERITY.get(item.get("level") or "INFO", 6)
        stamp = datetime.fromtimestamp(item["timestamp"] / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        out.append(f"<{pri}>1 {stamp} {item['hostname']} {item.get('app') or '-'} - - - {item['line']}".encode())
    return out


def octet_streams(all_messages: list[bytes], senders: int) -> list[bytes]:
    return [b"".join(b"%d %s" % (len(m), m) for m in all_messages[index::senders]) for index in range(senders)]


def send_streams(port: int, streams: list[bytes]) -> None:
    def send(stream: bytes) -> None:
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(stream)

    threads = [threading.Thread(target=send, args=(stream,)) for stream in streams]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# -- rsyslog ----------------------------------------------------------------------------------


class Rsyslogd:
    def __init__(self, directory: Path, ruleset: str, modules: str = "") -> None:
        self.directory, self.port = directory, free_port()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "rsyslog.conf").write_text(
            f'global(workDirectory="{directory}" maxMessageSize="64k")\nmodule(load="imtcp")\n{modules}\n'
            f'main_queue(queue.size="200000")\n'
            f'input(type="imtcp" port="{self.port}" address="127.0.0.1" ruleset="bench")\n'
            f'ruleset(name="bench" queue.type="LinkedList" queue.size="200000") {{ {ruleset} }}\n'
        )
        self.process = subprocess.Popen(
            ["rsyslogd", "-n", "-f", str(directory / "rsyslog.conf"), "-i", str(directory / "pid")],
            stdout=subprocess.DEVNULL, stderr=open(directory / "rsyslogd.log", "wb"),
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RunFailed(f"rsyslogd did not start: {(directory / 'rsyslogd.log').read_text()[-2000:]}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


def count_lines(path: Path, target: int, timeout: float) -> float | None:
    """Seconds until `path` has `target` lines (read as it grows), or None."""
    started, seen, offset = time.perf_counter(), 0, 0
    while time.perf_counter() - started < timeout:
        if path.exists():
            with path.open("rb") as file:
                file.seek(offset)
                chunk = file.read()
            offset += len(chunk)
            seen += chunk.count(b"\n")
            if seen >= target:
                return time.perf_counter() - started
        time.sleep(0.02)
    return None


def rsyslog_reference(streams: list[bytes], count: int, tmp: Path, timeout: float) -> dict:
    output = tmp / "rsyslog-out.log"
    daemon = Rsyslogd(tmp / "rsyslog-reference", f'action(type="omfile" file="{output}" sync="on" template="RSYSLOG_FileFormat")')
    try:
        started = time.perf_counter()
        sender = threading.Thread(target=send_streams, args=(daemon.port, streams))
        sender.start()
        seconds = count_lines(output, count, timeout)
        sender.join()
        if seconds is None:
            raise RunFailed(f"rsyslog wrote fewer than {count} lines within {timeout:.0f} s")
        return {"seconds": seconds, "messages_per_s": count / seconds, "started": started}
    finally:
        daemon.stop()


# -- timberyard -------------------------------------------------------------------------------


# Node-wide /metrics are the operator's (`metrics_token`), not any account's: the run sets one.
METRICS_TOKEN = secrets.token_hex(24)


class Watcher:
    def __init__(self, server: ServerProcess) -> None:
        self.server, self.headers = server, {"Authorization": f"Bearer {METRICS_TOKEN}"}

    def metrics(self) -> dict[str, float]:
        status, _, body = self.server.request("GET", "/metrics", self.headers)
        if status != 200:
            raise RunFailed(f"GET /metrics answered {status}")
        return parse_metrics(body.decode())

    def until(self, name: str, target: float, timeout: float, interval: float = 0.05) -> float | None:
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            if self.metrics().get(name, 0) >= target:
                return time.perf_counter() - started
            time.sleep(interval)
        return None


def tcp_phase(server: ServerProcess, watcher: Watcher, port: int, streams: list[bytes], count: int, timeout: float) -> dict:
    before = watcher.metrics()
    cpu = server.cpu_seconds()
    sender = threading.Thread(target=send_streams, args=(port, streams))
    started = time.perf_counter()
    sender.start()
    durable = watcher.until("timberyard_ingest_stored_lines_total", before.get("timberyard_ingest_stored_lines_total", 0) + count, timeout)
    stored = watcher.until("timberyard_store_lines_total", before.get("timberyard_store_lines_total", 0) + count, timeout)
    sender.join()
    if durable is None:
        raise RunFailed(f"TCP: not every message was durable within {timeout:.0f} s")
    cpu_used = (server.cpu_seconds() or 0) - (cpu or 0)
    in_store = (stored or 0) + (durable if stored is not None else 0)
    return {"durable_seconds": durable, "messages_per_s": count / durable, "in_store_seconds": in_store,
            "in_store_messages_per_s": count / in_store if stored is not None else None,
            "server_cpu_us_per_message": 1e6 * cpu_used / count, "wall_started": started}


def udp_phase(watcher: Watcher, port: int, all_messages: list[bytes], rate: int, timeout: float) -> dict:
    before = watcher.metrics()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        started = time.perf_counter()
        burst = max(rate // 100, 1)
        for index in range(0, len(all_messages), burst):
            for message in all_messages[index : index + burst]:
                client.sendto(message, ("127.0.0.1", port))
            time.sleep(max(0.0, started + (index + burst) / rate - time.perf_counter()))
        sending = time.perf_counter() - started
    count = len(all_messages)

    def accounted() -> tuple[float, float]:
        now = watcher.metrics()
        received = now.get("timberyard_syslog_messages_total", 0) - before.get("timberyard_syslog_messages_total", 0)
        lost = sum(now.get(name, 0) - before.get(name, 0) for name in ("timberyard_syslog_dropped_total", "timberyard_syslog_udp_socket_drops"))
        return received, lost

    deadline = time.perf_counter() + timeout
    received, lost = accounted()
    while received + lost < count and time.perf_counter() < deadline:
        time.sleep(0.2)
        received, lost = accounted()
    return {"sent": count, "rate_sent": count / sending, "received": received, "lost_counted": lost,
            "loss": (count - received) / count}


def relp_phase(watcher: Watcher, relp_port: int, streams: list[bytes], count: int, tmp: Path, timeout: float, window: int) -> dict:
    before = watcher.metrics().get("timberyard_ingest_stored_lines_total", 0)
    forwarder = Rsyslogd(
        tmp / "rsyslog-relp",
        f'action(type="omrelp" target="127.0.0.1" port="{relp_port}" windowSize="{window}" template="RSYSLOG_SyslogProtocol23Format")',
        modules='module(load="omrelp")',
    )
    try:
        sender = threading.Thread(target=send_streams, args=(forwarder.port, streams))
        sender.start()
        durable = watcher.until("timberyard_ingest_stored_lines_total", before + count, timeout, interval=0.1)
        sender.join()
    finally:
        forwarder.stop()
    if durable is None:
        raise RunFailed(f"RELP: not every message was durable within {timeout:.0f} s")
    return {"durable_seconds": durable, "messages_per_s": count / durable, "window": window}


def run(args: argparse.Namespace, report: dict) -> None:
    if shutil.which("rsyslogd") is None:
        raise RunFailed("rsyslogd is not installed (apt-get install rsyslog rsyslog-relp)")
    cmd = timberyard_command(args.timberyard)
    console.print(f"[bold]timberyard syslog benchmark[/bold]: {args.messages:,} messages, {args.senders} TCP senders")
    started = time.perf_counter()
    all_messages = messages(args.messages, args.seed, int(time.time() * 1000))
    streams = octet_streams(all_messages, args.senders)
    report["corpus"] = {"messages": len(all_messages), "mean_bytes": sum(map(len, all_messages)) / len(all_messages),
                        "seconds": time.perf_counter() - started}
    console.print(f"messages: {len(all_messages):,}, {report['corpus']['mean_bytes']:.0f} bytes each on average")
    tmp = Path(tempfile.mkdtemp(prefix="timberyard-bench-syslog-"))
    try:
        console.print("reference: rsyslogd imtcp -> omfile (sync) …")
        report["rsyslog"] = rsyslog_reference(streams, len(all_messages), tmp, args.timeout)
        console.print(f"  {report['rsyslog']['messages_per_s']:,.0f} messages/s")
        init_data_dir(cmd, tmp / "node")
        ports = {"tcp": free_port(), "udp": free_port(), "relp": free_port()}
        env = {"TIMBERYARD_SYSLOG_TCP": f"127.0.0.1:{ports['tcp']}", "TIMBERYARD_SYSLOG_UDP": f"127.0.0.1:{ports['udp']}",
               "TIMBERYARD_SYSLOG_RELP": f"127.0.0.1:{ports['relp']}", "TIMBERYARD_SYSLOG_ACCOUNT": "default", "TIMBERYARD_METRICS_TOKEN": METRICS_TOKEN}
        server = ServerProcess(cmd, tmp / "node", args.out / f"syslog-{report['stamp']}-server.log", env)
        server.start()
        try:
            watcher = Watcher(server)
            console.print("timberyard over TCP (octet counting) …")
            report["tcp"] = tcp_phase(server, watcher, ports["tcp"], streams, len(all_messages), args.timeout)
            console.print(f"  {report['tcp']['messages_per_s']:,.0f} messages/s durable")
            console.print(f"timberyard over UDP at {args.udp_rate:,}/s …")
            report["udp"] = udp_phase(watcher, ports["udp"], all_messages, args.udp_rate, args.timeout)
            console.print(f"  loss {report['udp']['loss']:.4%}")
            console.print(f"rsyslogd imtcp -> omrelp (windowSize {args.relp_window}) -> timberyard RELP …")
            report["relp"] = relp_phase(watcher, ports["relp"], streams, len(all_messages), tmp, args.timeout, args.relp_window)
            console.print(f"  {report['relp']['messages_per_s']:,.0f} messages/s durable")
            report["server_peak_rss_bytes"] = server.rss_max
        finally:
            server.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def print_report(report: dict) -> None:
    tcp, rsyslog, udp, relp = report["tcp"], report["rsyslog"], report["udp"], report["relp"]
    ratio = tcp["messages_per_s"] / rsyslog["messages_per_s"]
    table = Table(title="syslog")
    for column in ("figure", "measured", "target", ""):
        table.add_column(column)
    rows = [
        ("TCP, messages/s until durable", f"{tcp['messages_per_s']:,.0f}", f">= {TARGETS['tcp_messages_per_s']:,}", tcp["messages_per_s"] >= TARGETS["tcp_messages_per_s"]),
        ("TCP, messages/s until in the store", f"{tcp['in_store_messages_per_s'] or 0:,.0f}", "", None),
        ("rsyslog imtcp -> omfile (sync), messages/s", f"{rsyslog['messages_per_s']:,.0f}", "", None),
        ("TCP / rsyslog", f"{ratio:.2f}", f">= {TARGETS['tcp_over_rsyslog']}", ratio >= TARGETS["tcp_over_rsyslog"]),
        ("server CPU per TCP message, us", f"{tcp['server_cpu_us_per_message']:.1f}", "", None),
        (f"UDP loss at {udp['rate_sent']:,.0f} messages/s", f"{udp['loss']:.4%} ({udp['sent'] - udp['received']:,.0f}; counted {udp['lost_counted']:,.0f})", f"<= {TARGETS['udp_loss']:.1%}", udp["loss"] <= TARGETS["udp_loss"]),
        (f"RELP (omrelp windowSize {relp['window']}), messages/s until durable", f"{relp['messages_per_s']:,.0f}", f">= {TARGETS['relp_messages_per_s']:,}", relp["messages_per_s"] >= TARGETS["relp_messages_per_s"]),
        ("server peak RSS", f"{report['server_peak_rss_bytes'] / 2**20:,.0f} MiB", "", None),
    ]
    for figure, measured, target, passed in rows:
        table.add_row(figure, measured, target, "" if passed is None else ("PASS" if passed else "MISS"))
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Syslog benchmark of timberyard, rsyslog as the reference (see bench/README.md).")
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages per phase (default 1000000)")
    parser.add_argument("--senders", type=int, default=4, help="TCP connections (default 4)")
    parser.add_argument("--udp-rate", type=int, default=20_000, help="UDP messages per second (default 20000)")
    parser.add_argument("--relp-window", type=int, default=8192, help="omrelp windowSize (default 8192, as docs/syslog.md advises; rsyslog's own default is 128)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900, help="seconds allowed per phase (default 900)")
    parser.add_argument("--timberyard", help="the timberyard executable (default: the one next to this Python)")
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    report = new_report(args, time.gmtime(), TARGETS)
    try:
        run(args, report)
    except RunFailed as exc:
        console.print(f"[red]run failed: {exc}[/red]")
        return 1
    finally:
        path = args.out / f"syslog-{report['stamp']}.json"
        path.write_text(json.dumps(report, indent=2, default=str))
        console.print(f"report: {path}")
    print_report(report)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
