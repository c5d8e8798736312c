"""The write-ahead log keeps every acknowledged record across restarts, cuts torn tails, and
forgets what the store has committed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from timberyard.core.errors import Overloaded
from timberyard.store.wal import FRAME, MAX_HELD_SEGMENTS, WalRecord, WriteAheadLog


class Sink:
    def __init__(self) -> None:
        self.records: list[WalRecord] = []
        self.lock = threading.Lock()

    def __call__(self, records: list[WalRecord]) -> None:
        with self.lock:
            self.records.extend(records)


def make_wal(path: Path, sink: Sink | None = None, **kwargs: int) -> WriteAheadLog:
    options = {"segment_bytes": 1 << 20, "max_pending_bytes": 1 << 30, **kwargs}
    return WriteAheadLog(path, on_durable=sink or Sink(), **options)


def append_all(wal: WriteAheadLog, payloads: list[bytes]) -> list[int]:
    return [future.result(timeout=10) for future in [wal.submit(p) for p in payloads]]


def test_records_come_back_after_a_restart_in_order(tmp_path: Path) -> None:
    sink = Sink()
    wal = make_wal(tmp_path, sink)
    assert wal.open() == []
    wal.start()
    seqs = append_all(wal, [f"record {i}".encode() for i in range(100)])
    wal.close()
    assert seqs == list(range(1, 101))
    assert [r.seq for r in sink.records] == seqs

    reopened = make_wal(tmp_path)
    replay = reopened.open()
    assert [bytes(r.payload) for r in replay] == [f"record {i}".encode() for i in range(100)]
    assert reopened.pending_bytes == sum(len(f"record {i}") for i in range(100))


def test_committed_records_are_not_replayed_and_seqs_keep_growing(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    wal.open()
    wal.start()
    append_all(wal, [b"a", b"b", b"c"])
    wal.mark_committed(2)
    wal.close()

    reopened = make_wal(tmp_path)
    assert [bytes(r.payload) for r in reopened.open()] == [b"c"]
    reopened.start()
    assert append_all(reopened, [b"d"]) == [4]
    reopened.close()


def test_a_torn_tail_is_cut_off_and_later_appends_stay_readable(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    wal.open()
    wal.start()
    append_all(wal, [b"first", b"second"])
    wal.close()
    segment = next(tmp_path.glob("*.wal"))
    intact = segment.stat().st_size
    with segment.open("ab") as handle:  # a frame whose payload never made it to disk
        handle.write(FRAME.pack(0x5459574C, 3, 1000, 0) + b"partial")

    reopened = make_wal(tmp_path)
    assert [bytes(r.payload) for r in reopened.open()] == [b"first", b"second"]
    assert segment.stat().st_size == intact
    reopened.start()
    append_all(reopened, [b"third"])
    reopened.close()
    assert [bytes(r.payload) for r in make_wal(tmp_path).open()] == [b"first", b"second", b"third"]


def test_a_corrupted_record_ends_the_readable_prefix(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    wal.open()
    wal.start()
    append_all(wal, [b"one", b"two"])
    wal.close()
    segment = next(tmp_path.glob("*.wal"))
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF  # flip a bit in the last payload: its checksum no longer matches
    segment.write_bytes(bytes(data))
    assert [bytes(r.payload) for r in make_wal(tmp_path).open()] == [b"one"]


def test_segments_rotate_and_committed_ones_are_deleted(tmp_path: Path) -> None:
    wal = make_wal(tmp_path, segment_bytes=100)
    wal.open()
    wal.start()
    for i in range(10):
        append_all(wal, [bytes(60)])  # one flush each, so each crosses the segment size
    segments = sorted(tmp_path.glob("*.wal"))
    assert len(segments) >= 5
    wal.mark_committed(10)
    remaining = sorted(tmp_path.glob("*.wal"))
    assert len(remaining) == 1  # only the segment being written is kept
    wal.close()
    reopened = make_wal(tmp_path)
    assert reopened.open() == []
    reopened.start()
    assert append_all(reopened, [b"next"]) == [11]
    reopened.close()


def test_records_the_alert_evaluator_has_not_saved_are_kept_and_replayed(tmp_path: Path) -> None:
    wal = make_wal(tmp_path, segment_bytes=100)
    wal.open()
    wal.start()
    for i in range(10):
        append_all(wal, [bytes([i]) * 60])  # two records a segment
    wal.mark_evaluated(6)
    wal.mark_committed(10)  # the store has everything; the evaluator saved up to 6
    wal.mark_evaluated(3)  # a mark never moves back
    wal.close()

    reopened = make_wal(tmp_path, segment_bytes=100)
    replay = reopened.open()
    assert [r.seq for r in replay] == [7, 8, 9, 10] and bytes(replay[0].payload) == bytes([6]) * 60
    assert reopened.pending_bytes == 0  # nothing the store lacks: the budget is free
    reopened.start()
    reopened.mark_evaluated(10)
    assert len(sorted(tmp_path.glob("*.wal"))) == 1
    reopened.close()


def test_a_stalled_evaluator_holds_a_few_segments_at_most(tmp_path: Path) -> None:
    wal = make_wal(tmp_path, segment_bytes=100)
    wal.open()
    wal.start()
    wal.mark_evaluated(1)
    for i in range(12):
        append_all(wal, [bytes(60)])
    wal.mark_committed(12)
    assert len(sorted(tmp_path.glob("*.wal"))) == 1 + MAX_HELD_SEGMENTS  # the one being written, and those held
    wal.close()
    assert [r.seq for r in make_wal(tmp_path).open()] == list(range(3, 13))  # 2 records a segment; 1-2 are gone (docs/alerts.md)


def test_appends_beyond_the_pending_budget_are_refused_until_the_store_catches_up(tmp_path: Path) -> None:
    wal = make_wal(tmp_path, max_pending_bytes=100)
    wal.open()
    wal.start()
    append_all(wal, [bytes(60)])
    with pytest.raises(Overloaded) as refused:
        wal.submit(bytes(60))
    assert refused.value.status == 503 and refused.value.retry_after >= 1
    wal.mark_committed(1)
    assert append_all(wal, [bytes(60)]) == [2]
    wal.close()


def test_concurrent_appends_share_fsyncs(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    wal.open()
    wal.start()
    results: list[int] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        for i in range(50):
            seq = wal.submit(f"{n}:{i}".encode()).result(timeout=10)
            with lock:
                results.append(seq)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wal.close()
    assert sorted(results) == list(range(1, 401))
    assert wal.fsyncs < 400  # group commit: fewer fsyncs than records
    assert len(make_wal(tmp_path).open()) == 400


def test_inflight_range_and_epoch_survive_a_restart(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    wal.open()
    wal.start()
    append_all(wal, [b"a", b"b", b"c"])
    wal.mark_inflight(1, 2)
    token = wal.dedup_token(1, 2)
    wal.close()
    reopened = make_wal(tmp_path)
    reopened.open()
    assert reopened.checkpoint.inflight == (1, 2)
    assert reopened.dedup_token(1, 2) == token


def test_a_failed_write_fails_its_waiters_and_leaves_no_partial_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import timberyard.store.wal as wal_module

    wal = make_wal(tmp_path)
    wal.open()
    wal.start()
    append_all(wal, [b"kept"])

    def disk_full(fd: int, buffers: list[bytes]) -> None:
        import os

        os.write(fd, b"half a frame")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(wal_module, "_write_all", disk_full)
    with pytest.raises(Overloaded, match="No space left on device"):
        wal.submit(b"lost").result(timeout=10)
    assert wal.pending_bytes == len(b"kept")
    monkeypatch.undo()
    assert append_all(wal, [b"after"]) == [3]
    wal.close()
    assert [bytes(r.payload) for r in make_wal(tmp_path).open()] == [b"kept", b"after"]


def test_submit_waiting_waits_for_the_store_instead_of_refusing(tmp_path: Path) -> None:
    wal = make_wal(tmp_path, max_pending_bytes=10)
    wal.open()
    wal.start()
    first = wal.submit(b"x" * 8).result(timeout=10)
    with pytest.raises(Overloaded):
        wal.submit(b"y" * 8)  # a request source is refused at once
    waiting: list[int] = []
    writer = threading.Thread(target=lambda: waiting.append(wal.submit_waiting(b"z" * 8).result(timeout=10)))
    writer.start()  # a stream source waits
    writer.join(timeout=0.3)
    assert writer.is_alive() and waiting == []
    wal.mark_committed(first)  # the store took the first record: room again
    writer.join(timeout=5)
    assert waiting == [2]
    wal.close()


def test_a_record_larger_than_the_whole_budget_is_refused_even_when_waiting(tmp_path: Path) -> None:
    wal = make_wal(tmp_path, max_pending_bytes=10)
    wal.open()
    wal.start()
    with pytest.raises(Overloaded):
        wal.submit_waiting(b"x" * 11)
    wal.close()
