"""The inbox of a durable-feed consumer: with `gather_s`, a take comes at least that long after
the one before, and takes what arrived meanwhile with it; the first after a quiet spell is at once."""

from __future__ import annotations

import threading
import time

import pyarrow as pa

from timberyard.core.inbox import Inbox
from timberyard.core.records import DurableBatch


def batch(seq: int) -> list[DurableBatch]:
    return [DurableBatch(seq, pa.table({"line": ["x"]}))]


def test_a_take_gathers_what_arrives_until_gather_s_after_the_one_before() -> None:
    inbox = Inbox("test", "taken", gather_s=1.0)
    inbox.put(batch(1))
    started = time.monotonic()
    assert [b.seq for b in inbox.take(5)[0]] == [1]
    assert time.monotonic() - started < 0.5  # the first after a quiet spell: at once
    inbox.put(batch(2))
    threading.Timer(0.05, inbox.put, [batch(3)]).start()
    taken, stopping = inbox.take(5)
    assert [b.seq for b in taken] == [2, 3] and not stopping
    assert time.monotonic() - started >= 0.95


def test_without_gather_s_a_take_is_at_once() -> None:
    inbox = Inbox("test", "taken")
    inbox.put(batch(1))
    inbox.take(5)
    inbox.put(batch(2))
    started = time.monotonic()
    assert [b.seq for b in inbox.take(5)[0]] == [2]
    assert time.monotonic() - started < 0.5
