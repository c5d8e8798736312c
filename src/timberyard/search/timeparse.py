"""Times and time ranges as people type them, to epoch milliseconds: one reader for API, CLI and UI.

Pure: no I/O. The current time (`now`) and the timezone that natural-language forms are read in
(`tz`, default UTC) are parameters, so every answer is reproducible.

Every expression stands for a span of time [start, end]:

- an instant is a span of one point: epoch seconds or ms and ISO 8601 (read by
  `timberyard.parse.timestamps.parse_timestamp`), `now`, a duration back from now (`15m`, `2h`,
  `90 minutes`, `2 hours ago`, `-15m`, `1h30m`, `an hour ago`), a day with a clock time
  (`yesterday 1pm`, `today at 11am`, `last fri 4:30pm`, `11/12 1 AM`, `2026-11-12 13:05`,
  `1pm yesterday`) or a clock time alone (`3pm`, `13:30`, `noon`, `midnight`);
- a day is a span from its 00:00 to 23:59:59.999 in `tz`: `today`, `yesterday`, `tomorrow`,
  `fri`, `last monday`, `11/12`, `11/12/2025`, `2026-11-12`;
- `last 2 hours` / `past 15m` / `last week` is the span from that long ago until now, and
  `this week` runs from Monday 00:00 to the end of Sunday.

`parse_time` answers the start of the span, or its end with `end=True` (`since A` is A, as below). `parse_range` reads
`A to B` (also `A - B` and `A until B`, with an optional leading `from`) as A's start to B's end,
`since A` as A's start to now, and a single expression as its whole span when it is a day or a
`last ...` span, else from that instant until now.

Decisions:
- durations are elapsed time (`3 days ago` is exactly 72 hours back), while day words are calendar
  days in `tz` (so `yesterday` is 23 or 25 hours long across a DST change);
- a form without an explicit date reads as its most recent occurrence that is not in the future:
  `fri` is today on a Friday (`last fri` is then a week ago), `11/12` is this year's or else last
  year's, `3pm` is yesterday's until 3pm today has come;
- in a range, an end that is only a clock time takes the start's day (`yesterday 1pm to 3pm`),
  or the day after when that would end before it starts (`11pm to 1am`);
- month/day is US order; two-digit years are 20xx; a naive ISO time is read in `tz`;
- a clock time in a DST gap or overlap takes the earlier offset (zoneinfo's fold=0).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TypeVar

from timberyard.core.errors import BadRequest
from timberyard.parse.timestamps import in_range, parse_timestamp

MAX_TEXT = 200
_T = TypeVar("_T")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_EXAMPLES = "15m, 2h ago, yesterday 1pm, last fri 4:30pm, 11/12 1 AM, 2026-11-28T10:00Z, or an epoch time"
_RANGE_EXAMPLES = f"{_EXAMPLES}; a range is two of these joined by 'to', such as 'yesterday 1pm to 3pm'"


class TimeParseError(BadRequest):
    """A time or time range we cannot read; the message names the text and shows what works."""

    code = "TimeParseError"

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message, text=text)
        self.text = text


# --- pieces of the grammar -------------------------------------------------------------------

_SECOND = 1000
_UNIT_MS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), _SECOND),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60 * _SECOND),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600 * _SECOND),
    **dict.fromkeys(("d", "day", "days"), 86400 * _SECOND),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * 86400 * _SECOND),
}
_UNIT = "|".join(sorted(_UNIT_MS, key=len, reverse=True))
# One "<count><unit>" piece of a duration; "a"/"an" count as 1 but need a space after them.
_PIECE = re.compile(rf"(?:(?P<n>[0-9]{{1,12}}) ?|(?P<a>an?) )(?P<u>{_UNIT})(?![a-z])")

_WEEKDAYS = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_WEEKDAY = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))

_DAY_PATTERN = (
    r"(?P<rel>today|yesterday|tomorrow)"
    rf"|(?P<last>last )?(?P<wd>{_WEEKDAY})"
    r"|(?P<mo>[0-9]{1,2})/(?P<d>[0-9]{1,2})(?:/(?P<y>[0-9]{4}|[0-9]{2}))?"
    r"|(?P<Y>[0-9]{4})[-/](?P<MO>[0-9]{1,2})[-/](?P<D>[0-9]{1,2})"
)
_TIME_PATTERN = (
    r"(?P<word>noon|midnight)"
    r"|(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?)? ?(?P<ap>[ap])\.?m\.?"
    r"|(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<F>[0-9]{1,6}))?)?"
)
_DAY = re.compile(_DAY_PATTERN)
_TIME = re.compile(_TIME_PATTERN)


def _unnamed(pattern: str) -> str:
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


# A day, a clock time, or both in either order ("yesterday at 1pm", "1pm yesterday").
_POINT = re.compile(
    rf"(?P<day>{_unnamed(_DAY_PATTERN)})(?: (?:at )?(?P<time>{_unnamed(_TIME_PATTERN)}))?"
    rf"|(?:at )?(?P<time2>{_unnamed(_TIME_PATTERN)})(?: (?:on )?(?P<day2>{_unnamed(_DAY_PATTERN)}))?"
)
_RANGE_SEP = re.compile(r" (?:to|until|-) ")
_NUMBER = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:e[-+]?[0-9]+)?|[-+]?(?:inf|infinity|nan)")


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    whole: bool = False  # a day or a "last ..." span rather than an instant
    clock: time | None = None  # set when the text was a clock time without a day


@dataclass(frozen=True)
class _Context:
    now_ms: int
    today: date
    tz: tzinfo


# --- public API --------------------------------------------------------------------------------


def parse_time(text: str, *, now: datetime, tz: tzinfo = UTC, end: bool = False) -> int:
    """Epoch ms for `text`: the start of what it names, or with `end=True` the end of it
    (so a bare day as an end means 23:59:59.999 of that day). `since A` reads as the range
    does: A's start, or now as an end. Raises TimeParseError only."""
    normal = _normalize(text, _EXAMPLES)
    ctx = _context(now, tz)
    since = normal.startswith("since ")
    span = _guard(text, _EXAMPLES, lambda: _expression(normal.removeprefix("since "), ctx))
    if span is None:
        raise _unreadable(text, _EXAMPLES)
    if since and end:
        return ctx.now_ms
    return _checked(text, span.end if end else span.start)


def parse_range(text: str, *, now: datetime, tz: tzinfo = UTC) -> tuple[int, int]:
    """(start, end) epoch ms for a range such as `yesterday 1pm to 3pm`, `since 2h`, `last 2 hours`,
    `yesterday` (the whole day) or `15m` (15 minutes ago until now). Raises TimeParseError only."""
    normal = _normalize(text, _RANGE_EXAMPLES)
    ctx = _context(now, tz)
    bounds = _guard(text, _RANGE_EXAMPLES, lambda: _range(normal, ctx))
    if bounds is None:
        raise _unreadable(text, _RANGE_EXAMPLES)
    start, stop = _checked(text, bounds[0]), _checked(text, bounds[1])
    if start > stop:
        raise TimeParseError(
            f"the range {_shown(text)} starts after it ends: {_iso(start)} is later than {_iso(stop)}",
            text=text[:MAX_TEXT],
        )
    return start, stop


# --- reading -----------------------------------------------------------------------------------


def _normalize(text: object, examples: str) -> str:
    if not isinstance(text, str):
        raise TimeParseError(f"a time must be text, not {type(text).__name__}: try {examples}")
    if len(text) > MAX_TEXT:
        raise TimeParseError(
            f"cannot read {_shown(text)}: a time is at most {MAX_TEXT} characters; try {examples}",
            text=text[:MAX_TEXT],
        )
    if not text.isascii():
        raise _unreadable(text, examples)
    return " ".join(text.replace(",", " ").lower().split())


def _context(now: datetime, tz: tzinfo) -> _Context:
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, not {type(now).__name__}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        return _Context(now_ms=_to_ms(now), today=now.astimezone(tz).date(), tz=tz)
    except (OverflowError, ValueError) as exc:
        raise TimeParseError("the current time is outside the times we can work with") from exc


def _guard(text: str, examples: str, read: Callable[[], _T]) -> _T:
    try:
        return read()
    except (OverflowError, ValueError) as exc:  # dates past year 9999 or invalid day numbers
        raise _unreadable(text, examples) from exc


def _range(s: str, ctx: _Context) -> tuple[int, int] | None:
    if s.startswith("since "):
        span = _expression(s[len("since ") :], ctx)
        return None if span is None else (span.start, ctx.now_ms)
    if s.startswith("from "):
        s = s[len("from ") :]
    parts = _RANGE_SEP.split(s)
    if len(parts) == 1:
        span = _expression(s, ctx)
        if span is None:
            return None
        return (span.start, span.end) if span.whole else (span.start, ctx.now_ms)
    if len(parts) != 2:
        return None
    first, last = _expression(parts[0], ctx), _expression(parts[1], ctx)
    if first is None or last is None:
        return None
    stop = last.end
    if last.clock is not None:  # "yesterday 1pm to 3pm": the end takes the start's day
        day = _local_date(first.start, ctx.tz)
        stop = _local_ms(day, last.clock, ctx.tz)
        if stop < first.start:  # "11pm to 1am" runs past midnight
            stop = _local_ms(day + timedelta(days=1), last.clock, ctx.tz)
    return first.start, stop


def _expression(s: str, ctx: _Context) -> _Span | None:
    if s == "now":
        return _Span(ctx.now_ms, ctx.now_ms)
    if s == "this week":
        monday = ctx.today - timedelta(days=ctx.today.weekday())
        return _days(monday, 7, ctx.tz)
    point = _POINT.fullmatch(s)
    if point is not None:
        return _point(point, ctx)
    for prefix in ("last ", "past "):
        if s.startswith(prefix):
            rest = s[len(prefix) :]
            back = _UNIT_MS[rest] if rest in _UNIT_MS else _duration(rest)
            return None if back is None else _Span(ctx.now_ms - back, ctx.now_ms, whole=True)
    back = _relative(s)
    if back is not None:
        return _Span(ctx.now_ms - back, ctx.now_ms - back)
    return _absolute(s, ctx)


def _relative(s: str) -> int | None:
    """Milliseconds back from now for `15m`, `2 hours ago` or `-15m`."""
    if s.startswith("-"):
        return _duration(s[1:].lstrip())
    if s.endswith(" ago"):
        return _duration(s[: -len(" ago")])
    return _duration(s)


def _duration(s: str) -> int | None:
    total, pos, pieces = 0, 0, 0
    while pos < len(s):
        piece = _PIECE.match(s, pos)
        if piece is None:
            return None
        count = int(piece["n"]) if piece["n"] is not None else 1
        total += count * _UNIT_MS[piece["u"]]
        pieces += 1
        pos = piece.end()
        if pos < len(s) and s[pos] == " ":
            pos += 1
            if pos == len(s):
                return None
    return total if pieces else None


def _point(match: re.Match[str], ctx: _Context) -> _Span | None:
    day_text = match["day"] or match["day2"]
    time_text = match["time"] or match["time2"]
    clock = _clock(time_text) if time_text else None
    if time_text and clock is None:
        return None
    if day_text is None:
        assert clock is not None
        at = _local_ms(ctx.today, clock, ctx.tz)
        if at > ctx.now_ms:
            at = _local_ms(ctx.today - timedelta(days=1), clock, ctx.tz)
        return _Span(at, at, clock=clock)
    day = _day(day_text, clock, ctx)
    if day is None:
        return None
    if clock is None:
        return _days(day, 1, ctx.tz)
    at = _local_ms(day, clock, ctx.tz)
    return _Span(at, at)


def _day(s: str, clock: time | None, ctx: _Context) -> date | None:
    m = _DAY.fullmatch(s)
    if m is None:  # pragma: no cover - _POINT matched the same pattern
        return None
    if m["rel"]:
        return ctx.today + timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[m["rel"]])
    if m["wd"]:
        back = (ctx.today.weekday() - _WEEKDAYS[m["wd"]]) % 7
        if m["last"] and back == 0:
            back = 7
        return ctx.today - timedelta(days=back)
    if m["Y"]:
        return date(int(m["Y"]), int(m["MO"]), int(m["D"]))
    month, day_of_month = int(m["mo"]), int(m["d"])
    if m["y"]:
        year = int(m["y"])
        return date(year + 2000 if len(m["y"]) == 2 else year, month, day_of_month)
    # No year: this year's, unless that is still to come; then the latest earlier one (2/29).
    for year in range(ctx.today.year, ctx.today.year - 9, -1):
        try:
            candidate = date(year, month, day_of_month)
        except ValueError:
            continue
        if _local_ms(candidate, clock or time(0), ctx.tz) <= ctx.now_ms:
            return candidate
    return None


def _clock(s: str) -> time | None:
    m = _TIME.fullmatch(s)
    if m is None:  # pragma: no cover - _POINT matched the same pattern
        return None
    if m["word"]:
        return time(12) if m["word"] == "noon" else time(0)
    if m["ap"]:
        hour, minute, second = int(m["h"]), int(m["m"] or 0), int(m["s"] or 0)
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ap"] == "p" else 0)
        fraction = 0
    else:
        hour, minute, second = int(m["H"]), int(m["M"]), int(m["S"] or 0)
        fraction = int((m["F"] or "").ljust(6, "0"))
    if hour > 23 or minute > 59 or second > 59:
        return None
    return time(hour, minute, second, fraction)


def _absolute(s: str, ctx: _Context) -> _Span | None:
    """Epoch numbers and ISO 8601; a naive ISO time is read in the context's timezone."""
    candidate = s.upper()  # fromisoformat wants "T" and "Z" in capitals
    if _NUMBER.fullmatch(s) is None:
        try:
            return _days(date.fromisoformat(candidate), 1, ctx.tz)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            return None
        if parsed.tzinfo is None:
            at = _to_ms(parsed.replace(tzinfo=ctx.tz))
            return _Span(at, at)
    at = parse_timestamp(candidate)
    return None if at is None else _Span(at, at)


# --- arithmetic --------------------------------------------------------------------------------


def _days(first: date, count: int, tz: tzinfo) -> _Span:
    start = _local_ms(first, time(0), tz)
    stop = _local_ms(first + timedelta(days=count), time(0), tz) - 1
    return _Span(start, stop, whole=True)


def _local_ms(day: date, clock: time, tz: tzinfo) -> int:
    return _to_ms(datetime.combine(day, clock, tzinfo=tz))


def _local_date(millis: int, tz: tzinfo) -> date:
    return (_EPOCH + millis * _MS).astimezone(tz).date()


def _to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // _MS


def _checked(text: str, millis: int) -> int:
    if not in_range(millis):
        raise TimeParseError(
            f"{_shown(text)} is outside the times we keep (1970 up to the end of 2099)", text=text[:MAX_TEXT]
        )
    return millis


# --- messages ----------------------------------------------------------------------------------


def _shown(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _unreadable(text: str, examples: str) -> TimeParseError:
    return TimeParseError(f"cannot read {_shown(text)}: try {examples}", text=text[:MAX_TEXT])


def _iso(millis: int) -> str:
    return (_EPOCH + millis * _MS).isoformat().replace("+00:00", "Z")

