"""Times as log formats write them, read a column at a time.

Each reader here is a `TimeReader` (parse/format.py): one RE2 pattern whose named groups are
the parts of a time (`year`, `month` or `mon`, `day`, `hour`, `minute`, `second`, `fraction`,
`zone`), turned into epoch milliseconds with civil-date arithmetic on whole columns (numpy),
no per-value Python. A format's time
group hands a reader whatever a line holds there, so a reader never raises: a text it does not
read, or whose parts are out of range (31 April, 24:00), is null rather than a neighbouring
day. Arrow's own `strptime` and casts raise, reject fractions and zone-less times, so they are
not used.

- No zone means UTC. Syslog's traditional times are the sender's local time, but the line
  does not say which zone that is.
- A zone is `Z`, a numeric offset, or an abbreviation whose meaning is not in doubt (ZONES);
  an ambiguous one (CST is both Chicago and Shanghai) makes the time null, not hours wrong.
- Fractions are cut (not rounded) to milliseconds.
- No year (syslog, klog): of the receive time's year, the one before and the one after, the
  one that puts the time latest but not more than FUTURE_SLACK_MS after the receive time. So
  `Dec 31 23:59:59` received on New Year's Day is last year's, and a sender whose clock runs a
  little fast (or whose local zone is east of UTC) stays in this year.
- Times the store cannot keep (before 1970, from 2100 on; parse/timestamps.py) are null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.parse.format import TimeReader
from timberyard.parse.timestamps import MAX_MS, SECONDS_CUTOFF

FUTURE_SLACK_MS = 3 * 86_400_000

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Abbreviation -> minutes east of UTC, for the ones that mean one offset wherever they are used.
ZONES = {
    "Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "WET": 0, "WEST": 60, "BST": 60,
    "CET": 60, "CEST": 120, "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180, "SAST": 120,
    "HKT": 480, "AWST": 480, "JST": 540, "KST": 540, "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660,
    "NZST": 720, "NZDT": 780, "HST": -600, "AKST": -540, "AKDT": -480, "PST": -480, "PDT": -420,
    "MST": -420, "MDT": -360, "CDT": -300, "EST": -300, "EDT": -240, "NST": -210, "NDT": -150,
}

_MON = "(?P<mon>" + "|".join(MONTHS) + ")"
_CLOCK = r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
_FRACTION = r"(?:[.,](?P<fraction>[0-9]{1,9}))?"
_OFFSET = r"[+-][0-9]{2}(?::?[0-9]{2})?"
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
_MONTH_NAMES = pa.array(MONTHS, pa.string())
_ZONE_NAMES = pa.array(list(ZONES), pa.string())
_ZONE_MINUTES = pa.array(list(ZONES.values()), pa.int64())
_NUMERIC_ZONE = r"^(?P<sign>[+-])(?P<hours>[0-9]{2}):?(?P<minutes>[0-9]{2})?$"


def pattern_reader(pattern: str) -> TimeReader:
    """The reader of the times `pattern` matches (anchored; groups named as above)."""

    def read(values: pa.Array, received_ms: int) -> pa.Array:
        return _millis(pc.extract_regex(values, pattern), received_ms)

    return read


def first_of(*readers: TimeReader) -> TimeReader:
    """A reader for a format that writes its time in more than one way: each value is read by
    the first reader that reads it, and later readers see only what is left."""

    def read(values: pa.Array, received_ms: int) -> pa.Array:
        times = readers[0](values, received_ms)
        for reader in readers[1:]:
            unread = pc.and_(times.is_null(), values.is_valid())
            if not pc.any(unread).as_py():
                break
            times = pc.coalesce(times, reader(pc.if_else(unread, values, pa.scalar(None, values.type)), received_ms))
        return times

    return read


# 2025-05-31T04:12:38.669123Z, 2025-05-31 04:12:38,669 +02:00, 2025-05-31 04:12:38.669 UTC
iso8601 = pattern_reader(
    rf"^(?P<year>[0-9]{{4}})-(?P<month>[0-9]{{2}})-(?P<day>[0-9]{{2}})[Tt ]{_CLOCK}{_FRACTION}"
    rf"(?: ?(?P<zone>[Zz]|{_OFFSET}|[A-Z]{{2,5}}))?$"
)
# 2025/05/31 04:12:38 (nginx error log, Go's log package, optionally with microseconds)
slashed = pattern_reader(
    rf"^(?P<year>[0-9]{{4}})/(?P<month>[0-9]{{2}})/(?P<day>[0-9]{{2}}) {_CLOCK}{_FRACTION}$"
)
# 31/May/2025:01:07:43 +0000 (Common Log Format), 31/May/2025:04:12:38.669 (HAProxy)
clf = pattern_reader(
    rf"^(?P<day>[0-9]{{2}})/{_MON}/(?P<year>[0-9]{{4}}):{_CLOCK}{_FRACTION}(?: (?P<zone>[+-][0-9]{{4}}))?$"
)
# Oct 11 22:14:15, Oct  1 22:14:15 (RFC 3164 syslog: no year)
rfc3164 = pattern_reader(rf"^{_MON} +(?P<day>[0-9]{{1,2}}) {_CLOCK}{_FRACTION}$")
# 1204 15:23:16.123456 (klog: MMDD, no year)
klog = pattern_reader(rf"^(?P<month>[0-9]{{2}})(?P<day>[0-9]{{2}}) {_CLOCK}{_FRACTION}$")
# 31 May 2025 04:12:38.669 (Redis)
redis = pattern_reader(rf"^(?P<day>[0-9]{{1,2}}) {_MON} (?P<year>[0-9]{{4}}) {_CLOCK}{_FRACTION}$")
# Sat May 31 04:12:38.123456 2025 (Apache's error log: C's ctime with optional microseconds)
ctime = pattern_reader(
    rf"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) {_MON} +(?P<day>[0-9]{{1,2}}) {_CLOCK}{_FRACTION} (?P<year>[0-9]{{4}})$"
)


def stated(values: pa.Array) -> pa.Array:
    """Epoch ms of the times structured lines state (a JSON or logfmt `time`, `ts` ...), as
    numbers or text: numbers below 10^11 are seconds, others milliseconds (text that is a
    number counts as one); other text is read as ISO 8601. Null where unreadable or outside
    1970-2099. The vectorised twin of parse/timestamps.py, which reads one value."""
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
        return _epoch(values.cast(pa.float64(), safe=False))  # (whole numbers past 2**53 round)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return pa.nulls(len(values), pa.int64())
    trimmed = pc.utf8_trim_whitespace(values)
    numeric = pc.fill_null(pc.match_substring_regex(trimmed, _DECIMAL), False)
    numbers = _epoch(pc.cast(pc.if_else(numeric, trimmed, None), pa.float64()))
    return pc.if_else(numeric, numbers, iso8601(pc.if_else(numeric, None, trimmed), 0))


def _epoch(numbers: pa.Array) -> pa.Array:
    scaled = pc.if_else(pc.less(numbers, SECONDS_CUTOFF), pc.multiply(numbers, 1000.0), numbers)
    rounded = pc.round(scaled)
    usable = pc.fill_null(pc.and_(pc.greater_equal(rounded, 0), pc.less(rounded, MAX_MS)), False)
    return pc.if_else(usable, rounded, None).cast(pa.int64())


_DECIMAL = r"^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?$"


def _millis(parts: pa.StructArray, received_ms: int) -> pa.Array:
    """Epoch ms from the parts a reader's pattern found; null where it found none."""
    if parts.null_count == len(parts):
        return pa.nulls(len(parts), pa.int64())
    groups = {parts.type.field(index).name for index in range(parts.type.num_fields)}

    def number(name: str) -> np.ndarray:
        return _integers(pc.struct_field(parts, name))

    if "mon" in groups:
        month = _integers(pc.add(pc.index_in(pc.struct_field(parts, "mon"), value_set=_MONTH_NAMES), 1))
    else:
        month = number("month")
    fraction = pc.utf8_rpad(pc.utf8_slice_codeunits(pc.struct_field(parts, "fraction"), 0, 3), 3, "0")
    clock = _Clock(number("day"), number("hour"), number("minute"), number("second"), _integers(fraction))
    offset, known = _offset_minutes(pc.struct_field(parts, "zone")) if "zone" in groups else (0, True)
    if "year" in groups:
        times, valid = _civil_ms(number("year"), month, clock, offset)
    else:
        times, valid = _nearest_year(month, clock, offset, received_ms)
    valid &= known & (times >= 0) & (times < MAX_MS)
    return pa.array(times, pa.int64(), mask=~valid)


class _Clock(NamedTuple):
    day: np.ndarray
    hour: np.ndarray
    minute: np.ndarray
    second: np.ndarray
    millis: np.ndarray


def _integers(values: pa.Array) -> np.ndarray:
    """Digits (the patterns allow nothing else) as numbers; -1, which no part may be, where
    there are none."""
    if pa.types.is_string(values.type):
        values = pc.cast(pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values), pa.int64())
    return pc.fill_null(values, -1).to_numpy().astype(np.int64, copy=False)


def _offset_minutes(zones: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Minutes east of UTC (0 where no zone is written), and whether the zone is one we know."""
    written = _flags(pc.not_equal(zones, ""))
    named = pc.take(_ZONE_MINUTES, pc.index_in(pc.utf8_upper(zones), value_set=_ZONE_NAMES))
    is_named = _flags(named.is_valid())
    numeric = pc.extract_regex(zones, _NUMERIC_ZONE)
    hours = _integers(pc.struct_field(numeric, "hours"))
    minutes = np.maximum(_integers(pc.struct_field(numeric, "minutes")), 0)  # "+03" has none
    west = _flags(pc.equal(pc.struct_field(numeric, "sign"), "-"))
    offset = np.where(is_named, _integers(named), np.where(west, -1, 1) * (hours * 60 + minutes))
    known = ~written | is_named | ((hours >= 0) & (hours <= 23) & (minutes <= 59))
    return np.where(written, offset, 0), known


def _flags(values: pa.Array) -> np.ndarray:
    return pc.fill_null(values, False).to_numpy(zero_copy_only=False)


def _nearest_year(
    month: np.ndarray, clock: _Clock, offset: np.ndarray | int, received_ms: int
) -> tuple[np.ndarray, np.ndarray]:
    """`_civil_ms` in the year the module docstring describes."""
    year = datetime.fromtimestamp(received_ms / 1000, UTC).year
    limit = received_ms + FUTURE_SLACK_MS
    best, best_valid = _civil_ms(np.int64(year - 1), month, clock, offset)
    for candidate in (year, year + 1):
        times, valid = _civil_ms(np.int64(candidate), month, clock, offset)
        better = valid & (times <= limit)
        best, best_valid = np.where(better, times, best), best_valid | better
    return best, best_valid


def _civil_ms(
    year: np.ndarray, month: np.ndarray, clock: _Clock, offset: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray]:
    """Epoch ms of a proleptic Gregorian date and time at `offset` minutes east of UTC, and
    whether its parts are in range. Days from civil is Howard Hinnant's algorithm."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    days_in_month = _DAYS_IN_MONTH[np.clip(month - 1, 0, 11)] + (leap & (month == 2))
    valid = (
        (year >= 0) & (month >= 1) & (month <= 12) & (clock.day >= 1) & (clock.day <= days_in_month)
        & (clock.hour >= 0) & (clock.hour <= 23) & (clock.minute >= 0) & (clock.minute <= 59)
        & (clock.second >= 0) & (clock.second <= 60)  # RFC 3339 allows a leap second
        & (clock.millis >= 0)
    )
    shifted = year - (month <= 2)  # the year as if it began in March, so a leap day comes last
    era = shifted // 400
    year_of_era = shifted - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + clock.day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146_097 + day_of_era - 719_468
    minutes = (days * 24 + clock.hour) * 60 + clock.minute - offset
    return (minutes * 60 + clock.second) * 1000 + clock.millis, valid
