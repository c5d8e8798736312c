"""A newcomer's first `timberyard serve`, as a real process: a busy port changes nothing, the
one-time secrets come with a curl that works as printed, and the node says where its web UI is."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import httpx

from servers import TIMBERYARD, free_port, run_cli, start_server


def wait_for_text(path: Path, needle: str, process: subprocess.Popen[bytes], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if needle in text:
            return text
        assert process.poll() is None, f"serve exited with {process.returncode}: {text[-3000:]}"
        time.sleep(0.1)
    raise AssertionError(f"{needle!r} not printed within {timeout} s: {path.read_text()[-3000:]}")


def test_a_busy_port_fails_before_the_first_start_initialises_anything(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        refused = run_cli("serve", "--data-dir", str(data_dir), "--http", f"127.0.0.1:{port}", check=False)
    stderr = refused.stderr.decode()
    assert refused.returncode == 1 and "Traceback" not in stderr, stderr
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in stderr, stderr
    assert refused.stdout == b"", "no secrets may be printed by a start that fails"
    assert not (data_dir / "metadata.sqlite3").exists()
    # Nothing was initialised, so `init` (or the next `serve`) still creates the account.
    assert json.loads(run_cli("init", "--data-dir", str(data_dir), "--json").stdout)["service_key"]


def test_the_first_start_prints_secrets_a_working_curl_and_the_web_ui(tmp_path: Path) -> None:
    data_dir, port = tmp_path / "fresh", free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*TIMBERYARD, "serve", "--data-dir", str(data_dir), "--http", f"127.0.0.1:{port}"],
            stdout=stdout, stderr=stderr, env={**os.environ, "TIMBERYARD_LOG_FORMAT": "text", "TIMBERYARD_BATCH_MAX_WAIT_MS": "100"},
        )
    try:
        printed = wait_for_text(out, "Web UI and API:", process)
        assert f"Web UI and API: http://127.0.0.1:{port}/" in printed
        service_key = re.search(r"service key +: (\S+)", printed).group(1)  # type: ignore[union-attr]
        # The curl exactly as printed (two lines joined by the shell's backslash-newline).
        curl = printed[printed.index("curl -u"): printed.index("Web UI and API:")]
        wait_for_text(err, "node ready", process)
        sent = subprocess.run(["sh", "-c", curl], capture_output=True, timeout=30)
        assert sent.returncode == 0 and b'"status":"ok"' in sent.stdout, sent
        hostname = subprocess.run(["hostname"], capture_output=True, text=True, check=True).stdout.strip()
        deadline = time.monotonic() + 30
        while True:
            exported = httpx.get(
                f"http://127.0.0.1:{port}/v1/export", params={"from": 0, "to": 9_999_999_999_999}, auth=(service_key, ""), timeout=10
            ).text
            if exported or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        line = json.loads(exported.splitlines()[0])
        assert (line["_line"], line["_host"]) == ("hello", hostname)
        # log_format = "text" shows the fields of a record, not only its message.
        ready = next(entry for entry in err.read_text().splitlines() if "node ready" in entry)
        assert f"url=http://127.0.0.1:{port}/ data_dir={data_dir} store=chdb://{data_dir}/store wal_encrypted=False" in ready, ready
    finally:
        process.terminate()
        process.wait(timeout=60)


def test_logs_are_json_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    """The default `log_format = "auto"`: a service manager or a pipe gets one JSON object a line."""
    server = start_server(tmp_path / "node")
    try:
        entries = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    finally:
        server.stop()
    [ready] = [entry for entry in entries if entry["msg"] == "node ready"]
    assert ready["url"] == f"http://127.0.0.1:{server.port}/" and ready["level"] == "info"
