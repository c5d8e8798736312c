"""Reading one file: partial and long lines, truncation seen by size and by content."""

from __future__ import annotations

import os
from pathlib import Path

from timberyard.agent.identity import FileId
from timberyard.agent.reader import TRUNCATED_MARK, FileReader


def reader(path: Path, offset: int = 0, max_line_bytes: int = 1024, partial_timeout: float = 5) -> FileReader:
    fd = os.open(path, os.O_RDONLY)
    return FileReader(str(path), FileId.of(os.fstat(fd)), fd, offset, max_line_bytes=max_line_bytes, partial_timeout=partial_timeout)


def test_complete_lines_with_offsets_and_a_held_partial(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"one\r\ntwo\nthr")
    r = reader(path)
    assert r.read(1 << 20, 0) == [(b"one", 0), (b"two", 5)]
    assert (r.consumed, r.pos, r.holding) == (9, 12, True)
    assert r.flush_partial(1) is None  # not waited long enough
    with path.open("ab") as handle:
        handle.write(b"ee\n")
    assert r.read(1 << 20, 2) == [(b"three", 9)]
    with path.open("ab") as handle:
        handle.write(b"four")
    r.read(1 << 20, 3)
    assert r.flush_partial(9) == (b"four", 15)


def test_a_long_line_is_cut_and_its_rest_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"x" * 5000 + b"\nnext\n")
    r = reader(path, max_line_bytes=1024)
    lines = r.read(1 << 20, 0)
    assert [len(text) for text, _ in lines] == [1024, 4] and lines[0][0].endswith(TRUNCATED_MARK)
    assert r.truncated_lines == 1


def test_truncation_is_seen_by_size_and_by_content(tmp_path: Path) -> None:
    path = tmp_path / "a.log"
    path.write_bytes(b"aaaa\nbbbb\n")
    r = reader(path)
    r.read(1 << 20, 0)
    os.truncate(path, 0)
    path.write_bytes(b"cc\n")
    assert r.read(1 << 20, 1) == [(b"cc", 0)] and r.truncation is not None and r.truncation.offset == 10
    r.truncation = None
    path.write_bytes(b"dddddddddddddd\neeee\n")  # truncated and written past the old offset
    assert r.read(1 << 20, 2) == [(b"dddddddddddddd", 0), (b"eeee", 15)] and r.truncation is not None
