"""RELP framing (ingest.syslog.relp): the frames librelp sends, cut anywhere, and what breaks a
session."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.ingest.syslog.connection import ProtocolError
from timberyard.ingest.syslog.relp import OFFERS, RelpFrame, RelpReader, response

OFFER = b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog"
OPEN = b"1 open %d %s\n" % (len(OFFER), OFFER)


def read(*chunks: bytes, limit: int = 1000) -> list[RelpFrame]:
    reader = RelpReader(limit)
    for chunk in chunks:
        reader.feed(chunk)
    return reader.take()


def syslog(txnr: int, message: bytes) -> bytes:
    return b"%d syslog %d %s\n" % (txnr, len(message), message)


def test_a_librelp_session_opens_sends_and_closes() -> None:
    frames = read(OPEN + syslog(2, b"<13>1 2025-06-01T10:00:00Z h app - - - hello") + b"3 close 0\n")
    assert [(frame.txnr, frame.command) for frame in frames] == [(1, "open"), (2, "syslog"), (3, "close")]
    assert frames[0].data.startswith(b"relp_version=0\n")
    assert frames[1].data == b"<13>1 2025-06-01T10:00:00Z h app - - - hello"
    assert frames[2].data == b"" and frames[2].size == 0


def test_data_over_the_limit_is_cut_and_its_rest_skipped() -> None:
    frames = read(syslog(7, b"x" * 5000) + syslog(8, b"next"), limit=100)
    assert [(frame.txnr, frame.data, frame.size) for frame in frames] == [(7, b"x" * 100, 5000), (8, b"next", 4)]


@pytest.mark.parametrize(
    "garbage",
    [b"GET / HTTP/1.1\r\n", b"1 syslog 5 hello world\n", b"1 syslog 5hello\n", b"1 close 0 \n", b"x" * 80],
)
def test_a_broken_frame_ends_the_session(garbage: bytes) -> None:
    with pytest.raises(ProtocolError):
        read(garbage)


def test_answers_are_librelp_responses() -> None:
    assert response(2, b"200 OK") == b"2 rsp 6 200 OK\n"
    assert response(3, b"") == b"3 rsp 0\n"
    assert response(1, OFFERS).startswith(b"1 rsp %d 200 OK\nrelp_version=0\n" % len(OFFERS))
    assert OFFERS.endswith(b"\ncommands=syslog")


_MESSAGE = st.binary(min_size=1, max_size=200)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MESSAGE, min_size=1, max_size=6), st.lists(st.integers(min_value=0), max_size=12))
def test_frames_are_read_the_same_however_the_stream_is_cut(messages: list[bytes], cuts: list[int]) -> None:
    data = OPEN + b"".join(syslog(index + 2, message) for index, message in enumerate(messages))
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    frames = read(*(data[start:stop] for start, stop in zip(points, points[1:])), limit=150)
    assert [frame.data for frame in frames[1:]] == [message[:150] for message in messages]
    assert [frame.size for frame in frames[1:]] == [len(message) for message in messages]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_are_frames_or_a_protocol_error_never_a_crash(data: bytes) -> None:
    reader = RelpReader(100)
    try:
        reader.feed(data)
    except ProtocolError:
        return
    assert len(reader._buffer) <= 100 + 60
