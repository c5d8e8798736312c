"""The state file is replaced atomically; the outbox keeps order and commits only what is safe."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from timberyard.agent.batch import Batcher
from timberyard.agent.metrics import Metrics
from timberyard.agent.outbox import Outbox
from timberyard.agent.state import State, StateDirBusy


def test_state_survives_a_reopen_and_one_agent_owns_the_directory(tmp_path: Path) -> None:
    state = State(tmp_path).open()
    state.commit({"1:2": {"path": "/a", "offset": 10, "head": [3, "x"], "check": "y", "seen": 9_999_999_999}})
    state.save()
    with pytest.raises(StateDirBusy, match="another agent uses the state directory"):
        State(tmp_path).open()
    state.close()
    (tmp_path / "state.json.tmp").write_text('{"torn')  # a crash in the middle of a save leaves only this
    again = State(tmp_path).open()
    assert again.get("1:2")["offset"] == 10
    again.close()


def test_a_failing_node_moves_batches_to_the_spool_in_order(tmp_path: Path) -> None:
    committed: list[dict] = []
    outbox = Outbox(committed.append, Metrics(), tmp_path / "spool", 1 << 20)
    batcher = Batcher(10, 1 << 20, 0, 1)
    stop = threading.Event()
    for number in range(3):
        batcher.add(f'{{"line":"b{number}"}}')
        assert outbox.put(batcher.seal({"f": {"offset": number}}), stop)
    assert committed == []  # in memory: nothing is safe yet
    outbox.failing()
    assert committed == [{"f": {"offset": 0}}, {"f": {"offset": 1}}, {"f": {"offset": 2}}]
    batcher.add('{"line":"b3"}')
    outbox.put(batcher.seal({"f": {"offset": 3}}), stop)
    sent = []
    while (batch := outbox.next(0)) is not None:
        sent.append(batch.seq)
        outbox.done(batch)
    assert sent == [1, 2, 3, 4] and outbox.spool_bytes == 0 and not list((tmp_path / "spool").iterdir())


def test_seal_all_cuts_at_the_limits_and_checkpoints_ride_on_the_last_batch() -> None:
    batcher = Batcher(2, 1 << 20, 0, 0)
    batcher.extend(['{"line":"a"}', '{"line":"b"}', '{"line":"c"}'])
    batches = batcher.seal_all({"f": {"offset": 3}})
    assert [b.lines for b in batches] == [2, 1] and [b.checkpoints for b in batches] == [{}, {"f": {"offset": 3}}]


def test_a_full_spool_is_counted_once_per_pause(tmp_path: Path) -> None:
    metrics = Metrics()
    outbox = Outbox(lambda checkpoints: None, metrics, tmp_path / "spool", 100)  # one batch fills it
    batcher = Batcher(10, 1 << 20, 0, 0)
    stop = threading.Event()
    for pause in (1, 2):
        outbox.failing()  # the node is away: batches go to the spool
        assert outbox.wait_for_room(0)
        batcher.add('{"line":"' + "x" * 500 + '"}')
        assert outbox.put(batcher.seal({}), stop)
        assert not outbox.wait_for_room(0) and not outbox.wait_for_room(0)
        assert metrics.counts["spool_full_waits"] == pause  # once per pause, however often the collector asks
        while (batch := outbox.next(0)) is not None:  # the node is back and takes everything
            outbox.done(batch)
