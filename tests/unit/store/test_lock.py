"""One owning process per data directory (store.lock), across real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from timberyard.core.errors import DataDirLocked
from timberyard.store.lock import DataDirLock

# A child that takes the lock, says so, and holds it until stdin closes (or it is killed).
HOLD = """
import sys
from pathlib import Path
from timberyard.store.lock import DataDirLock
lock = DataDirLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
sys.stdin.read()
lock.release()
print("released", flush=True)
"""

# A child that tries once and reports what happened.
TRY = """
import sys
from pathlib import Path
from timberyard.core.errors import DataDirLocked
from timberyard.store.lock import DataDirLock
lock = DataDirLock(Path(sys.argv[1]))
try:
    lock.acquire()
except DataDirLocked as exc:
    print("refused:", exc.message)
    sys.exit(3)
print("acquired")
lock.release()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "locked\n"
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()


def _try_in_child(data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", TRY, str(data_dir)], capture_output=True, text=True, timeout=60)


def test_a_second_process_is_refused_with_the_owners_pid(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    lock = DataDirLock(tmp_path)
    with pytest.raises(DataDirLocked) as caught:
        lock.acquire()
    message = caught.value.message
    assert f"pid {holder.pid} on " in message
    assert str(tmp_path) in message
    assert "--data-dir" in message


def test_the_lock_can_be_taken_after_the_owner_releases_it(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(DataDirLocked):
        DataDirLock(tmp_path).acquire()
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.close()
    assert holder.stdout.readline() == "released\n"
    assert holder.wait(timeout=30) == 0
    with DataDirLock(tmp_path) as lock:
        record = lock.path.read_text()
        assert f'"pid": {os.getpid()}' in record


def test_the_lock_can_be_taken_after_the_owner_is_killed(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    with pytest.raises(DataDirLocked):
        DataDirLock(tmp_path).acquire()
    holder.send_signal(signal.SIGKILL)
    assert holder.wait(timeout=30) == -signal.SIGKILL
    # The owner record of the dead process is still in the file; it does not block us.
    assert f'"pid": {holder.pid}' in (tmp_path / "owner.lock").read_text()
    lock = DataDirLock(tmp_path)
    lock.acquire()
    try:
        assert f'"pid": {os.getpid()}' in lock.path.read_text()
    finally:
        lock.release()


def test_another_process_is_refused_while_we_hold_it_and_admitted_after(tmp_path: Path) -> None:
    lock = DataDirLock(tmp_path)
    lock.acquire()
    try:
        refused = _try_in_child(tmp_path)
        assert refused.returncode == 3, refused.stderr
        assert f"pid {os.getpid()} on " in refused.stdout
    finally:
        lock.release()
    admitted = _try_in_child(tmp_path)
    assert admitted.returncode == 0, admitted.stderr
    assert admitted.stdout == "acquired\n"


def test_release_clears_the_owner_record_and_is_idempotent(tmp_path: Path) -> None:
    lock = DataDirLock(tmp_path / "nested" / "data")
    lock.acquire()
    assert lock.path.read_text()
    lock.release()
    assert lock.path.read_text() == ""
    lock.release()
