"""Delivery under faults: the agent killed again and again, the node away, the spool full.

At-least-once: nothing is lost, and duplicates appear only for the batches in flight when the
agent died (at most `batch_max_lines` lines per kill).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from agents import Agent, Writer, arrived, gaps_and_duplicates, rename_rotation
from servers import Server, free_port, start_server

pytestmark = pytest.mark.slow

BATCH = 500


def test_kill_9_in_a_loop_loses_nothing(server: Server, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    total, kills = 30_000, 20
    agent = Agent(server, tmp_path / "agent", {"files": [str(logs / "*.log")], "batch_max_lines": BATCH, "lookback": "start"}).start()
    writer = Writer(logs / "app.log", "killnine", total, 2_000, rotate_every=4_000, rotate=rename_rotation(logs / "app.log"))
    writer.start()
    for kill in range(kills):
        time.sleep(0.25 + (kill % 4) * 0.15)
        agent.kill()
        agent.start()
    writer.join()
    counts = arrived(server, "killnine", expect=total, timeout=60)
    agent.stop()
    missing, duplicates = gaps_and_duplicates(counts, range(total))
    print(f"kill -9 x{kills}: {len(missing)} lost, {duplicates} duplicates of {total}")
    assert missing == [], agent.output()
    assert duplicates <= kills * BATCH


def test_node_down_for_30_s_then_back(tmp_path: Path) -> None:
    node = start_server(tmp_path / "node")
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(node, tmp_path / "agent", {"files": [str(logs / "*.log")]}, metrics_port=free_port()).start()
    try:
        writer = Writer(logs / "app.log", "nodedown", 36_000, 1_000, rotate_every=10_000, rotate=rename_rotation(logs / "app.log"))
        writer.start()
        time.sleep(3)
        node.stop()
        time.sleep(30)
        spooled = agent.metrics()
        node.start()
        writer.join()
        counts = arrived(node, "nodedown", expect=36_000, timeout=90)
        missing, duplicates = gaps_and_duplicates(counts, range(36_000))
        assert spooled["timberyard_agent_batches_spooled_total"] > 0
        assert (missing[:10], len(missing), duplicates) == ([], 0, 0), agent.output()
    finally:
        agent.stop()
        if node.process is not None:
            node.stop()


def test_a_full_spool_pauses_reading_and_loses_nothing(tmp_path: Path) -> None:
    node = start_server(tmp_path / "node")
    logs = tmp_path / "logs"
    logs.mkdir()
    cap = 16 * 1024  # about 20 batches: the numbered lines compress to ~830 bytes per 200
    agent = Agent(node, tmp_path / "agent", {"files": [str(logs / "*.log")], "spool_max_bytes": cap, "batch_max_lines": 200},
                  metrics_port=free_port()).start()
    try:
        node.stop()
        writer = Writer(logs / "app.log", "spoolcap", 15_000, 20_000)
        writer.start()
        writer.join()
        time.sleep(3)
        metrics = agent.metrics()
        spool = sum(path.stat().st_size for path in agent.state_dir.joinpath("spool").glob("*.batch"))
        assert metrics["timberyard_agent_spool_full_waits_total"] >= 1
        assert spool <= cap + 4 * 1024  # one batch may go past the cap when the spool was empty
        assert metrics["timberyard_agent_lag_bytes"] > 0  # the rest waits in the file
        node.start()
        counts = arrived(node, "spoolcap", expect=15_000, timeout=60)
        missing, duplicates = gaps_and_duplicates(counts, range(15_000))
        assert (missing[:10], len(missing), duplicates) == ([], 0, 0), agent.output()
    finally:
        agent.stop()
        if node.process is not None:
            node.stop()


def test_deleted_files_are_closed_promptly_and_descriptors_stay_bounded(server: Server, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    for number in range(10_000):
        (busy / f"f{number:05d}.log").write_text(f"manyfiles seq={number:09d} one line\n")
    agent = Agent(server, tmp_path / "agent", {"files": [str(busy)], "lookback": "start", "max_open_files": 256},
                  metrics_port=free_port()).start()
    pid = agent.process.pid
    most = 0
    deadline = time.monotonic() + 90
    while len(arrived(server, "manyfiles")) < 10_000 and time.monotonic() < deadline:
        most = max(most, len(os.listdir(f"/proc/{pid}/fd")))
        time.sleep(0.5)
    counts = arrived(server, "manyfiles", expect=10_000)
    missing, duplicates = gaps_and_duplicates(counts, range(10_000))
    assert (missing[:10], duplicates) == ([], 0)
    assert most <= 256 + 32, f"{most} descriptors open"
    cpu_before = cpu_seconds(pid)
    time.sleep(5)
    idle_cpu = (cpu_seconds(pid) - cpu_before) / 5
    assert idle_cpu < 0.2, f"{idle_cpu:.0%} of a core while 10,000 files are idle"
    victim = busy / "f00000.log"
    with victim.open("a") as handle:
        handle.write("manyfiles seq=999999999 last\n")
    time.sleep(1.5)
    victim.unlink()
    time.sleep(2)
    still_open = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    agent.stop()
    assert not any("(deleted)" in target for target in still_open), still_open
    print(f"10,000 files: at most {most} descriptors, {idle_cpu:.1%} of a core idle")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_sigterm_with_the_node_down_exits_promptly(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_text("".join(f"downexit seq={n:09d}\n" for n in range(1000)))
    dead = Server(tmp_path / "nowhere", port=free_port(), credentials={"ingestion_key": "k", "service_key": "s"})
    agent = Agent(dead, tmp_path / "agent", {"files": [str(path)], "lookback": "start"}).start()
    time.sleep(1)
    began = time.monotonic()
    assert agent.stop(signal.SIGTERM) == 0
    assert time.monotonic() - began < 10
    assert list((agent.state_dir / "spool").glob("*.batch")), "unsent lines wait in the spool for the next start"
