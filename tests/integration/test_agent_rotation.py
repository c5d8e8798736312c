"""The agent follows files through every kind of rotation a real host does, against a real node.

Lines carry sequence numbers; the store is read back through the export API and every number
counted, so a gap or a duplicate is seen exactly. Zero lost lines in every mode but
copytruncate, whose loss window is measured and bounded (docs/agent.md).
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from pathlib import Path

import pytest

from agents import Agent, Writer, arrived, gaps_and_duplicates, line, rename_rotation
from servers import Server

pytestmark = pytest.mark.slow


def test_rename_rotation_loses_and_duplicates_nothing(server: Server, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    agent = Agent(server, tmp_path / "agent", {"files": [str(logs / "*.log")], "lookback": "start"}).start()
    writer = Writer(logs / "app.log", "rotrename", 20_000, 5_000, rotate_every=3_000, rotate=rename_rotation(logs / "app.log"))
    writer.start()
    writer.join()
    counts = arrived(server, "rotrename", expect=20_000)
    agent.stop()
    assert writer.error is None
    missing, duplicates = gaps_and_duplicates(counts, range(20_000))
    assert (missing[:10], duplicates) == ([], 0), agent.output()


def test_rotations_back_to_back_within_one_poll(server: Server, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "app.log"
    agent = Agent(server, tmp_path / "agent", {"files": [str(path)], "poll_interval": 1.0}).start()
    time.sleep(1.5)
    rotate = rename_rotation(path, keep=5)
    number = 0
    handle = path.open("a")
    for _ in range(4):  # four files live at the path in well under one poll interval
        for _ in range(50):
            handle.write(line("backtoback", number) + "\n")
            number += 1
        handle.flush()
        handle = rotate(handle)
    handle.close()
    counts = arrived(server, "backtoback", expect=number, timeout=20)
    agent.stop()
    missing, duplicates = gaps_and_duplicates(counts, range(number))
    assert (missing, duplicates) == ([], 0), agent.output()


def test_restart_in_the_middle_of_a_rotation(server: Server, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "app.log"
    path.write_text("".join(line("midrotation", n) + "\n" for n in range(1000)))
    agent = Agent(server, tmp_path / "agent", {"files": [str(path)], "lookback": "start"}).start()
    arrived(server, "midrotation", expect=1000)
    agent.stop()
    with path.open("a") as handle:  # written while the agent is down, then rotated away
        handle.writelines(line("midrotation", n) + "\n" for n in range(1000, 1500))
    os.replace(path, logs / "app.log.1")
    path.write_text("".join(line("midrotation", n) + "\n" for n in range(1500, 2000)))
    agent.start()
    counts = arrived(server, "midrotation", expect=2000, timeout=20)
    agent.stop()
    missing, duplicates = gaps_and_duplicates(counts, range(2000))
    assert (missing[:10], duplicates) == ([], 0), agent.output()


def test_copytruncate_loss_is_measured_and_bounded(server: Server, tmp_path: Path) -> None:
    """logrotate's copytruncate while lines keep coming: the agent reads the lines the truncation
    left only in the copy; what is lost is at most what arrives between copy and truncate."""
    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "app.log"
    agent = Agent(server, tmp_path / "agent", {"files": [str(logs / "*.log*")], "exclude": []}).start()
    copies = []

    def copytruncate(handle):
        copy = logs / f"app.log.{len(copies) + 1}"
        shutil.copyfile(path, copy)  # lines written from here until the truncate are in neither file
        copies.append(copy)
        os.truncate(path, 0)
        return handle  # the writer keeps its O_APPEND descriptor, as with copytruncate

    writer = Writer(path, "copytrunc", 20_000, 5_000, rotate_every=4_000, rotate=copytruncate)
    writer.start()
    writer.join()
    counts = arrived(server, "copytrunc", expect=20_000, timeout=20)
    metrics = agent_metrics_after(agent)
    missing, duplicates = gaps_and_duplicates(counts, range(20_000))
    print(f"copytruncate: {len(missing)} lost of 20,000 over {len(copies)} rotations; {duplicates} duplicates; {metrics}")
    assert duplicates == 0, "a copy must not be sent again"
    assert len(missing) <= 10 * len(copies), ranges(missing)


def agent_metrics_after(agent: Agent) -> str:
    agent.stop()
    text = agent.log.read_text()
    return f"{text.count('left only there')} copies read"


def test_truncated_while_stopped_is_read_from_the_start(server: Server, tmp_path: Path) -> None:
    """Truncated and written again past the old offset while the agent was down: the size alone
    would not tell; the content fingerprint does."""
    path = tmp_path / "app.log"
    path.write_text("".join(line("truncstop", n, pad=10) + "\n" for n in range(100)))
    agent = Agent(server, tmp_path / "agent", {"files": [str(path)], "lookback": "start"}).start()
    arrived(server, "truncstop", expect=100)
    agent.stop()
    path.write_text("".join(line("truncstop", n, pad=40) + "\n" for n in range(100, 300)))  # longer than before
    agent.start()
    counts = arrived(server, "truncstop", expect=300, timeout=15)
    agent.stop()
    missing, duplicates = gaps_and_duplicates(counts, range(300))
    assert (missing, duplicates) == ([], 0), agent.output()


def test_inode_reuse_is_read_as_a_new_file(server: Server, tmp_path: Path) -> None:
    """A file deleted while the agent was stopped and another created on its inode: the saved
    offset is not applied to it (its head differs); it is read from its start. (While the agent
    runs it holds a deleted file open until read, so its inode cannot be reused before the agent
    let it go and forgot it; a file closed for the descriptor budget is checked by content.)"""
    logs = tmp_path / "logs"
    logs.mkdir()
    (tmp_path / "aside").mkdir()  # before the unlink: a new directory would take the freed inode
    path = logs / "app.log"
    path.write_text(numbered("inodereuse", 0, 200, pad=60))
    agent = Agent(server, tmp_path / "agent", {"files": [str(path)], "lookback": "start"}).start()
    arrived(server, "inodereuse", expect=200)
    agent.stop()
    inode = path.stat().st_ino
    path.unlink()
    if not on_inode(path, inode, numbered("inodereuse", 200, 500, pad=100)):  # longer than the saved offset
        pytest.skip("this filesystem did not hand the freed inode out again (tmpfs never does)")
    agent.start()
    counts = arrived(server, "inodereuse", expect=500, timeout=15)
    agent.stop()
    missing, duplicates = gaps_and_duplicates(counts, range(500))
    assert (missing, duplicates) == ([], 0), agent.output()


def numbered(tag: str, first: int, end: int, pad: int) -> str:
    return "".join(line(tag, number, pad=pad) + "\n" for number in range(first, end))


def on_inode(path: Path, inode: int, text: str) -> bool:
    """Create `path` holding `text` on the freed inode `inode`; False if the filesystem gives
    out other inodes (each miss is kept aside, so the next try gets another one)."""
    aside = path.parent.parent / "aside"
    for attempt in range(100):
        path.write_text(text)
        if path.stat().st_ino == inode:
            return True
        os.replace(path, aside / f"{attempt}.log")
    return False


@pytest.mark.parametrize("rate", [1_000, 20_000])
def test_kubelet_rotation_of_container_logs(server: Server, tmp_path: Path, rate: int) -> None:
    """CRI lines through kubelet's rotation (10 MB x 5 files, older ones gzip'd, the runtime
    reopening a moment after the rename); reported as /var/log/containers/... with k8s fields."""
    pod = tmp_path / "pods" / "shop_checkout-7d9f_uid" / "api"
    pod.mkdir(parents=True)
    containers = tmp_path / "containers"
    containers.mkdir()
    live = pod / "0.log"
    live.touch()
    name = f"checkout-7d9f_shop_api-{'ab' * 32}.log"
    (containers / name).symlink_to(live)
    tag = f"kubelet{rate}"
    agent = Agent(server, tmp_path / "agent", {"kubernetes": True, "kubernetes_path": str(containers), "kubernetes_api": "off"}).start()
    time.sleep(1)

    def kubelet_rotate(handle):
        handle.flush()
        rotated = pod / f"0.log.{time.monotonic_ns()}"
        os.replace(live, rotated)
        old = sorted(p for p in pod.glob("0.log.*") if not p.name.endswith(".gz") and p != rotated)
        for path in old:  # kubelet compresses all but the newest rotated file
            with path.open("rb") as source, gzip.open(f"{path}.gz", "wb") as target:
                shutil.copyfileobj(source, target)
            path.unlink()
        for path in sorted(pod.glob("0.log.*.gz"))[:-3]:  # 5 files: live, newest rotated, 3 gz
            path.unlink()
        return Reopening(handle, live, after=max(1, rate // 50))  # ~20 ms more into the renamed file

    count = rate * 6
    lines_per_file = 10 * 1024 * 1024 // (len(cri(line(tag, 0))) + 1)
    writer = Writer(live, tag, count, rate, rotate_every=lines_per_file if count > lines_per_file else count // 3,
                    rotate=kubelet_rotate, fmt=cri)
    writer.start()
    writer.join()
    counts = arrived(server, tag, expect=count, timeout=60)
    agent.stop()
    assert writer.error is None
    missing, duplicates = gaps_and_duplicates(counts, range(count))
    assert (missing[:10], len(missing), duplicates) == ([], 0, 0), agent.output()
    sample = server.export(query=f'"{tag}"', size=1)[0]
    assert sample["_file"] == f"/var/log/containers/{name}"
    assert sample["_app"] == "api"


class Reopening:
    """The runtime's log writer: after kubelet renames the file, it goes on writing to the renamed
    file until it reopens the path (CRI ReopenContainerLog)."""

    def __init__(self, old, path: Path, after: int) -> None:
        self.old, self.path, self.left, self.new = old, path, after, None

    def write(self, text: str) -> int:
        if self.left > 0:
            self.left -= 1
            return self.old.write(text)
        if self.new is None:
            self.old.close()
            self.new = self.path.open("a")
        return self.new.write(text)

    def flush(self) -> None:
        (self.new or self.old).flush()

    def close(self) -> None:
        (self.new or self.old).close()


def cri(text: str) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".123456789Z"
    return f"{stamp} stdout F {text}"


def ranges(numbers: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] → [(1, 3), (7, 7)]: gaps as a person reads them."""
    spans: list[tuple[int, int]] = []
    for number in numbers:
        if spans and spans[-1][1] == number - 1:
            spans[-1] = (spans[-1][0], number)
        else:
            spans.append((number, number))
    return spans
