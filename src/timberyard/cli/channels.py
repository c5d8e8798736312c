"""`timberyard channels ...`: where the account's alerts are delivered, over the node's API with
an admin service key. The node checks every setting (the outbound policy included) and masks
every secret in what it answers; the CLI only turns options into the API's JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from timberyard.cli import main
from timberyard.cli.remote import client as _client
from timberyard.cli.remote import server_option, service_key_option
from timberyard.cli.render import print_table

KINDS = ("webhook", "email", "slack", "pagerduty")


@main.group()
def channels() -> None:
    """Alert channels: webhook, email (SMTP), Slack, PagerDuty.

    Reading needs any service key; creating, testing and deleting an admin one (--key or
    TIMBERYARD_SERVICE_KEY). Secrets are never printed: they show as •••• and their last 4
    characters. Pass secrets through the environment, not the command line, where other users
    of the machine can read them (TIMBERYARD_CHANNEL_SECRET for --secret).

    \b
    A webhook with a token and a JSON body template (see docs/alerts.md):
      TIMBERYARD_CHANNEL_SECRET='Bearer …' timberyard channels create webhook ops \\
          --url https://hooks.example.com/alerts --secret-header Authorization \\
          --body '{"text": "{{ name }}: {{ matches }} lines", "lines": "{{ lines }}"}'
    Email through the hospital's relay, a Slack channel, a PagerDuty service:
      TIMBERYARD_CHANNEL_SECRET=… timberyard channels create email oncall --to oncall@example.org \\
          --from timberyard@example.org --smtp-host smtp.example.org --username timberyard
      TIMBERYARD_CHANNEL_SECRET=https://hooks.slack.com/services/… timberyard channels create slack ops-slack
      TIMBERYARD_CHANNEL_SECRET=… timberyard channels create pagerduty payments-pd
    Check, list, remove:
      timberyard channels test CHANNEL_ID
      timberyard channels list
      timberyard channels delete CHANNEL_ID
    """


def _config(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The kind's config from the options; the secret goes where the kind keeps it."""
    secret = options["secret"]
    config: dict[str, Any] = {}
    if kind == "webhook":
        config["url"] = options["url"]
        headers = dict(options["headers"])
        if options["secret_header"]:
            if not secret:
                raise click.UsageError("--secret-header needs the header's value in TIMBERYARD_CHANNEL_SECRET (or --secret)")
            headers[options["secret_header"]] = secret
        config["headers"] = headers
        for key in ("method", "body"):
            if options[key] is not None:
                config[key] = options[key]
        if options["body_file"] is not None:
            config["body"] = options["body_file"].read_text(encoding="utf-8")
    elif kind == "email":
        config.update({"to": list(options["to"]), "from": options["sender"], "smtp_host": options["smtp_host"],
                       "smtp_port": options["smtp_port"], "starttls": options["starttls"],
                       "username": options["username"] or "", "password": secret or ""})
    elif kind == "slack":
        config["url"] = secret or options["url"]
    else:
        config["routing_key"] = secret
        if options["url"]:
            config["url"] = options["url"]
    return config


def _headers(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}")
        found[name.strip()] = rest
    return found


@channels.command("create")
@server_option
@service_key_option
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("name")
@click.option("--url", help="webhook: where to send; pagerduty: the Events API URL [default: PagerDuty's]; slack: the webhook URL (better: the secret).")
@click.option("--method", type=click.Choice(("POST", "PUT", "PATCH")), help="webhook: the HTTP method [default: POST].")
@click.option("--header", "headers", multiple=True, callback=_headers, metavar="NAME=VALUE", help="webhook: a header (repeatable).")
@click.option("--secret-header", help="webhook: a header whose value is the secret (e.g. Authorization).")
@click.option("--body", help="webhook: the JSON body template.")
@click.option("--body-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), help="webhook: the JSON body template, from a file.")
@click.option("--to", multiple=True, help="email: a recipient (repeatable).")
@click.option("--from", "sender", help="email: the sender's address.")
@click.option("--smtp-host", help="email: the mail server.")
@click.option("--smtp-port", type=int, default=587, show_default=True, help="email: its port.")
@click.option("--starttls/--no-starttls", default=True, show_default=True, help="email: upgrade the connection with STARTTLS.")
@click.option("--username", help="email: the SMTP user; the password is the secret.")
@click.option("--secret", envvar="TIMBERYARD_CHANNEL_SECRET", help="The kind's secret: header value, SMTP password, Slack URL or PagerDuty routing key (or TIMBERYARD_CHANNEL_SECRET).")
def channels_create(server: str, key: str, kind: str, name: str, **options: Any) -> None:
    """Create a channel; the node checks it (and may refuse its destination) before saving."""
    body = {"name": name, "kind": kind, "config": _config(kind, options)}
    with _client(server, key) as client:
        created = client.request("POST", "/api/v1/channels", json=body).json()
    click.echo(f"created {created['kind']} channel {created['name']!r} ({created['id']})")


@channels.command("list")
@server_option
@service_key_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (secrets masked) instead of a table.")
def channels_list(server: str, key: str, as_json: bool) -> None:
    """List the account's channels, secrets masked."""
    with _client(server, key) as client:
        listed = client.request("GET", "/api/v1/channels").json()["channels"]
    if as_json:
        click.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("id", "kind", "name", "to")
    for channel in listed:
        table.add_row(str(channel["id"]), channel["kind"], Text(channel["name"]), Text(destination(channel)))
    print_table(table)


def destination(channel: dict[str, Any]) -> str:
    config = channel["config"]
    if channel["kind"] == "email":
        return f"{', '.join(config['to'])} via {config['smtp_host']}:{config['smtp_port']}"
    return str(config.get("url", ""))


@channels.command("test")
@server_option
@service_key_option
@click.argument("channel_id")
def channels_test(server: str, key: str, channel_id: str) -> None:
    """Send a sample notification now and print what the receiver answered; exit 1 if it failed."""
    with _client(server, key) as client:
        outcome = client.request("POST", f"/api/v1/channels/{channel_id}/test").json()
    if outcome["ok"]:
        click.echo(f"delivered (status {outcome['status']})")
        return
    raise click.ClickException(f"not delivered: {outcome['error']}")


@channels.command("delete")
@server_option
@service_key_option
@click.argument("channel_id")
def channels_delete(server: str, key: str, channel_id: str) -> None:
    """Delete a channel; alerts naming it record failed deliveries until they are changed."""
    with _client(server, key) as client:
        deleted = client.request("DELETE", f"/api/v1/channels/{channel_id}").json()
    click.echo(f"deleted {deleted['kind']} channel {deleted['name']!r} ({deleted['id']})")
