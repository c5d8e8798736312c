"""GET /api/v1/timerange: the viewer's "Time range" box read by the one time parser the API and
CLI use, in the browser's timezone, so "yesterday" means the user's yesterday."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, available_timezones

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.errors import BadRequest
from timberyard.search.timeparse import parse_range
from timberyard.web.access import guarded


@functools.cache
def _zone_names() -> frozenset[str]:
    """The IANA names this machine knows. Only these reach ZoneInfo, which would otherwise
    try any name as a file below its zone directories."""
    return frozenset(available_timezones())


@guarded("logs.read")
async def timerange(request: Request) -> JSONResponse:
    """`{"from", "to", "label"}`: epoch ms and the same range as absolute local times, text the
    parser reads back to the same span (what the box shows after a zoom or a preset)."""
    text = request.query_params.get("q", "")
    if not text.strip():
        raise BadRequest("missing param q: a time range such as 'last 2 hours' or 'yesterday 1pm to 3pm'", field="q")
    name = request.query_params.get("tz") or "UTC"
    zone = _zone(name)
    start, end = parse_range(text, now=datetime.now(UTC), tz=zone)
    return JSONResponse({"from": start, "to": end, "label": f"{_local(start, zone)} to {_local(end, zone)}", "tz": name})


def _zone(name: str) -> tzinfo:
    if name in _zone_names():
        return ZoneInfo(name)
    raise BadRequest(f"unknown timezone {name[:64]!r}: give an IANA name such as Europe/Berlin or UTC", field="tz")


def _local(millis: int, zone: tzinfo) -> str:
    """`2026-11-28 13:00:00`, with `.mmm` only when there are milliseconds. In the hour a DST
    change repeats, the second pass carries its offset, since the parser reads a bare time there
    as the first."""
    moment = datetime.fromtimestamp(millis // 1000, UTC).astimezone(zone)
    shown = moment.strftime("%Y-%m-%d %H:%M:%S")
    if millis % 1000:
        shown += f".{millis % 1000:03d}"
    if moment.fold:
        offset = moment.strftime("%z")
        shown += f"{offset[:3]}:{offset[3:]}"
    return shown


routes = [Route("/api/v1/timerange", timerange, methods=["GET"])]
