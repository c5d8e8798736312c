"""`timberyard alerts ...`: the account's alerts, over the node's API with a service key.

The node checks every definition and answers a clear error naming the field; the CLI only
turns options into the API's JSON and the answers into tables.
"""

from __future__ import annotations

import json
from typing import Any

import click

from timberyard.alerts.choices import DAYS, INTERVALS, KINDS
from timberyard.insights.anomaly import KINDS as ANOMALY_KINDS
from timberyard.cli import main
from timberyard.cli.remote import client as _client
from timberyard.cli.remote import server_option, service_key_option
from timberyard.cli.render import print_table


@main.group()
def alerts() -> None:
    """Alerts: notify when lines appear, stop appearing, or the ingest rate is unusual.

    An alert counts the lines that arrive in each interval (30s to 24h) and fires when a
    presence alert sees at least --threshold of them, when an absence alert sees fewer, or when
    the account's lines per second break an index_rate rule. Every command talks to the node
    (--server, --key or TIMBERYARD_SERVICE_KEY); writing needs a member key or better.

    \b
    Page when 10 or more payment errors arrive within 5 minutes, as soon as they do:
      timberyard alerts create "payment errors" --kind presence --query 'app:payments level:error' \\
          --threshold 10 --interval 5m --immediate --channel 1
    Say so when the nightly backup has not logged in 24 hours:
      timberyard alerts create "backup silent" --kind absence --query 'app:backup completed' --interval 24h
    Only during office hours in Paris:
      timberyard alerts create "5xx" --query 'status:>=500' --days mon,tue,wed,thu,fri --hours 9-17 \\
          --timezone Europe/Paris
    What would it say about the last interval, then its history:
      timberyard alerts test ALERT_ID
      timberyard alerts history ALERT_ID
    Quiet for a maintenance window:
      timberyard alerts mute ALERT_ID --until 2026-12-05T18:00:00Z
    Page when the account's archive is more than 6 hours behind, checking every 15 minutes:
      timberyard alerts create "archive behind" --kind archive_lag --max-lag 21600 --interval 15m --channel 2
    Tell channel 2 of every never-seen error template and error-ratio trend the detectors find:
      timberyard alerts create "new errors" --kind anomaly --anomaly-kind new_template \\
          --anomaly-kind error_trend --cooldown 0 --channel 2
    Send the account's security events (repeated failed sign-ins, break-glass access, audit
    chain problems) to channel 2; only the owner may, and service keys are never the owner's,
    so the owner does it in the web UI (Settings → Alerts) or with a signed-in API session.
    """


def _body(options: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key in ("kind", "query", "threshold", "interval", "view_id", "max_lines_per_s", "z_score", "max_lag_s", "min_score"):
        if options.get(key) is not None:
            body[key] = options[key]
    if options.get("anomaly_kinds"):
        body["anomaly_kinds"] = list(options["anomaly_kinds"])
    if options.get("cooldown") is not None:
        body["cooldown_s"] = options["cooldown"]
    filters = {name: list(options[name]) for name in ("apps", "hosts", "levels", "tags") if options.get(name)}
    if filters:
        body["filters"] = filters
    if options.get("channels"):
        body["channel_ids"] = list(options["channels"])
    timing = [name for name in ("immediate", "end_of_interval") if options.get(name)]
    if timing:
        body["timing"] = timing
    if options.get("days") or options.get("hours") or options.get("timezone"):
        schedule: dict[str, Any] = {"timezone": options.get("timezone") or "UTC"}
        if options.get("days"):
            schedule["days"] = [day.strip() for day in options["days"].split(",")]
        if options.get("hours"):
            start, _, end = options["hours"].partition("-")
            if not (start.isdigit() and end.isdigit()):
                raise click.BadParameter("expected START-END in whole hours, e.g. 9-17 or 22-6", param_hint="--hours")
            schedule["hours"] = [int(start), int(end)]
        body["schedule"] = schedule
    return body


def definition_options(function: Any) -> Any:
    options = [
        click.option("--query", help="The search query of the lines to count (the query language of search)."),
        click.option("--view", "view_id", help="Use this saved view's query and filters instead of --query."),
        click.option("--app", "apps", multiple=True, help="Only lines of this app (repeatable)."),
        click.option("--host", "hosts", multiple=True, help="Only lines of this host (repeatable)."),
        click.option("--level", "levels", multiple=True, help="Only lines of this level (repeatable)."),
        click.option("--tag", "tags", multiple=True, help="Only lines with this tag (repeatable)."),
        click.option("--threshold", type=click.IntRange(1), help="Presence: at least this many; absence: fewer than this [default: 1]."),
        click.option("--interval", type=click.Choice(list(INTERVALS)), help="The window lines are counted in [default: 5m; absence 15m and up]."),
        click.option("--immediate", is_flag=True, default=None, help="Presence: fire as soon as the threshold is reached."),
        click.option("--end-of-interval", is_flag=True, default=None, help="Fire when the window closes (the default timing)."),
        click.option("--cooldown", type=click.IntRange(0), help="Seconds before another notification [default: 300]."),
        click.option("--channel", "channels", type=int, multiple=True, help="A channel id to notify (repeatable)."),
        click.option("--days", help=f"Notify only on these days: comma-separated {','.join(DAYS)}."),
        click.option("--hours", help="Notify only in these hours, START-END (22-6 wraps past midnight)."),
        click.option("--timezone", help="The time zone of --days and --hours, e.g. Europe/Paris [default: UTC]."),
        click.option("--max-lines-per-s", "max_lines_per_s", type=float, help="index_rate: fire above this rate."),
        click.option("--z-score", "z_score", type=float, help="index_rate: fire this many deviations from the same hour of past weeks."),
        click.option("--max-lag", "max_lag_s", type=click.IntRange(300), metavar="SECONDS",
                     help="archive_lag: fire while the newest archived line is older than this."),
        click.option("--anomaly-kind", "anomaly_kinds", type=click.Choice(ANOMALY_KINDS), multiple=True,
                     help="anomaly: send anomalies of this kind (repeat for more) [default: all]."),
        click.option("--min-score", "min_score", type=click.FloatRange(0), metavar="SCORE",
                     help="anomaly: leave out surges, silences and volume anomalies whose score is smaller in size."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@alerts.command("create")
@server_option
@service_key_option
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), default="presence", show_default=True, help="What fires it.")
@definition_options
def alerts_create(server: str, key: str, name: str, **options: Any) -> None:
    """Create an alert."""
    with _client(server, key) as client:
        created = client.request("POST", "/api/v1/alerts", json={"name": name, **_body(options)}).json()
    click.echo(f"created {created['kind']} alert {created['name']!r} (id {created['id']})")


@alerts.command("list")
@server_option
@service_key_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def alerts_list(server: str, key: str, as_json: bool) -> None:
    """List the account's alerts."""
    with _client(server, key) as client:
        listed = client.request("GET", "/api/v1/alerts").json()["alerts"]
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    from rich.table import Column, Table
    from rich.text import Text

    table = Table("id", Column("name", overflow="fold"), "kind", Column("what", overflow="fold", ratio=1), "every", "state")
    for alert in listed:
        table.add_row(str(alert["id"]), Text(alert["name"]), alert["kind"], Text(summary(alert)), alert["interval"], _state(alert))
    print_table(table)


def summary(alert: dict[str, Any]) -> str:
    """One line saying when an alert fires."""
    if alert["kind"] == "security":
        return "each security event of the audit trail"
    if alert["kind"] == "index_rate":
        rules = []
        if alert["max_lines_per_s"] is not None:
            rules.append(f"> {alert['max_lines_per_s']:g} lines/s")
        if alert["z_score"] is not None:
            rules.append(f"{alert['z_score']:g} deviations from usual")
        return " or ".join(rules)
    if alert["kind"] == "archive_lag":
        return f"archive > {alert['max_lag_s'] / 3600:g} h behind"
    if alert["kind"] == "anomaly":
        least = f" scoring {alert['min_score']:g} or more" if alert["min_score"] is not None else ""
        return f"each anomaly ({', '.join(alert['anomaly_kinds'])}){least}"
    sign = ">=" if alert["kind"] == "presence" else "<"
    return f"{sign} {alert['threshold']} of {alert['query'] or 'all lines'}"


def _state(alert: dict[str, Any]) -> str:
    if alert["muted"]:
        return "muted"
    if alert["snoozed_until"]:
        return f"snoozed until {alert['snoozed_until']}"
    return "active"


@alerts.command("show")
@server_option
@service_key_option
@click.argument("alert_id")
def alerts_show(server: str, key: str, alert_id: str) -> None:
    """Print one alert's whole definition as JSON."""
    with _client(server, key) as client:
        click.echo(json.dumps(client.request("GET", f"/api/v1/alerts/{alert_id}").json(), indent=2))


@alerts.command("test")
@server_option
@service_key_option
@click.argument("alert_id")
@click.option("--send", is_flag=True, help="Also send a test notification to each of the alert's channels now.")
def alerts_test(server: str, key: str, alert_id: str, send: bool) -> None:
    """Count the last interval in the store and say whether the alert would fire; nothing is
    recorded. With --send, also notify its channels now and show what each answered."""
    with _client(server, key) as client:
        result = client.request("POST", f"/api/v1/alerts/{alert_id}/test", json={"send": send}).json()
    verdict = "would fire" if result["would_fire"] else "would not fire"
    click.echo(f"{result['matches']} lines from {result['window_start']} to {result['window_end']} "
               f"(threshold {result['threshold']}): {verdict}")
    for sent in result.get("sent", []):
        answer = f"ok ({sent['status']})" if sent["ok"] else f"failed: {sent['error']}"
        click.echo(f"channel {sent['channel_id']}: {answer}")


@alerts.command("mute")
@server_option
@service_key_option
@click.argument("alert_id")
@click.option("--until", help="Snooze until this ISO 8601 time (with a zone) instead of muting until unmuted.")
def alerts_mute(server: str, key: str, alert_id: str, until: str | None) -> None:
    """Mute an alert (or snooze it with --until). Firings meanwhile are recorded as suppressed."""
    with _client(server, key) as client:
        muted = client.request("POST", f"/api/v1/alerts/{alert_id}/mute", json={"until": until} if until else {}).json()
    click.echo(f"{muted['name']!r}: {_state(muted)}")


@alerts.command("unmute")
@server_option
@service_key_option
@click.argument("alert_id")
def alerts_unmute(server: str, key: str, alert_id: str) -> None:
    """End a mute or snooze."""
    with _client(server, key) as client:
        unmuted = client.request("POST", f"/api/v1/alerts/{alert_id}/unmute").json()
    click.echo(f"{unmuted['name']!r}: {_state(unmuted)}")


@alerts.command("history")
@server_option
@service_key_option
@click.argument("alert_id")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True, help="How many firings, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with sample lines) instead of a table.")
def alerts_history(server: str, key: str, alert_id: str, limit: int, as_json: bool) -> None:
    """An alert's firings: when, why, and whether it notified or was suppressed (and by what)."""
    with _client(server, key) as client:
        firings = client.request("GET", f"/api/v1/alerts/{alert_id}/history", params={"limit": limit}).json()["firings"]
    if as_json:
        click.echo(json.dumps(firings, indent=2))
        return
    from rich.table import Column, Table
    from rich.text import Text

    table = Table("window start", "state", "matches", "late", Column("reason", overflow="fold", ratio=1))
    for firing in firings:
        state = f"suppressed ({firing['suppressed_by']})" if firing["state"] == "suppressed" else firing["state"]
        table.add_row(firing["window_start"], state, str(firing["matches"]), str(firing["late_lines"]), Text(firing["reason"]))
    print_table(table)


@alerts.command("delete")
@server_option
@service_key_option
@click.argument("alert_id")
def alerts_delete(server: str, key: str, alert_id: str) -> None:
    """Delete an alert and its history."""
    with _client(server, key) as client:
        deleted = client.request("DELETE", f"/api/v1/alerts/{alert_id}").json()
    click.echo(f"deleted alert {deleted['name']!r} (id {deleted['id']})")
