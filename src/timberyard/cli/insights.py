"""`timberyard insights ...`: what the node's insights found, read over its API with a service key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from timberyard.cli import main
from timberyard.cli.remote import client as _client
from timberyard.cli.remote import read_key_option, server_option
from timberyard.cli.render import print_table, terminal_safe

BARS = "▁▂▃▄▅▆▇█"


@main.group()
def insights() -> None:
    """Insights: log templates that are new or growing (see docs/insights.md)."""


@insights.command("templates")
@server_option
@read_key_option
@click.option("--since", default="24h", show_default=True, help="Start of the window: epoch, ISO 8601, or an expression like 2h, 'today 14:05'.")
@click.option("--until", default="now", show_default=True, help="End of the window, in the same forms.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200), help="Most templates in each list.")
@click.option("--min-lines", default=10, show_default=True, type=click.IntRange(1), help="Growing: least lines in the window.")
@click.option("--min-ratio", default=3.0, show_default=True, type=click.FloatRange(1), help="Growing: least ratio to the window before.")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON answer instead of tables.")
def insights_templates(
    server: str, key: str, since: str, until: str, limit: int, min_lines: int, min_ratio: float, as_json: bool
) -> None:
    """Log templates new since a time, and those that grew, with their counts.

    A template is the constant text of a kind of line, with <*> where lines differ. NEW are the
    templates whose first line is at or after --since; GROWING are older ones with at least
    --min-lines lines in the window and --min-ratio times as many as in the equally long
    window before it. Search a template's lines with `timberyard search 'template:ID'`.

    \b
    What is new since the deploy at 14:05?
      timberyard insights templates --since 'today 14:05'
    Which kinds of line grew in the last hour, compared with the hour before?
      timberyard insights templates --since 1h
    Yesterday, as JSON for a script:
      timberyard insights templates --since 'yesterday' --until 'today' --json
    """
    params = {"since": since, "until": until, "limit": limit, "min_lines": min_lines, "min_ratio": min_ratio}
    with _client(server, key) as client:
        answer = client.request("GET", "/api/v1/insights/templates", params=params).json()
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    window = answer["window"]
    click.echo(f"{_time(window['from'])} to {_time(window['to'])}, {window['bucket_ms'] // 60_000} min a bar")
    _print(answer["new"], "New templates", "first seen", lambda item: _time(item["first_seen"]))
    _print(answer["growing"], "Growing templates", "before → now /min", _growth)


def _print(items: list[dict[str, Any]], title: str, what: str, shown: Any) -> None:
    if not items:
        click.echo(f"{title}: none")
        return
    from rich.table import Column, Table
    from rich.text import Text

    table = Table(what, "app", "lines", "levels", "trend", Column("id", no_wrap=True), "template", title=title)
    for item in items:  # texts as Text: `[x]` in a log template is not rich markup
        levels = ", ".join(f"{level} {count}" for level, count in item["levels"].items())
        trend = sparkline(item.get("sparkline_before", []) + item["sparkline"])
        text = "(text unknown)" if item["text"] is None else terminal_safe(item["text"])
        table.add_row(shown(item), Text(terminal_safe(item["app"])), str(item["lines"]), Text(levels), trend, item["id"], Text(text))
    print_table(table)


def _growth(item: dict[str, Any]) -> str:
    return f"{item['per_minute_before']:g} → {item['per_minute']:g} (x{item['ratio']:g})"


def sparkline(counts: list[int]) -> str:
    """Counts as a row of block characters, the highest a full block, zero the lowest."""
    top = max(counts, default=0)
    if not top:
        return BARS[0] * len(counts)
    return "".join(BARS[max(1, round(count * (len(BARS) - 1) / top)) if count else 0] for count in counts)


def _time(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
