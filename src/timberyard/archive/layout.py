"""Object names, compatible with Mezmo's archive layout.

    year=YYYY/month=MM/day=DD/<account>.<YYYY>-<MM>-<DD>.<HH>00.json.gz          first file of an hour
    year=YYYY/month=MM/day=DD/<account>.<YYYY>-<MM>-<DD>.<HH>00.<N>.json.gz      lines that came later
    year=YYYY/month=MM/day=DD/<account>.<YYYY>-<MM>-<DD>.<HH>00[.<N>].parquet    the same, format parquet
    digests/year=YYYY/month=MM/day=DD/<account>.<YYYY>-<MM>-<DD>.<HH>00[.<N>].digest.json

The hour of a data file is the hour (UTC) of its lines' `ts`; the hour of a digest is when the
run that wrote it happened. `.enc` follows `.json.gz` or `.parquet` when the file is
client-side encrypted. An hour's `.N` numbers count its files of both formats, so an account
that changes format keeps one sequence per hour and never reuses a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR_MS = 3_600_000
DIGESTS = "digests/"
FORMATS = ("json", "parquet")
EXTENSIONS = {"json": ".json.gz", "parquet": ".parquet"}
_DATA = re.compile(
    r"^year=(\d{4})/month=(\d\d)/day=(\d\d)/(?P<account>[^/]+)\.(?P<date>\d{4}-\d\d-\d\d)\.(?P<hour>\d\d)00"
    r"(?:\.(?P<n>\d+))?(?P<ext>\.json\.gz|\.parquet)(?P<enc>\.enc)?$"
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


def data_key(account: str, hour_ms: int, n: int, encrypted: bool, fmt: str = "json") -> str:
    """The name of the n-th file (0: the first) of `account`'s lines of one hour, in `fmt`."""
    suffix = f".{n}" if n else ""
    return f"{_stem(account, hour_ms)}{suffix}{EXTENSIONS[fmt]}{'.enc' if encrypted else ''}"


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


@dataclass(frozen=True)
class DataKey:
    """What a data file's name says: whose lines, which hour, which file of it, how stored."""

    account: str
    hour_ms: int
    n: int
    encrypted: bool
    format: str  # "json" or "parquet"


def parse_data_key(key: str) -> DataKey | None:
    """What a data file's name says; None when it is not one."""
    match = _DATA.match(key)
    if match is None:
        return None
    hour = datetime.strptime(f"{match['date']} {match['hour']}", "%Y-%m-%d %H").replace(tzinfo=UTC)
    fmt = "parquet" if match["ext"] == ".parquet" else "json"
    return DataKey(match["account"], int(hour.timestamp() * 1000), int(match["n"] or 0), bool(match["enc"]), fmt)


def parse_digest_key(key: str) -> tuple[str, int, int] | None:
    """(account, hour_ms, n) of a digest's name; None when it is not one."""
    match = _DIGEST.match(key)
    if match is None:
        return None
    hour = datetime.strptime(f"{match['date']} {match['hour']}", "%Y-%m-%d %H").replace(tzinfo=UTC)
    return match["account"], int(hour.timestamp() * 1000), int(match["n"] or 0)
