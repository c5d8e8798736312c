"""Timestamps as senders write them (parse.timestamps), to epoch milliseconds."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from timberyard.parse.timestamps import MAX_MS, SECONDS_CUTOFF, parse_timestamp

MS = 1_709_294_400_000  # 2024-03-01T12:00:00Z
S = MS // 1000


@pytest.mark.parametrize(
    ("value", "millis"),
    [
        # epoch milliseconds, as LogDNA clients send them
        (MS, MS),
        (MS + 123, MS + 123),
        (SECONDS_CUTOFF, SECONDS_CUTOFF),
        # epoch seconds: anything below 10^11
        (S, MS),
        (0, 0),
        (1, 1000),
        (4_102_444_799, 4_102_444_799_000),  # the last second of 2099
        # floats
        (S + 0.5, MS + 500),
        (S + 0.123, MS + 123),
        (float(MS), MS),
        (MS + 0.9, MS),  # sub-millisecond part dropped
        # numeric strings
        (str(MS), MS),
        (str(S), MS),
        (f" {S} ", MS),
        (f"{S}.25", MS + 250),
        ("1e9", 1_000_000_000_000),
        # ISO 8601
        ("2024-03-01T12:00:00Z", MS),
        ("2024-03-01T12:00:00.123Z", MS + 123),
        ("2024-03-01T12:00:00.123456Z", MS + 123),
        ("2024-03-01T13:00:00+01:00", MS),
        ("2024-03-01T07:00:00-05:00", MS),
        ("2024-03-01T12:00:00+00:00", MS),
        ("2024-03-01 12:00:00Z", MS),
        ("2024-03-01T12:00:00", MS),  # naive = UTC
        ("2024-03-01 12:00:00.5", MS + 500),
        ("2024-03-01", MS - 12 * 3_600_000),
        ("  2024-03-01T12:00:00Z\n", MS),
    ],
)
def test_readable_times(value: object, millis: int) -> None:
    assert parse_timestamp(value) == millis


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-02-30",
        "12:00:00",
        "Mar 1 2024 12:00:00",
        "01/03/2024",
        "0x10",
        "1709294400000ms",
        "nan",
        "NaN",
        "inf",
        "-inf",
        "Infinity",
        "1e400",
        "-1",
        "-1709294400000",
        -1,
        -0.5,
        -MS,
        math.nan,
        math.inf,
        -math.inf,
        True,
        False,
        None,
        [],
        [MS],
        {},
        {"ts": MS},
        b"1709294400",
        2**62,
        2**63,
        2**64,
        10**30,
        1e300,
        "9" * 400,
    ],
)
def test_unreadable_values_are_none(value: object) -> None:
    assert parse_timestamp(value) is None


def test_the_last_accepted_millisecond_is_the_end_of_2099() -> None:
    assert parse_timestamp(MAX_MS - 1) == MAX_MS - 1
    assert parse_timestamp("2099-12-31T23:59:59.999Z") == MAX_MS - 1
    assert parse_timestamp(MAX_MS) is None
    assert parse_timestamp("2100-01-01T00:00:00Z") is None


@pytest.mark.parametrize(
    ("value", "millis"),
    [
        # x.978 s is not exact in binary: seconds * 1000 gives ...977.99999, which int() floors
        ("2004-07-09T09:05:20.978Z", 1_089_363_920_978),
        ("2039-06-24T19:32:57.186Z", 2_192_556_777_186),
        ("1972-02-17T00:00:00.004+00:00", 67_132_800_004),
        (1_089_363_920.978, 1_089_363_920_978),
        ("1089363920.978", 1_089_363_920_978),
    ],
)
def test_fractional_seconds_are_not_rounded_down_a_millisecond(value: object, millis: int) -> None:
    assert parse_timestamp(value) == millis


def test_naive_and_utc_iso_agree() -> None:
    assert parse_timestamp("2030-06-15T08:30:00") == parse_timestamp("2030-06-15T08:30:00Z")
    expected = int(datetime(2030, 6, 15, 8, 30, tzinfo=UTC).timestamp() * 1000)
    assert parse_timestamp("2030-06-15T08:30:00") == expected


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
@settings(deadline=None)
def test_iso_round_trips(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    millis = int(moment.timestamp()) * 1000 + moment.microsecond // 1000
    assert parse_timestamp(moment.isoformat()) == millis
    assert parse_timestamp(moment.isoformat().replace("+00:00", "Z")) == millis


@given(st.integers(min_value=SECONDS_CUTOFF, max_value=MAX_MS - 1))
@settings(deadline=None)
def test_millisecond_integers_pass_through(millis: int) -> None:
    assert parse_timestamp(millis) == millis


@given(st.integers(min_value=0, max_value=SECONDS_CUTOFF - 1))
@settings(deadline=None)
def test_second_integers_are_scaled(seconds: int) -> None:
    if seconds * 1000 >= MAX_MS:
        assert parse_timestamp(seconds) is None
        return
    assert parse_timestamp(seconds) == seconds * 1000
    assert parse_timestamp(str(seconds)) == seconds * 1000


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@given(JSON_VALUES)
@example("0001-01-01T00:00:00+14:00")
@example("9999-12-31T23:59:59-14:00")
@example("1" * 5000)
@example("١٧٠٩٢٩٤٤٠٠")  # Arabic-Indic digits: float() reads them
@settings(deadline=None)
def test_never_raises_and_answers_none_or_a_non_negative_int(value: object) -> None:
    result = parse_timestamp(value)
    assert result is None or type(result) is int
    if not isinstance(value, str):
        assert result is None or 0 <= result < MAX_MS


@given(st.text())
@settings(deadline=None)
def test_any_text_never_raises(text: str) -> None:
    result = parse_timestamp(text)
    assert result is None or type(result) is int
