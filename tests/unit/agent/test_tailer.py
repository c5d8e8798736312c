"""The tailer's start decisions, on real files: saved offsets, inode reuse, lookback."""

from __future__ import annotations

import os
import time
from pathlib import Path

from timberyard.agent.config import build
from timberyard.agent.identity import FileId
from timberyard.agent.metrics import Metrics
from timberyard.agent.state import State
from timberyard.agent.tailer import Tailer


def tail_once(tmp_path: Path, entries: dict, **settings: object) -> list[str]:
    state = State(tmp_path / "state").open()
    state.entries = entries
    config = build({"server": "http://node:1", "key": "k", "files": [str(tmp_path / "*.log")], "multiline": "off", **settings})
    tailer = Tailer(config, state, Metrics())
    out: list[str] = []
    tailer.tick(out, time.monotonic())
    tailer.close()
    state.close()
    return [line.split('"line":"')[1].split('"')[0] for line in out]


def test_a_saved_offset_resumes_and_a_reused_inode_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_text("one\ntwo\nthree\n")
    fid = FileId.of(os.stat(path))
    fd = os.open(path, os.O_RDONLY)
    from timberyard.agent.identity import check_at, head

    entry = {"path": str(path), "offset": 8, "head": list(head(fd)), "check": check_at(fd, 8), "seen": time.time()}
    os.close(fd)
    assert tail_once(tmp_path, {fid.key: entry}) == ["three"]
    reused = {**entry, "head": [14, "another file's head"]}  # the same inode, another file: it was deleted and replaced
    assert tail_once(tmp_path, {fid.key: reused}) == ["one", "two", "three"]


def test_lookback_for_files_never_seen(tmp_path: Path) -> None:
    (tmp_path / "small.log").write_text("small\n")
    (tmp_path / "big.log").write_text("big\n" * 5000)
    assert tail_once(tmp_path, {}, lookback="smallfiles") == ["small"]
    assert tail_once(tmp_path, {}, lookback="tail") == []
    assert len(tail_once(tmp_path, {}, lookback="start")) == 5001


def test_a_new_log_rotated_before_the_agent_first_saw_it_is_read_whole(tmp_path: Path) -> None:
    state = State(tmp_path / "state").open()
    config = build({"server": "http://node:1", "key": "k", "files": [str(tmp_path / "*.log")], "multiline": "off"})
    tailer = Tailer(config, state, Metrics())
    out: list[str] = []
    tailer.tick(out, time.monotonic())  # the first scan: nothing there yet
    (tmp_path / "app.log").write_text("first\n")
    os.replace(tmp_path / "app.log", tmp_path / "app.log.1")  # rotated before the next scan
    (tmp_path / "app.log").write_text("second\n")
    tailer.tick(out, time.monotonic() + config.scan_interval)
    tailer.close()
    state.close()
    assert sorted(line.split('"line":"')[1].split('"')[0] for line in out) == ["first", "second"]
