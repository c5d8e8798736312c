"""`timberyard tail`'s connection to the node's live tail (Server-Sent Events).

A tail is left running for hours, across node restarts and upgrades, so when the stream breaks
(the node shuts down, a network hiccup, the client fell too far behind) it reconnects, waiting
longer each time up to RECONNECT_MAX_S, and then says which span of time it may have missed
and the `timberyard search` that shows it. Refusals (a bad key, a bad query, access ended) end
the command: retrying cannot fix them.
"""

from __future__ import annotations

import datetime as dt
import shlex
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import click
import httpx
import orjson

from timberyard.client import RETRYABLE_STATUS, untrusted_certificate

RECONNECT_FIRST_S = 0.5
RECONNECT_MAX_S = 5.0
RESUMABLE = {"ShuttingDown", "TooSlow"}  # stream errors after which a new tail is worth opening


class _Lost(Exception):
    """The stream ended in a way a reconnect may mend."""


def follow(
    server: str, key: str, query: str, show: Callable[[dict[str, Any]], None], *,
    verify: ssl.SSLContext | bool, warn: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
) -> None:
    """Show each matching line until interrupted; reconnect when the stream is lost."""
    url = f"{server.rstrip('/')}/api/v1/tail"
    connected = False
    lost_at: float | None = None
    delay = RECONNECT_FIRST_S
    while True:
        try:
            with httpx.stream("GET", url, params={"q": query}, auth=(key, ""), verify=verify, timeout=httpx.Timeout(10, read=None)) as response:
                if response.status_code != 200:
                    response.read()
                    if lost_at is not None and response.status_code in RETRYABLE_STATUS:
                        raise _Lost(f"the server answered {response.status_code}")
                    raise click.ClickException(f"the server answered {response.status_code}: {_error_of(response)}")
                connected = True
                if lost_at is not None:
                    warn(_gap(lost_at, clock(), query))
                    lost_at, delay = None, RECONNECT_FIRST_S
                for event, data in _events(response):
                    if event != "error":
                        show(data)
                    elif data.get("code") in RESUMABLE:
                        raise _Lost(data["error"])
                    else:
                        raise click.ClickException(data["error"])
                raise _Lost("the server closed the stream")
        except httpx.TransportError as exc:
            untrusted = untrusted_certificate(exc)
            if untrusted:
                raise click.ClickException(f"cannot trust {server}: {untrusted}") from None
            if not connected:
                raise click.ClickException(f"cannot reach {server}: {exc}; is `timberyard serve` running?") from None
            reason = str(exc) or type(exc).__name__
        except _Lost as exc:
            reason = str(exc)
        if lost_at is None:
            lost_at = clock()
            warn(f"lost the live tail at {_stamp(lost_at)} ({reason}); reconnecting (Ctrl-C stops)")
        sleep(delay)
        delay = min(delay * 2, RECONNECT_MAX_S)


def _events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    event = "message"
    for raw in response.iter_lines():
        if raw.startswith("event: "):
            event = raw.removeprefix("event: ")
        elif raw.startswith("data: "):
            yield event, orjson.loads(raw.removeprefix("data: "))
            event = "message"


def _error_of(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", response.text))
    except ValueError:
        return response.text


def _gap(lost_at: float, back_at: float, query: str) -> str:
    since, until = _stamp(lost_at), _stamp(back_at + 1)  # whole seconds, covering both ends
    search = shlex.join(["timberyard", "search", *([query] if query else []), "--from", since, "--to", until, "--asc"])
    return f"reconnected at {until}; lines from {since} to {until} were not shown here. To see them: {search}"


def _stamp(epoch_s: float) -> str:
    return dt.datetime.fromtimestamp(epoch_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
