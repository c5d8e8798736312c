"""What the agent makes of lines: partial and very long lines, stack traces, rules, container
logs with their pod's labels, the journal, LogDNA's configuration, and `ingest --follow`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from agents import Agent, arrived
from servers import Server, free_port


def lines_of(server: Server, text: str, expect: int = 1, timeout: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        found = server.export(query=f'"{text}"')
        if len(found) >= expect or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_a_partial_last_line_waits_for_its_newline_or_the_timeout(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.touch()
    agent = Agent(server, tmp_path / "agent", {"files": [str(path)], "partial_line_timeout": 3}).start()
    with path.open("a") as handle:
        handle.write("partialone begins")
        handle.flush()
        time.sleep(1.5)
        assert lines_of(server, "partialone", timeout=0) == []  # held: no newline yet
        handle.write(" and ends\n")
        handle.write("partialtwo never ends")
    joined = lines_of(server, "partialone")
    assert [line["_line"] for line in joined] == ["partialone begins and ends"]
    assert [line["_line"] for line in lines_of(server, "partialtwo", timeout=10)] == ["partialtwo never ends"]
    agent.stop()


def test_a_very_long_line_is_cut_counted_and_the_next_lines_flow(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.touch()
    agent = Agent(server, tmp_path / "agent", {"files": [str(path)], "max_line_bytes": 4096}, metrics_port=free_port()).start()
    with path.open("a") as handle:
        handle.write("longline " + "y" * 5_000_000 + "\n")
        handle.write("afterlong next line\n")
    assert lines_of(server, "afterlong")
    long = lines_of(server, "longline")[0]["_line"]
    assert len(long.encode()) <= 4096 and long.endswith("[timberyard-agent: truncated]")
    assert agent.metrics()["timberyard_agent_lines_truncated_total"] == 1
    peak_kib = int(Path(f"/proc/{agent.process.pid}/status").read_text().split("VmHWM:")[1].split()[0])
    assert peak_kib < 120_000  # the 5 MB line was never held whole
    agent.stop()


JAVA = """2026-12-01 10:00:00 ERROR javatrace request failed
java.lang.IllegalStateException: boom
\tat com.shop.Checkout.pay(Checkout.java:42)
\tat com.shop.Api.handle(Api.java:7)
Caused by: java.io.IOException: reset
\tat com.shop.Db.query(Db.java:3)
\t... 2 more
"""
PYTHON = """2026-12-01 10:00:01 ERROR pythontrace charge failed
Traceback (most recent call last):
  File "/srv/app.py", line 3, in <module>
    charge()
ValueError: card declined
"""
GO = """panic: gotrace nil map

goroutine 1 [running]:
main.main()
\t/srv/main.go:8 +0x1d
"""


def test_stack_traces_are_one_entry_each(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.touch()
    agent = Agent(server, tmp_path / "agent", {"files": [str(path)]}).start()
    with path.open("a") as handle:
        handle.write(JAVA + PYTHON + GO + "2026-12-01 10:00:02 INFO aftertraces fine\n")
    for tag, text in (("javatrace", JAVA), ("pythontrace", PYTHON), ("gotrace", GO)):
        found = lines_of(server, tag)
        assert [line["_line"] for line in found] == [text.rstrip("\n")], tag
    assert len(lines_of(server, "aftertraces")) == 1
    agent.stop()


def test_line_rules_exclude_and_redact_before_lines_leave_the_host(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.touch()
    agent = Agent(server, tmp_path / "agent", {"files": [str(path)], "exclude_lines": ["healthcheck"], "redact": [r"\d{3}-\d{2}-\d{4}"]}).start()
    with path.open("a") as handle:
        handle.write("ruleline healthcheck ok\nruleline patient ssn 123-45-6789 admitted\n")
    found = lines_of(server, "ruleline")
    time.sleep(1)
    assert [line["_line"] for line in lines_of(server, "ruleline")] == ["ruleline patient ssn [REDACTED] admitted"]
    assert found
    agent.stop()


class FakeKubernetesApi(BaseHTTPRequestHandler):
    """The one call the agent makes: GET /api/v1/namespaces/NS/pods/POD."""

    def do_GET(self) -> None:  # noqa: N802
        parts = self.path.strip("/").split("/")
        body = json.dumps({"metadata": {"name": parts[-1], "namespace": parts[-3], "labels": {"team": "payments"},
                                        "annotations": {"owner": "sre"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_container_logs_carry_pod_origin_labels_and_reassembled_lines(server: Server, tmp_path: Path) -> None:
    api = ThreadingHTTPServer(("127.0.0.1", 0), FakeKubernetesApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    containers = tmp_path / "containers"
    containers.mkdir()
    name = f"web-5f6d_shop_nginx-{'cd' * 32}.log"
    agent = Agent(server, tmp_path / "agent", {"kubernetes": True, "kubernetes_path": str(containers),
                                                "kubernetes_api": f"http://127.0.0.1:{api.server_port}"}).start()
    second = int(time.time()) - 60
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    with (containers / name).open("a") as handle:
        handle.write(f"{stamp}.123456789Z stdout P podline first half \n")
        handle.write(f"{stamp}.200000000Z stderr F podline on stderr\n")
        handle.write(f"{stamp}.300000000Z stdout F and second half\n")
        handle.write(json.dumps({"log": "podline from docker\n", "stream": "stdout", "time": f"{stamp}.5Z"}) + "\n")
    found = {line["_line"]: line for line in lines_of(server, "podline", expect=3)}
    api.shutdown()
    api.server_close()
    agent.stop()
    assert set(found) == {"podline first half and second half", "podline on stderr", "podline from docker"}
    line = found["podline first half and second half"]
    assert line["_file"] == f"/var/log/containers/{name}" and line["_app"] == "nginx"
    assert abs(line["_ts"] - (second * 1000 + 123)) < 1000  # the runtime's time (the node corrects the agent's clock by `now`)
    assert line["_label"] == {"team": "payments"} and line["_annotation"] == {"owner": "sre"}
    hit = httpx.get(server.url + "/api/v1/search", params={"q": "podline", "from": "0", "to": "now"}, auth=(server.service_key, "")).json()["lines"][0]
    assert hit["k8s"] == {"namespace": "shop", "pod": "web-5f6d", "container": "nginx", "node": "agent-test"}


FAKE_JOURNALCTL = r'''#!/usr/bin/env python3
"""Stands in for journalctl: prints entries after --after-cursor, then follows (sleeps)."""
import json, sys, time
after = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--after-cursor=")), None)
start = int(after.split("-")[1]) + 1 if after else 0
for n in range(start, 10):
    print(json.dumps({"MESSAGE": f"journalline seq={n:09d}", "__CURSOR": f"c-{n}", "PRIORITY": "3",
                      "SYSLOG_IDENTIFIER": "sshd", "__REALTIME_TIMESTAMP": str(1764583200000000 + n), "_PID": "42"}), flush=True)
time.sleep(600)
'''


def test_the_journal_is_followed_and_resumed_from_its_cursor(server: Server, tmp_path: Path) -> None:
    journalctl = tmp_path / "journalctl"
    journalctl.write_text(FAKE_JOURNALCTL)
    journalctl.chmod(0o755)
    agent = Agent(server, tmp_path / "agent", {"journald": True, "journalctl": str(journalctl)}).start()
    assert len(arrived(server, "journalline", expect=10, timeout=15)) == 10
    agent.stop()
    agent.start()  # resumes after the saved cursor: nothing twice
    time.sleep(2)
    counts = arrived(server, "journalline")
    agent.stop()
    assert sorted(counts.values()) == [1] * 10
    line = lines_of(server, "journalline")[0]
    assert (line["_app"], line["level"]) == ("sshd", "ERROR")


def test_a_logdna_user_switches_by_changing_only_the_host(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("logdnaswitch seq=000000001 hello\n")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("LOGDNA_", "MZ_", "TIMBERYARD_"))},
           "LOGDNA_INGESTION_KEY": server.ingestion_key, "LOGDNA_HOST": f"127.0.0.1:{server.port}", "LOGDNA_USE_SSL": "false",
           "LOGDNA_LOG_DIRS": str(tmp_path), "LOGDNA_LOOKBACK": "start", "LOGDNA_DB_PATH": str(tmp_path / "state"),
           "LOGDNA_TAGS": "migrated", "TIMBERYARD_AGENT_CONFIG": str(tmp_path / "none.yaml")}
    process = subprocess.Popen([sys.executable, "-m", "timberyard", "agent"], env=env, stderr=subprocess.DEVNULL)
    try:
        found = lines_of(server, "logdnaswitch")
    finally:
        process.terminate()
        process.wait(20)
    assert found and found[0]["_tag"] == ["migrated"]


def test_ingest_follow_sends_each_line_within_a_second(server: Server, tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.touch()
    process = subprocess.Popen([sys.executable, "-m", "timberyard", "ingest", "--follow", str(path), "--server", server.url,
                                "--key", server.ingestion_key], stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        delays = []
        for number in range(3):
            with path.open("a") as handle:
                handle.write(f"followline seq={number:09d}\n")
            written = time.monotonic()
            while len(lines_of(server, f"seq={number:09d}", timeout=0)) < 1 and time.monotonic() - written < 10:
                time.sleep(0.05)
            delays.append(time.monotonic() - written)
    finally:
        process.terminate()
        assert process.wait(20) == 0
    assert max(delays) < 2.0, delays  # within a second of the write, plus the node's insert and our polling of its export


def test_a_pipe_into_ingest_is_sent_without_waiting_for_a_full_batch(server: Server) -> None:
    process = subprocess.Popen([sys.executable, "-m", "timberyard", "ingest", "--server", server.url, "--key", server.ingestion_key],
                               stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert process.stdin is not None
    process.stdin.write(b"pipedline one\npipedline two\npipedline three\n")
    process.stdin.flush()
    assert len(lines_of(server, "pipedline", expect=3, timeout=5)) == 3
    process.stdin.close()
    assert process.wait(20) == 0
