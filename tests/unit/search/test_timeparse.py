"""The one time reader of API, CLI and UI: a table of forms against a fixed `now`, timezones and
DST, the errors, and random text that may only ever raise TimeParseError."""

from __future__ import annotations

import time as clock
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.core.errors import BadRequest
from timberyard.parse.timestamps import MAX_MS
from timberyard.search.timeparse import MAX_TEXT, TimeParseError, parse_range, parse_time

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    NEW_YORK: tzinfo | None = ZoneInfo("America/New_York")
except (ImportError, ZoneInfoNotFoundError):  # no system tz database and no tzdata package
    NEW_YORK = None

needs_tzdata = pytest.mark.skipif(
    NEW_YORK is None, reason="America/New_York is not available: no system tz database and no tzdata package"
)

NOW = datetime(2026, 11, 28, 10, 15, tzinfo=UTC)  # a Saturday
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(*parts: int, tz: tzinfo = UTC) -> int:
    """Epoch ms of a wall-clock time in `tz`."""
    return (datetime(*parts, tzinfo=tz) - _EPOCH) // timedelta(milliseconds=1)  # type: ignore[misc]


def ago(**delta: float) -> int:
    return (NOW - timedelta(**delta) - _EPOCH) // timedelta(milliseconds=1)


NOW_MS = ago()


def end_of(*day: int, tz: tzinfo = UTC) -> int:
    return ms(*day, 23, 59, 59, 999_000, tz=tz)


# (text, end, expected epoch ms) with now = NOW and tz = UTC
TIME_CASES: list[tuple[str, bool, int]] = [
    # epoch and ISO 8601, read by parse_timestamp
    ("1764324900", False, ms(2025, 11, 28, 10, 15)),
    ("1764324900000", False, ms(2025, 11, 28, 10, 15)),
    ("1764324900.5", False, ms(2025, 11, 28, 10, 15, 0, 500_000)),
    ("0", False, 0),
    ("2026-11-28T10:00Z", False, ms(2026, 11, 28, 10)),
    ("2026-11-28t10:00z", False, ms(2026, 11, 28, 10)),
    ("2026-11-28T10:00:00+02:00", False, ms(2026, 11, 28, 8)),
    ("2026-11-28T10:00:00.250Z", True, ms(2026, 11, 28, 10, 0, 0, 250_000)),
    ("2026-11-28T07:30", False, ms(2026, 11, 28, 7, 30)),
    # now and durations back from it
    ("now", False, NOW_MS),
    ("NOW", True, NOW_MS),
    ("15m", False, ago(minutes=15)),
    ("2h", False, ago(hours=2)),
    ("7d", False, ago(days=7)),
    ("1w", False, ago(weeks=1)),
    ("30s", False, ago(seconds=30)),
    ("90 minutes", False, ago(minutes=90)),
    ("2 hours ago", False, ago(hours=2)),
    ("1 hour ago", False, ago(hours=1)),
    ("3 days ago", False, ago(days=3)),
    ("-15m", False, ago(minutes=15)),
    ("- 15m", False, ago(minutes=15)),
    ("15m", True, ago(minutes=15)),
    ("1h30m", False, ago(hours=1, minutes=30)),
    ("1 hour 30 minutes ago", False, ago(hours=1, minutes=30)),
    ("an hour ago", False, ago(hours=1)),
    ("a day ago", False, ago(days=1)),
    ("5 secs ago", False, ago(seconds=5)),
    ("2 hrs", False, ago(hours=2)),
    ("  2   Hours   AGO ", False, ago(hours=2)),
    # "last ..." spans: start, or now as the end
    ("last 2 hours", False, ago(hours=2)),
    ("last 2 hours", True, NOW_MS),
    ("past 15m", False, ago(minutes=15)),
    ("last hour", False, ago(hours=1)),
    ("last week", False, ago(weeks=1)),
    ("this week", False, ms(2026, 11, 23)),
    ("this week", True, end_of(2026, 11, 29)),
    # days: 00:00 as a start, 23:59:59.999 as an end
    ("today", False, ms(2026, 11, 28)),
    ("today", True, end_of(2026, 11, 28)),
    ("yesterday", False, ms(2026, 11, 27)),
    ("yesterday", True, end_of(2026, 11, 27)),
    ("Yesterday", False, ms(2026, 11, 27)),
    ("tomorrow", False, ms(2026, 11, 29)),
    ("fri", False, ms(2026, 11, 27)),
    ("Friday", True, end_of(2026, 11, 27)),
    ("sat", False, ms(2026, 11, 28)),  # today is a Saturday
    ("last sat", False, ms(2026, 11, 21)),
    ("last monday", False, ms(2026, 11, 23)),
    ("last mon", False, ms(2026, 11, 23)),
    ("sun", False, ms(2026, 11, 22)),
    ("thurs", False, ms(2026, 11, 26)),
    ("11/12", False, ms(2026, 11, 12)),
    ("11/12", True, end_of(2026, 11, 12)),
    ("12/25", False, ms(2025, 12, 25)),  # this year's is still to come
    ("2/29", False, ms(2024, 2, 29)),  # no 2026-02-29: the latest earlier one
    ("11/12/2025", False, ms(2025, 11, 12)),
    ("11/12/25", False, ms(2025, 11, 12)),
    ("2026-11-12", False, ms(2026, 11, 12)),
    ("2026-11-12", True, end_of(2026, 11, 12)),
    ("2026/11/12", False, ms(2026, 11, 12)),
    # days with clock times
    ("today at 11am", False, ms(2026, 11, 28, 11)),
    ("today 9:05", False, ms(2026, 11, 28, 9, 5)),
    ("yesterday 1pm", False, ms(2026, 11, 27, 13)),
    ("yesterday 1pm", True, ms(2026, 11, 27, 13)),
    ("yesterday 13:30", False, ms(2026, 11, 27, 13, 30)),
    ("yesterday at 13:30:15", False, ms(2026, 11, 27, 13, 30, 15)),
    ("yesterday, 1 p.m.", False, ms(2026, 11, 27, 13)),
    ("last fri 4:30pm", False, ms(2026, 11, 27, 16, 30)),
    ("last FRI 4:30 PM", False, ms(2026, 11, 27, 16, 30)),
    ("last fri at 4:30:10pm", False, ms(2026, 11, 27, 16, 30, 10)),
    ("11/12 1 AM", False, ms(2026, 11, 12, 1)),
    ("11/12 1 a.m.", False, ms(2026, 11, 12, 1)),
    ("11/12 1am", False, ms(2026, 11, 12, 1)),
    ("11/28 11pm", False, ms(2025, 11, 28, 23)),  # today at 11pm is still to come
    ("11/12/2025 13:05", False, ms(2025, 11, 12, 13, 5)),
    ("2026-11-12 13:05", False, ms(2026, 11, 12, 13, 5)),
    ("2026-11-12 1:05pm", False, ms(2026, 11, 12, 13, 5)),
    ("1pm yesterday", False, ms(2026, 11, 27, 13)),
    ("12am yesterday", False, ms(2026, 11, 27, 0)),
    ("yesterday 12pm", False, ms(2026, 11, 27, 12)),
    ("yesterday noon", False, ms(2026, 11, 27, 12)),
    # clock times alone: the most recent one that has come
    ("midnight", False, ms(2026, 11, 28)),
    ("noon", False, ms(2026, 11, 27, 12)),
    ("9am", False, ms(2026, 11, 28, 9)),
    ("3pm", False, ms(2026, 11, 27, 15)),
    ("at 10:15", False, ms(2026, 11, 28, 10, 15)),
    ("13:30", False, ms(2026, 11, 27, 13, 30)),
    # `since A` as a from or a to reads as the range `since A` does: A's start to now
    ("since 15m", False, ago(minutes=15)),
    ("since 15m", True, NOW_MS),
    ("since yesterday", False, ms(2026, 11, 27)),
]


@pytest.mark.parametrize(("text", "end", "expected"), TIME_CASES)
def test_parse_time(text: str, end: bool, expected: int) -> None:
    assert parse_time(text, now=NOW, end=end) == expected


# (text, (start, end)) with now = NOW and tz = UTC
RANGE_CASES: list[tuple[str, tuple[int, int]]] = [
    ("yesterday 1pm to 3pm", (ms(2026, 11, 27, 13), ms(2026, 11, 27, 15))),
    ("yesterday 1pm - 3pm", (ms(2026, 11, 27, 13), ms(2026, 11, 27, 15))),
    ("yesterday 1pm  TO  3:30 pm", (ms(2026, 11, 27, 13), ms(2026, 11, 27, 15, 30))),
    ("2h to 1h ago", (ago(hours=2), ago(hours=1))),
    ("-2h - -1h", (ago(hours=2), ago(hours=1))),
    ("last 2 hours", (ago(hours=2), NOW_MS)),
    ("15m", (ago(minutes=15), NOW_MS)),
    ("last week", (ago(weeks=1), NOW_MS)),
    ("this week", (ms(2026, 11, 23), end_of(2026, 11, 29))),
    ("yesterday", (ms(2026, 11, 27), end_of(2026, 11, 27))),
    ("11/12", (ms(2026, 11, 12), end_of(2026, 11, 12))),
    ("yesterday 1pm", (ms(2026, 11, 27, 13), NOW_MS)),
    ("now", (NOW_MS, NOW_MS)),
    ("yesterday to today", (ms(2026, 11, 27), end_of(2026, 11, 28))),
    ("11/12 to 11/14", (ms(2026, 11, 12), end_of(2026, 11, 14))),
    ("2026-11-12 - 2026-11-14", (ms(2026, 11, 12), end_of(2026, 11, 14))),
    ("last fri 4:30pm to now", (ms(2026, 11, 27, 16, 30), NOW_MS)),
    ("11pm to 1am", (ms(2026, 11, 27, 23), ms(2026, 11, 28, 1))),  # runs past midnight
    ("yesterday to 3pm", (ms(2026, 11, 27), ms(2026, 11, 27, 15))),
    ("from yesterday 1pm until 3pm", (ms(2026, 11, 27, 13), ms(2026, 11, 27, 15))),
    ("since yesterday", (ms(2026, 11, 27), NOW_MS)),
    ("since 2h", (ago(hours=2), NOW_MS)),
    ("2026-11-28T08:00Z to 2026-11-28T09:00Z", (ms(2026, 11, 28, 8), ms(2026, 11, 28, 9))),
    ("1764324900 to 1764328500", (ms(2025, 11, 28, 10, 15), ms(2025, 11, 28, 11, 15))),
]


@pytest.mark.parametrize(("text", "expected"), RANGE_CASES)
def test_parse_range(text: str, expected: tuple[int, int]) -> None:
    assert parse_range(text, now=NOW) == expected


def test_range_from_last_friday_to_a_month_day() -> None:
    thursday = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
    assert parse_range("last fri 4:30pm to 11/12 1 AM", now=thursday) == (
        ms(2026, 11, 6, 16, 30),
        ms(2026, 11, 12, 1),
    )


def test_naive_now_is_utc() -> None:
    assert parse_time("yesterday 1pm", now=NOW.replace(tzinfo=None)) == ms(2026, 11, 27, 13)


def test_fixed_offset_timezone() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert parse_time("yesterday 1pm", now=NOW, tz=plus_two) == ms(2026, 11, 27, 11)
    assert parse_time("2026-11-28T10:00", now=NOW, tz=plus_two) == ms(2026, 11, 28, 8)
    assert parse_time("2026-11-28T10:00Z", now=NOW, tz=plus_two) == ms(2026, 11, 28, 10)


@needs_tzdata
def test_new_york() -> None:
    ny = NEW_YORK
    assert ny is not None
    # NOW is 05:15 EST on Saturday 2026-11-28.
    assert parse_time("yesterday 1pm", now=NOW, tz=ny) == ms(2026, 11, 27, 13, tz=ny) == ms(2026, 11, 27, 18)
    assert parse_range("today", now=NOW, tz=ny) == (ms(2026, 11, 28, 5), ms(2026, 11, 29, 4, 59, 59, 999_000))
    assert parse_time("9am", now=NOW, tz=ny) == ms(2026, 11, 27, 9, tz=ny)  # 9am today is still to come
    assert parse_time("midnight", now=NOW, tz=ny) == ms(2026, 11, 28, tz=ny)
    assert parse_time("11/12 1 AM", now=NOW, tz=ny) == ms(2026, 11, 12, 6)
    assert parse_time("2026-11-12 13:05", now=NOW, tz=ny) == ms(2026, 11, 12, 18, 5)  # naive: read in tz
    assert parse_time("2026-11-12T13:05Z", now=NOW, tz=ny) == ms(2026, 11, 12, 13, 5)  # explicit: kept
    assert parse_time("2h", now=NOW, tz=ny) == ago(hours=2)  # durations do not depend on tz
    # 04:00 UTC on Saturday is still Friday 23:00 in New York.
    early = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)
    assert parse_time("today", now=early, tz=ny) == ms(2026, 11, 27, tz=ny)
    assert parse_time("fri", now=early, tz=ny) == ms(2026, 11, 27, tz=ny)
    assert parse_time("last fri", now=early, tz=ny) == ms(2026, 11, 20, tz=ny)


@needs_tzdata
def test_yesterday_across_dst_changes() -> None:
    ny = NEW_YORK
    assert ny is not None
    # Clocks fell back on Sunday 2026-11-01: that day had 25 hours (EDT until 2am, then EST).
    after_fall_back = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    assert parse_range("yesterday", now=after_fall_back, tz=ny) == (
        ms(2026, 11, 1, 4),  # 00:00 EDT
        ms(2026, 11, 2, 4, 59, 59, 999_000),  # 23:59:59.999 EST
    )
    assert parse_time("yesterday 1pm", now=after_fall_back, tz=ny) == ms(2026, 11, 1, 18)  # 13:00 EST
    assert parse_time("yesterday 1am", now=after_fall_back, tz=ny) == ms(2026, 11, 1, 5)  # first 1am (EDT)
    assert parse_time("3h", now=after_fall_back, tz=ny) == ms(2026, 11, 2, 9)  # elapsed time
    # Clocks sprang forward on Sunday 2026-03-08: that day had 23 hours.
    after_spring_forward = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    assert parse_range("yesterday", now=after_spring_forward, tz=ny) == (
        ms(2026, 3, 8, 5),  # 00:00 EST
        ms(2026, 3, 9, 3, 59, 59, 999_000),  # 23:59:59.999 EDT
    )
    assert parse_time("yesterday 13:30", now=after_spring_forward, tz=ny) == ms(2026, 3, 8, 17, 30)  # EDT
    assert parse_range("yesterday 1am to 5am", now=after_spring_forward, tz=ny) == (
        ms(2026, 3, 8, 6),  # 01:00 EST
        ms(2026, 3, 8, 9),  # 05:00 EDT: four hours later, not five
    )


ERROR_CASES = [
    "",
    "   ",
    "tomorow at 5",
    "yesterday 5",
    "13pm",
    "0am",
    "25:00",
    "12:60",
    "yesterday 24:00",
    "13/12",
    "2/30/2026",
    "11/12/1969",
    "2026-13-01",
    "fridays",
    "last",
    "ago",
    "15 parsecs",
    "-15m ago",
    ",,",
    "nan",
    "inf",
    "1e30",
    "-5",
    "99999999999999999999999",
    "2100-01-01T00:00Z",
    "1969-12-31T23:59Z",
    "1000000000 weeks ago",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "1 to 2 to 3",
    "to 3pm",
    "yesterday to",
    "yesterday – today",
    "²",
    "١٢",
    "now\x00",
    "x" * (MAX_TEXT + 1),
]


@pytest.mark.parametrize("text", ERROR_CASES)
def test_unreadable(text: str) -> None:
    for read in (
        lambda: parse_time(text, now=NOW),
        lambda: parse_time(text, now=NOW, end=True),
        lambda: parse_range(text, now=NOW),
    ):
        with pytest.raises(TimeParseError):
            read()


def test_a_small_number_is_epoch_seconds() -> None:
    assert parse_time("15", now=NOW) == 15_000


def test_error_message_names_the_text_and_shows_examples() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_time("tomorow at 5", now=NOW)
    error = caught.value
    assert isinstance(error, BadRequest)
    assert error.status == 400
    assert "'tomorow at 5'" in error.message
    for example in ("15m", "2h ago", "yesterday 1pm", "2026-11-28T10:00Z", "epoch"):
        assert example in error.message
    assert error.to_dict()["code"] == "TimeParseError"


def test_long_text_is_refused_with_a_short_message() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_time("1h " * 100, now=NOW)
    assert "at most 200 characters" in caught.value.message
    assert len(caught.value.message) < 300


def test_range_that_starts_after_it_ends() -> None:
    with pytest.raises(TimeParseError, match="starts after it ends"):
        parse_range("1h to 2h ago", now=NOW)
    with pytest.raises(TimeParseError, match="starts after it ends"):
        parse_range("today to yesterday", now=NOW)
    with pytest.raises(TimeParseError, match="starts after it ends"):
        parse_range("today at 11am", now=NOW)  # an instant alone runs until now


def test_text_must_be_a_string() -> None:
    with pytest.raises(TimeParseError):
        parse_time(12345, now=NOW)  # type: ignore[arg-type]


def test_times_before_1970_are_refused() -> None:
    early = datetime(1970, 1, 1, 0, 10, tzinfo=UTC)
    assert parse_time("5m", now=early) == 5 * 60_000
    with pytest.raises(TimeParseError, match="outside the times we keep"):
        parse_time("15m", now=early)
    with pytest.raises(TimeParseError):
        parse_time("yesterday", now=early)


def test_hostile_input_is_fast() -> None:
    hostile = [
        "1" * MAX_TEXT,
        "1h" * (MAX_TEXT // 2),
        "1 " * (MAX_TEXT // 2),
        "a " * (MAX_TEXT // 2),
        " to " * (MAX_TEXT // 4),
        "11/12 " * (MAX_TEXT // 6),
        "last " * (MAX_TEXT // 5),
    ]
    started = clock.perf_counter()
    for text in hostile:
        for read in (lambda: parse_time(text, now=NOW), lambda: parse_range(text, now=NOW)):
            try:
                read()
            except TimeParseError:
                pass
    assert clock.perf_counter() - started < 1.0


# Words and marks of the grammar, over-represented so random text reaches every branch.
TIME_TEXT = st.lists(
    st.sampled_from(
        [
            " ", "  ", "to", " to ", " - ", "-", "/", ":", ".", "ago", "last", "past", "since", "from",
            "at", "now", "today", "yesterday", "tomorrow", "fri", "monday", "this week", "noon",
            "midnight", "am", "pm", "a.m.", "p.m.", "m", "h", "d", "w", "s", "hours", "minutes",
            "an", "a", "1", "12", "13", "2026", "11/12", "2026-11-12", "T", "Z", "+02:00", "e",
            "0", "9", "inf", "nan", "_", ",",
        ]
    )  # fmt: skip
    | st.characters(),
    max_size=30,
).map("".join)

NOWS = st.datetimes(
    min_value=datetime(1969, 12, 20),
    max_value=datetime(2100, 1, 10),
    timezones=st.just(UTC),
)
ZONES = st.sampled_from(
    [UTC, timezone(timedelta(hours=-12)), timezone(timedelta(hours=14)), *([NEW_YORK] if NEW_YORK else [])]
)


@settings(max_examples=400, deadline=None)
@given(text=TIME_TEXT, now=NOWS, tz=ZONES, end=st.booleans())
def test_random_text_only_raises_time_parse_error(text: str, now: datetime, tz: tzinfo, end: bool) -> None:
    try:
        result = parse_time(text, now=now, tz=tz, end=end)
    except TimeParseError:
        pass
    else:
        assert type(result) is int
        assert 0 <= result < MAX_MS
    try:
        start, stop = parse_range(text, now=now, tz=tz)
    except TimeParseError:
        pass
    else:
        assert type(start) is int and type(stop) is int
        assert 0 <= start <= stop < MAX_MS


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=MAX_TEXT + 20), now=NOWS)
def test_arbitrary_unicode_only_raises_time_parse_error(text: str, now: datetime) -> None:
    try:
        result = parse_time(text, now=now)
    except TimeParseError:
        return
    assert 0 <= result < MAX_MS
