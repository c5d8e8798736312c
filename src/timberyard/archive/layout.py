"""Object names, compatible with Mezmo's archive layout.

    year=YYYY/month=MM/day=DD/<account>.<YYYY>-<MM>-<DD>.<HH>00.json.gz          first file of an hour
    year=YYYY/month=MM/day=DD/<account>.<YYYY>-<MM>-<DD>.<HH>00.<N>.json.gz      lines that came later
    digests/year=YYYY/month=MM/day=DD/<account>.<YYYY>-<MM>-<DD>.<HH>00[.<N>].digest.json

The hour of a data file is the hour (UTC) of its lines' `ts`; the hour of a digest is when the
run that wrote it happened. `.enc` follows `.json.gz` when the file is client-side encrypted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

HOUR_MS = 3_600_000
DIGESTS = "digests/"
_DATA = re.compile(
    r"^year=(\d{4})/month=(\d\d)/day=(\d\d)/(?P<account>[^/]+)\.(?P<date>\d{4}-\d\d-\d\d)\.(?P<hour>\d\d)00"
    r"(?:\.(?P<n>\d+))?\.json\.gz(?P<enc>\.enc)?$"
)
_DIGEST = re.compile(
    r"^digests/year=(\d{4})/month=(\d\d)/day=(\d\d)/(?P<account>[^/]+)\.(?P<date>\d{4}-\d\d-\d\d)\.(?P<hour>\d\d)00"
    r"(?:\.(?P<n>\d+))?\.digest\.json$"
)


def hour_of(ts_ms: int) -> int:
    """The start of the UTC hour holding `ts_ms`, in epoch ms."""
    return ts_ms - ts_ms % HOUR_MS


def _stem(account: str, hour_ms: int) -> str:
    t = datetime.fromtimestamp(hour_ms / 1000, UTC)
    return f"year={t:%Y}/month={t:%m}/day={t:%d}/{account}.{t:%Y-%m-%d}.{t:%H}00"


def data_key(account: str, hour_ms: int, n: int, encrypted: bool) -> str:
    """The name of the n-th file (0: the first) of `account`'s lines of one hour."""
    suffix = f".{n}" if n else ""
    return f"{_stem(account, hour_ms)}{suffix}.json.gz{'.enc' if encrypted else ''}"


def digest_key(account: str, hour_ms: int, n: int) -> str:
    suffix = f".{n}" if n else ""
    return f"{DIGESTS}{_stem(account, hour_ms)}{suffix}.digest.json"


def day_prefixes(from_ms: int, to_ms: int) -> list[str]:
    """`year=…/month=…/day=…/` of every UTC day that [from_ms, to_ms) touches."""
    day = datetime.fromtimestamp(from_ms / 1000, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = datetime.fromtimestamp(to_ms / 1000, UTC)
    found = []
    while day < end:
        found.append(f"year={day:%Y}/month={day:%m}/day={day:%d}/")
        day += timedelta(days=1)
    return found


def parse_data_key(key: str) -> tuple[str, int, int, bool] | None:
    """(account, hour_ms, n, encrypted) of a data file's name; None when it is not one."""
    match = _DATA.match(key)
    if match is None:
        return None
    hour = datetime.strptime(f"{match['date']} {match['hour']}", "%Y-%m-%d %H").replace(tzinfo=UTC)
    return match["account"], int(hour.timestamp() * 1000), int(match["n"] or 0), bool(match["enc"])


def parse_digest_key(key: str) -> tuple[str, int, int] | None:
    """(account, hour_ms, n) of a digest's name; None when it is not one."""
    match = _DIGEST.match(key)
    if match is None:
        return None
    hour = datetime.strptime(f"{match['date']} {match['hour']}", "%Y-%m-%d %H").replace(tzinfo=UTC)
    return match["account"], int(hour.timestamp() * 1000), int(match["n"] or 0)
