"""Times as log formats write them (parse.times), read a column at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from timberyard.parse import times
from timberyard.parse.format import TimeReader
from timberyard.parse.timestamps import MAX_MS

RECEIVED = datetime(2025, 6, 1, 12, tzinfo=UTC)
READERS = ("iso8601", "slashed", "clf", "rfc3164", "klog", "redis", "ctime")


def _ms(moment: datetime) -> int:
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def _iso(millis: int | None) -> str | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


def read(reader: TimeReader, texts: list[str | None], received: datetime = RECEIVED) -> list[str | None]:
    return [_iso(millis) for millis in reader(pa.array(texts, pa.string()), _ms(received)).to_pylist()]


@pytest.mark.parametrize(
    ("reader", "text", "expected"),
    [
        # ISO 8601 / RFC 3339: T or space, . or , fractions of 1-9 digits cut to ms, Z/±HH:MM/±HHMM/±HH
        ("iso8601", "2025-05-31T04:12:38Z", "2025-05-31T04:12:38.000Z"),
        ("iso8601", "2025-05-31t04:12:38z", "2025-05-31T04:12:38.000Z"),
        ("iso8601", "2025-05-31T04:12:38.669123Z", "2025-05-31T04:12:38.669Z"),
        ("iso8601", "2025-05-31T04:12:38.6699Z", "2025-05-31T04:12:38.669Z"),  # cut, not rounded
        ("iso8601", "2025-05-31T04:12:38.1", "2025-05-31T04:12:38.100Z"),
        ("iso8601", "2025-05-31 04:12:38,669", "2025-05-31T04:12:38.669Z"),  # no zone: UTC
        ("iso8601", "2025-05-31T04:12:38.123456789+02:00", "2025-05-31T02:12:38.123Z"),
        ("iso8601", "2025-05-31T04:12:38-0530", "2025-05-31T09:42:38.000Z"),
        ("iso8601", "2025-05-31T04:12:38+05:45", "2025-05-30T22:27:38.000Z"),
        ("iso8601", "2025-05-31 04:12:38 +03", "2025-05-31T01:12:38.000Z"),
        ("iso8601", "2025-05-31T00:30:00+14:00", "2025-05-30T10:30:00.000Z"),
        ("iso8601", "2025-05-31 04:12:38.669 UTC", "2025-05-31T04:12:38.669Z"),  # PostgreSQL's %m
        ("iso8601", "2025-05-31 06:12:38.669 CEST", "2025-05-31T04:12:38.669Z"),
        ("iso8601", "2025-05-30 21:12:38 PDT", "2025-05-31T04:12:38.000Z"),
        ("iso8601", "2025-05-31 04:12:38 GMT", "2025-05-31T04:12:38.000Z"),
        ("iso8601", "2025-05-31 04:12:38 CST", None),  # Chicago or Shanghai: not guessed
        ("iso8601", "2025-05-31 04:12:38 XYZ", None),
        ("iso8601", "2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"),
        ("iso8601", "2000-02-29T00:00:00Z", "2000-02-29T00:00:00.000Z"),  # divisible by 400
        ("iso8601", "2025-02-29T00:00:00Z", None),
        ("iso8601", "2025-04-31T00:00:00Z", None),
        ("iso8601", "2025-13-01T00:00:00Z", None),
        ("iso8601", "2025-00-10T00:00:00Z", None),
        ("iso8601", "2025-05-00T00:00:00Z", None),
        ("iso8601", "2025-05-31T24:00:00Z", None),
        ("iso8601", "2025-05-31T23:60:00Z", None),
        ("iso8601", "2025-05-31T23:59:60Z", "2025-06-01T00:00:00.000Z"),  # a leap second
        ("iso8601", "2025-05-31T23:59:61Z", None),
        ("iso8601", "2025-05-31T04:12:38+24:00", None),
        ("iso8601", "2025-05-31T04:12:38+05:60", None),
        ("iso8601", "2025-05-31T04:12:38.Z", None),
        ("iso8601", "2025-05-31T04:12:38.1234567890Z", None),  # ten digits
        ("iso8601", " 2025-05-31T04:12:38Z", None),
        ("iso8601", "2025-05-31T04:12:38Z and more", None),
        ("iso8601", "２０２５-05-31T04:12:38Z", None),  # full-width digits
        ("iso8601", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z"),
        ("iso8601", "1970-01-01T00:30:00+01:00", None),  # before the epoch
        ("iso8601", "1969-12-31T23:59:59Z", None),
        ("iso8601", "2099-12-31T23:59:59.999Z", "2099-12-31T23:59:59.999Z"),
        ("iso8601", "2100-01-01T00:00:00Z", None),
        ("iso8601", "0000-01-01T00:00:00Z", None),
        ("iso8601", "", None),
        ("iso8601", None, None),
        # nginx's error log and Go's log package
        ("slashed", "2025/05/31 04:12:38", "2025-05-31T04:12:38.000Z"),
        ("slashed", "2025/05/31 04:12:38.123456", "2025-05-31T04:12:38.123Z"),
        ("slashed", "2025/02/30 04:12:38", None),
        ("slashed", "2025-05-31 04:12:38", None),
        # Common Log Format, and HAProxy's accept date
        ("clf", "31/May/2025:01:07:43 +0000", "2025-05-31T01:07:43.000Z"),
        ("clf", "10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36.000Z"),
        ("clf", "01/Jan/2025:00:30:00 +0100", "2024-12-31T23:30:00.000Z"),
        ("clf", "31/May/2025:04:12:38.669", "2025-05-31T04:12:38.669Z"),
        ("clf", "31/Jun/2025:00:00:00 +0000", None),
        ("clf", "31/may/2025:00:00:00 +0000", None),
        ("clf", "31/Foo/2025:00:00:00 +0000", None),
        # RFC 3164 syslog: no year; received 2025-06-01 12:00 UTC
        ("rfc3164", "May 31 04:12:38", "2025-05-31T04:12:38.000Z"),
        ("rfc3164", "Oct 11 22:14:15", "2024-10-11T22:14:15.000Z"),
        ("rfc3164", "Oct  1 22:14:15", "2024-10-01T22:14:15.000Z"),
        ("rfc3164", "Oct 1 22:14:15", "2024-10-01T22:14:15.000Z"),
        ("rfc3164", "Jan  1 00:00:00", "2025-01-01T00:00:00.000Z"),
        ("rfc3164", "Jun  1 12:00:00", "2025-06-01T12:00:00.000Z"),
        ("rfc3164", "Jun  3 10:00:00", "2025-06-03T10:00:00.000Z"),  # a clock two days fast
        ("rfc3164", "Jun  5 10:00:00", "2024-06-05T10:00:00.000Z"),  # too far ahead: last year's
        ("rfc3164", "Feb 29 12:00:00", "2024-02-29T12:00:00.000Z"),  # the last year that had one
        ("rfc3164", "Feb 30 12:00:00", None),
        ("rfc3164", "May 31 04:12:38.123456", "2025-05-31T04:12:38.123Z"),
        ("rfc3164", "May 32 04:12:38", None),
        ("rfc3164", "MAY 31 04:12:38", None),
        # klog: MMDD, no year
        ("klog", "0531 04:12:38.669123", "2025-05-31T04:12:38.669Z"),
        ("klog", "1204 15:23:16.123456", "2024-12-04T15:23:16.123Z"),
        ("klog", "1301 00:00:00.000000", None),
        ("klog", "0431 00:00:00.000000", None),
        # Redis
        ("redis", "31 May 2025 04:12:38.669", "2025-05-31T04:12:38.669Z"),
        ("redis", "01 Jun 2025 00:00:01.000", "2025-06-01T00:00:01.000Z"),
        ("redis", "1 Jun 2025 00:00:01.000", "2025-06-01T00:00:01.000Z"),
        ("redis", "31 Apr 2025 00:00:01.000", None),
        # Apache's error log (ctime, with microseconds in 2.4)
        ("ctime", "Sat May 31 04:12:38.123456 2025", "2025-05-31T04:12:38.123Z"),
        ("ctime", "Sun Dec 04 04:47:44 2005", "2005-12-04T04:47:44.000Z"),
        ("ctime", "Sun Dec  4 04:47:44 2005", "2005-12-04T04:47:44.000Z"),
        ("ctime", "Xyz Dec  4 04:47:44 2005", None),
    ],
)
def test_reads(reader: str, text: str | None, expected: str | None) -> None:
    assert read(getattr(times, reader), [text]) == [expected]


@pytest.mark.parametrize(
    ("reader", "text", "received", "expected"),
    [
        # New Year: a line from the last second of the old year, received in the new one
        ("rfc3164", "Dec 31 23:59:59", datetime(2025, 1, 1, 0, 0, 5, tzinfo=UTC), "2024-12-31T23:59:59.000Z"),
        ("klog", "1231 23:59:59.999999", datetime(2025, 1, 1, 0, 0, 5, tzinfo=UTC), "2024-12-31T23:59:59.999Z"),
        # ... and from a clock two seconds fast, already in the new year
        ("rfc3164", "Jan  1 00:00:01", datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), "2025-01-01T00:00:01.000Z"),
        ("klog", "0101 00:00:01.000000", datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), "2025-01-01T00:00:01.000Z"),
        # the slack is three days either side of New Year
        ("rfc3164", "Jan  3 00:00:00", datetime(2024, 12, 31, 12, tzinfo=UTC), "2025-01-03T00:00:00.000Z"),
        ("rfc3164", "Jan  4 00:00:00", datetime(2024, 12, 31, 12, tzinfo=UTC), "2024-01-04T00:00:00.000Z"),
        ("rfc3164", "Dec 30 00:00:00", datetime(2025, 1, 2, tzinfo=UTC), "2024-12-30T00:00:00.000Z"),
        # the 29th of February, in this year, the one before or the next, when one of them has it
        ("rfc3164", "Feb 29 00:30:00", datetime(2028, 2, 28, 23, tzinfo=UTC), "2028-02-29T00:30:00.000Z"),
        ("rfc3164", "Feb 29 00:30:00", datetime(2025, 3, 1, tzinfo=UTC), "2024-02-29T00:30:00.000Z"),
        ("rfc3164", "Feb 29 00:30:00", datetime(2024, 3, 1, tzinfo=UTC), "2024-02-29T00:30:00.000Z"),
        ("rfc3164", "Feb 29 00:30:00", datetime(2027, 3, 1, tzinfo=UTC), None),
        # a year that would fall outside 1970-2099 is no time
        ("rfc3164", "Dec 31 23:59:59", datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC), None),
    ],
)
def test_a_time_without_a_year_is_placed_by_the_receive_time(
    reader: str, text: str, received: datetime, expected: str | None
) -> None:
    assert read(getattr(times, reader), [text], received) == [expected]


def test_first_of_takes_each_value_from_the_first_reader_that_reads_it() -> None:
    reader = times.first_of(times.iso8601, times.slashed, times.rfc3164)
    assert read(reader, ["2025/05/31 04:12:38", "May 31 04:12:38", "2025-05-31T04:12:38Z", "nope", None]) == [
        "2025-05-31T04:12:38.000Z",
        "2025-05-31T04:12:38.000Z",
        "2025-05-31T04:12:38.000Z",
        None,
        None,
    ]


@pytest.mark.parametrize("reader", READERS)
def test_empty_and_all_null_columns(reader: str) -> None:
    assert read(getattr(times, reader), []) == []
    assert read(getattr(times, reader), [None, None]) == [None, None]


def test_stated_whole_numbers_past_float_precision_are_no_time_not_an_error() -> None:
    assert times.stated(pa.array([2**62 + 1, 1_700_000_000], pa.int64())).to_pylist() == [None, 1_700_000_000_000]


def test_a_column_mixes_good_and_bad_values() -> None:
    texts = ["2025-05-31T04:12:38Z", "2025-02-30T00:00:00Z", None, "x", "2025-05-31 04:12:38,5 +01:00"]
    assert read(times.iso8601, texts) == [
        "2025-05-31T04:12:38.000Z",
        None,
        None,
        None,
        "2025-05-31T03:12:38.500Z",
    ]


# -- against Python's datetime ---------------------------------------------------------------------

MOMENTS = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 30), timezones=st.just(UTC))
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
FRACTIONS = st.text(alphabet="0123456789", min_size=1, max_size=9)


def _offset_text(offset: timedelta, style: int) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    hours, minutes = divmod(abs(offset) // timedelta(minutes=1), 60)
    return [f"{sign}{hours:02d}:{minutes:02d}", f"{sign}{hours:02d}{minutes:02d}"][style]


@given(MOMENTS, OFFSETS, FRACTIONS, st.sampled_from("T "), st.sampled_from(".,"), st.integers(0, 2))
@settings(max_examples=500, deadline=None)
def test_iso8601_agrees_with_datetime(
    moment: datetime, zone: timezone, fraction: str, separator: str, mark: str, style: int
) -> None:
    local = moment.astimezone(zone).replace(microsecond=0)
    offset = zone.utcoffset(None)
    zone_text = "Z" if style == 2 and offset == timedelta(0) else _offset_text(offset, style % 2)
    text = local.strftime(f"%Y-%m-%d{separator}%H:%M:%S") + mark + fraction + zone_text
    expected = _ms(local) + int(fraction[:3].ljust(3, "0"))
    assert times.iso8601(pa.array([text]), _ms(RECEIVED)).to_pylist() == [expected if 0 <= expected < MAX_MS else None]


@given(MOMENTS, st.integers(0, 999))
@settings(max_examples=300, deadline=None)
def test_zone_less_formats_agree_with_datetime(moment: datetime, millis: int) -> None:
    moment = moment.replace(microsecond=millis * 1000)
    texts = {
        "slashed": moment.strftime("%Y/%m/%d %H:%M:%S.") + f"{millis:03d}",
        "clf": moment.strftime("%d/%b/%Y:%H:%M:%S.") + f"{millis:03d}",
        "redis": moment.strftime("%d %b %Y %H:%M:%S.") + f"{millis:03d}",
        "ctime": moment.strftime("%a %b %d %H:%M:%S.") + f"{millis:03d}000 " + moment.strftime("%Y"),
    }
    for reader, text in texts.items():
        assert getattr(times, reader)(pa.array([text]), _ms(RECEIVED)).to_pylist() == [_ms(moment)], text


@given(st.integers(-300 * 86_400, 2 * 86_400), st.integers(0, 999))
@settings(max_examples=300, deadline=None)
def test_year_less_formats_find_the_year_within_the_slack(seconds_from_received: int, millis: int) -> None:
    """Any time from 300 days before the receive time to 2 days after is placed in its own year."""
    moment = (RECEIVED + timedelta(seconds=seconds_from_received)).replace(microsecond=millis * 1000)
    for reader, text in {
        "rfc3164": moment.strftime("%b ") + f"{moment.day:2d}" + moment.strftime(" %H:%M:%S.") + f"{millis:03d}",
        "klog": moment.strftime("%m%d %H:%M:%S.") + f"{millis:03d}000",
    }.items():
        assert getattr(times, reader)(pa.array([text]), _ms(RECEIVED)).to_pylist() == [_ms(moment)], text


@given(
    st.integers(1970, 2099),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
)
@example(2024, 2, 29, 0, 0, 0)
@example(2100 - 1, 12, 31, 23, 59, 60)
@settings(max_examples=500, deadline=None)
def test_parts_out_of_range_make_no_time(year: int, month: int, day: int, hour: int, minute: int, second: int) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"
    try:
        expected: int | None = _ms(datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC))
    except ValueError:
        expected = None
    if expected is not None and second == 60:
        expected += 1000  # a leap second is read as the first second of the next minute
    if expected is not None and (second > 60 or not 0 <= expected < MAX_MS):
        expected = None
    assert times.iso8601(pa.array([text]), _ms(RECEIVED)).to_pylist() == [expected]


# -- never raising -----------------------------------------------------------------------------------

RECEIVE_TIMES = st.integers(0, MAX_MS - 1)
_CLOCK = r"[0-9]{2}:[0-9]{2}:[0-9]{2}"
_SHAPES = (  # the times' shapes, with any digits in them
    rf"[0-9]{{4}}[-/][0-9]{{2}}[-/][0-9]{{2}}[T ]{_CLOCK}([.,][0-9]{{0,12}})?( ?[A-Za-z+:0-9-]{{0,6}})?",
    rf"[0-9]{{1,2}}[ /](Jan|Feb|May|Foo)[ /:][0-9]{{4}}[ :]{_CLOCK}(\.[0-9]{{1,9}})?( [+-][0-9]{{4}})?",
    rf"(Sat )?(Feb|Dec|Jan) {{1,2}}[0-9]{{1,2}} {_CLOCK}(\.[0-9]{{1,6}})?( [0-9]{{4}})?",
    rf"[0-9]{{4}} {_CLOCK}\.[0-9]{{6}}",
)
NEAR_TIMES = st.one_of(*(st.from_regex(shape, fullmatch=True) for shape in _SHAPES), st.text(max_size=60))


@given(st.lists(st.one_of(st.none(), NEAR_TIMES), max_size=20), RECEIVE_TIMES)
@example(["Dec 31 23:59:59", "Jan  1 00:00:00", "Feb 29 00:00:00"], 0)
@example(["Dec 31 23:59:59", "Jan  1 00:00:00", "Feb 29 00:00:00"], MAX_MS - 1)
@settings(max_examples=500, deadline=None)
def test_readers_never_raise_and_answer_only_storable_times(texts: list[str | None], received_ms: int) -> None:
    column = pa.array(texts, pa.string())
    for name in READERS:
        found = getattr(times, name)(column, received_ms)
        assert found.type == pa.int64() and len(found) == len(texts)
        assert all(value is None or 0 <= value < MAX_MS for value in found.to_pylist()), name
