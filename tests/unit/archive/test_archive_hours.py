"""How a run's id range is read out of the embedded store into hourly files, gzipped JSON lines or Parquet
(archive/hours.py): every line of the range once and no other, each in its `ts` hour's file in
id order, across pages that split an hour and hours that interleave in id; a late line (an old
`ts`, a new id) in its old hour; a long range cut at exactly its `max_lines`-th id."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import orjson
import pytest

from archive_files import export_lines
from timberyard.archive import hours, layout
from timberyard.store.chdb import ChdbStore
from timberyard.store.export import export_line
from timberyard.store.queries import EXPORT_COLUMNS
from timberyard.store.schema import LOG_TABLE

ACCOUNT = "archive-hours-" + uuid.uuid4().hex
H = layout.HOUR_MS
START = layout.hour_of(int(time.time() * 1000)) - 3 * H  # within the retention the test rows get
# (id, ts): ids 1-2 and 20 lie outside the range read (after 2, through 19); 19 is late, 16-18 share a ts
LINES = [(1, START + 5), (2, START + H + 1), (3, START + 10), (4, START + 10), (5, START + 11), (6, START + H - 1),
         (7, START + H), (8, START + 9), (9, START + H + 7), (10, START + 2 * H + 3), (11, START + H + 7),
         (12, START + 12), (13, START + 2 * H), (14, START + H + 2), (15, START + 13), (16, START + H + 8),
         (17, START + H + 8), (18, START + H + 8), (19, START + 1), (20, START + 14)]
AFTER, THROUGH = 2, 19


@pytest.fixture(scope="module")
def store(chdb_store: ChdbStore) -> Iterator[ChdbStore]:
    for line_id, ts in LINES:
        chdb_store.select(
            f"INSERT INTO {LOG_TABLE} (account, ts, id, host, line, fields, retention_days) SELECT {{account:String}}, "
            "fromUnixTimestamp64Milli({ts:Int64}), {id:UInt64}, 'web-1', {line:String}, {fields:String}::JSON, 30",
            {"account": ACCOUNT, "ts": ts, "id": line_id, "line": f"line {line_id} \"quoted\"",
             "fields": orjson.dumps({"n": line_id, "level": "shadowed"} if line_id % 3 else {}).decode()},
        )
    yield chdb_store


def read(store: ChdbStore, max_lines: int | None, after: int = AFTER, through: int = THROUGH, fmt: str = "json") -> tuple[dict[int, list[dict]], int]:
    files, end = hours.read_hours(store, ACCOUNT, after, through, max_lines=max_lines, fmt=fmt)
    content = {}
    for hour, file in files.items():
        content[hour] = export_lines(file.finish(), fmt)
        assert file.lines == len(content[hour])
    return content, end


def expected(store: ChdbStore, ids: set[int]) -> dict[int, list[dict]]:
    rows = store.select(f"SELECT {EXPORT_COLUMNS} FROM {LOG_TABLE} WHERE account = {{account:String}} ORDER BY id",
                        {"account": ACCOUNT})
    by_hour: dict[int, list[dict]] = {}
    for row in rows:
        if row["id"] in ids:
            by_hour.setdefault(layout.hour_of(row["ts_ms"]), []).append(export_line(row))
    return by_hour


@pytest.mark.parametrize("fmt", ["json", "parquet"])
@pytest.mark.parametrize("page", [1, 2, 3, 1000])
def test_the_range_lands_once_per_line_in_its_hour_in_id_order(store: ChdbStore, monkeypatch: pytest.MonkeyPatch, page: int, fmt: str) -> None:
    monkeypatch.setattr(hours, "PAGE_LINES", page)
    content, end = read(store, None, fmt=fmt)
    assert end == THROUGH
    assert content == expected(store, set(range(AFTER + 1, THROUGH + 1)))
    assert sorted(int(line["_lid"]) for lines in content.values() for line in lines) == list(range(AFTER + 1, THROUGH + 1))
    assert [line["_lid"] for line in content[START]] == ["3", "4", "5", "6", "8", "12", "15", "19"]  # 19: late
    assert [line["_lid"] for line in content[START + H]] == ["7", "9", "11", "14", "16", "17", "18"]


@pytest.mark.parametrize("fmt", ["json", "parquet"])
@pytest.mark.parametrize("page", [2, 1000])
def test_a_long_range_is_cut_at_its_max_lines_th_id(store: ChdbStore, monkeypatch: pytest.MonkeyPatch, page: int, fmt: str) -> None:
    monkeypatch.setattr(hours, "PAGE_LINES", page)
    content, end = read(store, 5, fmt=fmt)
    assert end == AFTER + 5
    assert content == expected(store, set(range(AFTER + 1, AFTER + 6)))
    rest, end = read(store, 5, after=end)
    assert end == AFTER + 10 and rest == expected(store, set(range(AFTER + 6, AFTER + 11)))


def test_an_empty_range_reads_nothing_and_keeps_its_end(store: ChdbStore) -> None:
    assert read(store, 5, after=20, through=30) == ({}, 30)
