"""Syslog stream framing (ingest.syslog.framing): octet counting and newline framing as senders
use them, cut however the network cuts them, and peers that misbehave."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.ingest.syslog.framing import Frames, StreamFramer

LIMIT = 64


def frame_all(chunks: list[bytes], limit: int = LIMIT) -> Frames:
    framer = StreamFramer(limit)
    for chunk in chunks:
        framer.feed(chunk)
    framer.finish()
    return framer.take()


def counted(*messages: bytes) -> bytes:
    return b"".join(b"%d %s" % (len(message), message) for message in messages)


def pieces(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[start:stop] for start, stop in zip(points, points[1:])]


# -- octet counting ---------------------------------------------------------------------------


def test_octet_counting_excludes_the_separating_space() -> None:
    message = b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed"
    frames = frame_all([counted(message, b"second", b"third message")], limit=1000)
    assert frames.messages == [message, b"second", b"third message"]
    assert frames.truncated == {} and frames.framing_errors == 0


def test_a_counted_message_may_hold_newlines_and_a_trailing_one_is_dropped() -> None:
    frames = frame_all([counted(b"<11>java.lang.Error: boom\n\tat A.b(A.java:1)\n")])
    assert frames.messages == [b"<11>java.lang.Error: boom\n\tat A.b(A.java:1)"]


def test_line_ends_between_counted_messages_are_skipped() -> None:
    assert frame_all([b"5 hello\n5 world\r\n"]).messages == [b"hello", b"world"]


def test_a_counted_message_over_the_limit_keeps_its_start_and_says_its_size() -> None:
    big = b"<13>" + b"x" * 500
    frames = frame_all([counted(big, b"after")])
    assert frames.messages == [big[:LIMIT], b"after"]
    assert frames.truncated == {0: len(big)}


def test_a_stream_that_ends_inside_a_counted_message_keeps_what_came() -> None:
    frames = frame_all([b"100 <13>only part of it"])
    assert frames.messages == [b"<13>only part of it"]
    assert frames.truncated == {0: 100}


def test_garbage_instead_of_a_count_is_kept_as_a_line_and_counting_resumes() -> None:
    frames = frame_all([counted(b"first"), b"GET / HTTP/1.0\r\n", counted(b"second")])
    assert frames.messages == [b"first", b"GET / HTTP/1.0", b"second"]
    assert frames.framing_errors == 1


def test_a_count_too_long_to_be_one_is_garbage() -> None:
    frames = frame_all([counted(b"ok"), b"12345678901 x\n", counted(b"fine")])
    assert frames.messages == [b"ok", b"12345678901 x", b"fine"]
    assert frames.framing_errors == 1


# -- newline framing ------------------------------------------------------------------------


def test_newline_framing_is_chosen_by_the_first_message() -> None:
    framer = StreamFramer(LIMIT)
    framer.feed(b"<13>Oct 11 22:14:15 host app: one\n<13>two\r\nthree\n")
    assert framer.octet_counting is False
    assert framer.take().messages == [b"<13>Oct 11 22:14:15 host app: one", b"<13>two", b"three"]


def test_a_line_that_starts_with_a_number_but_no_space_is_newline_framed() -> None:
    assert frame_all([b"2025-06-01T10:00:00Z app started\n42abc\n"]).messages == [b"2025-06-01T10:00:00Z app started", b"42abc"]


def test_the_last_line_without_a_newline_is_a_message_at_the_end() -> None:
    assert frame_all([b"<13>one\n<13>two"]).messages == [b"<13>one", b"<13>two"]


def test_an_endless_line_keeps_its_start_and_costs_no_more_memory() -> None:
    framer = StreamFramer(LIMIT)
    framer.feed(b"<13>")
    for _ in range(10_000):
        framer.feed(b"y" * 100)
        assert len(framer._buffer) <= LIMIT + 100
    framer.feed(b"\nnext\n")
    frames = framer.take()
    assert frames.messages == [b"<13>" + b"y" * (LIMIT - 4), b"next"]
    assert frames.truncated == {0: 4 + 1_000_000}


def test_empty_lines_are_not_messages() -> None:
    assert frame_all([b"\n\n<13>a\n\r\n\x00\n<13>b\n"]).messages == [b"<13>a", b"<13>b"]


def test_nul_terminated_messages_lose_their_nul() -> None:
    assert frame_all([b"<13>a\x00\n"]).messages == [b"<13>a"]


# -- any cut gives the same messages ----------------------------------------------------------

_MESSAGE = st.binary(min_size=1, max_size=120).filter(lambda m: m.strip(b"\r\n\x00") == m)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MESSAGE, min_size=1, max_size=8), st.lists(st.integers(min_value=0), max_size=12))
def test_octet_counted_streams_frame_the_same_however_they_are_cut(messages: list[bytes], cuts: list[int]) -> None:
    data = counted(*messages)
    whole = frame_all([data])
    assert frame_all(pieces(data, cuts)).messages == whole.messages
    assert whole.messages == [message[:LIMIT] for message in messages]
    assert whole.truncated == {index: len(message) for index, message in enumerate(messages) if len(message) > LIMIT}


_LINE = st.binary(min_size=1, max_size=120).map(lambda m: m.replace(b"\n", b" ").strip(b"\r\x00")).filter(
    lambda m: m != b"" and not m[:1].isdigit()
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE, min_size=1, max_size=8), st.lists(st.integers(min_value=0), max_size=12))
def test_newline_framed_streams_frame_the_same_however_they_are_cut(lines: list[bytes], cuts: list[int]) -> None:
    data = b"\n".join(lines) + b"\n"
    whole = frame_all([data])
    assert frame_all(pieces(data, cuts)).messages == whole.messages
    assert whole.messages == [line[:LIMIT].strip(b"\r\n\x00") for line in lines if line[:LIMIT].strip(b"\r\n\x00")]


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=600), st.lists(st.integers(min_value=0), max_size=10))
def test_any_bytes_frame_without_error_within_bounded_memory(data: bytes, cuts: list[int]) -> None:
    framer = StreamFramer(LIMIT)
    for piece in pieces(data, cuts):
        framer.feed(piece)
        assert len(framer._buffer) <= 2 * LIMIT + len(piece) + 16
    framer.finish()
    frames = framer.take()
    assert all(len(message) <= LIMIT for message in frames.messages)
    assert all(0 <= index < len(frames.messages) for index in frames.truncated)


@pytest.mark.parametrize("counted_stream", [True, False])
def test_a_byte_at_a_time_sender_costs_constant_work_per_byte(counted_stream: bool) -> None:
    message = b"<13>1 2025-06-01T10:00:00Z host app - - - " + b"m" * 2000
    data = counted(message) * 5 if counted_stream else (message + b"\n") * 5
    framer = StreamFramer(4096)
    started = time.perf_counter()
    for index in range(len(data)):
        framer.feed(data[index : index + 1])
    elapsed = time.perf_counter() - started
    assert framer.take().messages == [message] * 5
    assert elapsed < 1.0, f"{len(data)} one-byte reads took {elapsed:.2f}s"
