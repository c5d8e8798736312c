"""The README's quick start, run as written against a real node: the commands are read from
README.md, so the test fails when the README and the product drift apart. The only changes are
the two keys (placeholders in the README) and the node's port (7080 there)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

from servers import Server

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "access.log"


def quick_start_commands() -> list[str]:
    """The commands of the quick start's second shell block, a continued line (`\\`) as one."""
    section = (REPO / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", section, re.S)[1]
    return [command for command in block.replace("\\\n", " ").splitlines() if command.strip()]


def as_run_here(script: str, server: Server) -> str:
    keys = f"export TIMBERYARD_INGESTION_KEY={server.ingestion_key} TIMBERYARD_SERVICE_KEY={server.service_key}"
    script = re.sub(r"^export TIMBERYARD_INGESTION_KEY=\.\.\. TIMBERYARD_SERVICE_KEY=\.\.\.", keys, script, count=1, flags=re.M)
    return script.replace("127.0.0.1:7080", f"127.0.0.1:{server.port}")


def test_the_readme_quick_start_works_as_written(server: Server) -> None:
    """Each command runs after the one before has finished and its lines are searchable, as
    when a person types them (the node stores a line within `batch_max_wait_ms`)."""
    activate, keys, *commands, tail_command = quick_start_commands()
    assert activate.startswith("source .venv/bin/activate") and keys.startswith("export ") and tail_command.startswith("timberyard tail")
    setup = as_run_here(f"{activate}\n{keys}\n", server)
    env = {**os.environ, "TIMBERYARD_URL": server.url}
    outputs = []
    for command in commands:
        assert "--key" not in command  # the keys come from the environment, as the README sets them
        ran = subprocess.run(["bash", "-e", "-c", setup + as_run_here(command, server)], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
        assert ran.returncode == 0, (command, ran.stderr)
        outputs.append(ran)
        server.wait_stored(0)
    sent, ingested, exported_text, searched = outputs

    assert json.loads(sent.stdout)["status"] == "ok"
    assert "sent 60 lines" in ingested.stderr
    sample = [line for line in SAMPLE.read_text().splitlines() if line]
    assert len(sample) == 60
    server_errors = [line for line in sample if re.search(r'" 5\d\d ', line)]
    assert len(server_errors) == 7
    # The export has the curl's line and the whole sample; the search exactly the 5xx lines.
    exported = [json.loads(line) for line in exported_text.stdout.splitlines()]
    assert sorted(line["_line"] for line in exported) == sorted([*sample, "GET /x 500"])
    assert {(line["_host"], line["_app"]) for line in exported} == {("web-1", "nginx")}
    found = searched.stdout.splitlines()
    assert len(found) == 8, found
    assert all(" web-1 nginx " in line for line in found)
    assert sorted(line.split(" ", 5)[5] for line in found) == sorted([*server_errors, "GET /x 500"])

    # The last command follows new error lines until Ctrl-C.
    tail = subprocess.Popen(
        ["bash", "-c", f"{setup}exec {tail_command}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    shown: list[str] = []

    def read() -> None:
        for line in tail.stdout or ():
            shown.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    marker = f"GET /after-the-quick-start {uuid.uuid4().hex} 503"
    try:
        deadline = time.monotonic() + 30
        while not any(marker in line for line in shown) and time.monotonic() < deadline and tail.poll() is None:
            # Sent until the tail, still connecting at first, shows it.
            assert server.ingest([{"line": marker, "app": "nginx", "level": "ERROR"}], params={"hostname": "web-1"}).status_code == 200
            time.sleep(1)
    finally:
        if tail.poll() is None:
            tail.send_signal(signal.SIGINT)
        tail.wait(timeout=30)
        reader.join(timeout=10)
    assert tail.stdout is not None and tail.stderr is not None
    with tail.stdout, tail.stderr:
        stderr = tail.stderr.read()
    assert any(marker in line and " web-1 nginx ERROR " in line for line in shown), (shown, stderr)
    assert tail.returncode == 0 and "Traceback" not in stderr, stderr
