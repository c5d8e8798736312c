"""Line ids (ingest.ids): unique, increasing, time-ordered, and never overlapping across threads."""

from __future__ import annotations

import random
import threading

import pytest

from timberyard.core.clock import now_ms
from timberyard.ingest import ids
from timberyard.ingest.ids import COUNTER_BITS, IdAllocator


def test_ids_start_at_the_current_millisecond() -> None:
    allocator = IdAllocator()
    before = now_ms()
    first = allocator.allocate(1)
    after = now_ms()
    assert before << COUNTER_BITS <= first <= (after << COUNTER_BITS)


def test_consecutive_ranges_do_not_overlap_and_increase() -> None:
    allocator = IdAllocator()
    previous_end = 0
    for count in [1, 5, 1000, 1, 2**20, 3, 2**21]:
        first = allocator.allocate(count)
        assert first >= previous_end
        previous_end = first + count


def test_a_burst_larger_than_a_millisecond_borrows_from_the_next() -> None:
    allocator = IdAllocator()
    first = allocator.allocate(3 << COUNTER_BITS)  # three milliseconds' worth of ids
    second = allocator.allocate(1)
    assert second >= first + (3 << COUNTER_BITS)


def test_ids_keep_increasing_when_the_clock_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = iter([2_000_000_000_000, 1_000_000_000_000, 1_000_000_000_001, 2_000_000_000_000])
    monkeypatch.setattr(ids, "now_ms", lambda: next(clock))
    allocator = IdAllocator()
    firsts = [allocator.allocate(10) for _ in range(4)]
    assert firsts == [2_000_000_000_000 << COUNTER_BITS, (2_000_000_000_000 << COUNTER_BITS) + 10,
                      (2_000_000_000_000 << COUNTER_BITS) + 20, (2_000_000_000_000 << COUNTER_BITS) + 30]


def test_threads_get_unique_increasing_non_overlapping_ranges() -> None:
    allocator = IdAllocator()
    threads_count, calls = 8, 2000
    start = threading.Barrier(threads_count)
    results: list[list[tuple[int, int]]] = [[] for _ in range(threads_count)]

    def work(slot: int) -> None:
        rng = random.Random(slot)
        start.wait()
        for _ in range(calls):
            count = rng.choice([1, 1, 2, 7, 100, 5000])
            results[slot].append((allocator.allocate(count), count))

    workers = [threading.Thread(target=work, args=(slot,)) for slot in range(threads_count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    for ranges in results:
        assert len(ranges) == calls
        firsts = [first for first, _ in ranges]
        assert firsts == sorted(firsts) and len(set(firsts)) == calls  # increasing within a thread
    everything = sorted(r for ranges in results for r in ranges)
    for (first, count), (next_first, _) in zip(everything, everything[1:]):
        assert first + count <= next_first, "two ranges overlap"
    assert len({first for first, _ in everything}) == threads_count * calls
