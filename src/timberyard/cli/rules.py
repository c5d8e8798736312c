"""`timberyard rules ...`: the account's ingest rules, over the node's API with an admin service key.

Like `keys`, these talk to a running node (`--server`, `--key`), which checks every rule and
answers a clear error for a bad one; the CLI only turns options into the API's JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from timberyard.cli import main
from timberyard.cli.remote import client as _client
from timberyard.cli.remote import server_option, service_key_option
from timberyard.cli.render import terminal_safe
from timberyard.cli.render import print_table

KINDS = ("parse", "redact", "exclude", "retain")


@main.group()
def rules() -> None:
    """Ingest rules: parse lines into fields, redact sensitive values, exclude lines, keep
    some lines for fewer days.

    Rules apply to lines that arrive after they are saved, in the order of their position:
    parse rules first, then redaction, exclusion and retention. Every command talks to the node
    and needs an admin service key (--key or TIMBERYARD_SERVICE_KEY). Adding, changing or
    removing a retention rule is the owner's alone (as is the account's retention), which a
    service key never is: the owner does it in the web UI (Settings → Rules); here an admin can
    list them and try one on sample lines.

    \b
    Parse nginx-style lines of app "shop" into fields, trying it on a line first:
      timberyard rules test parse --scope 'app:shop' \\
          --grok '%{IP:client} %{WORD:method} %{URIPATH:path} %{NUMBER:status:int}' \\
          --sample '10.0.0.7 GET /cart 200'
      timberyard rules add parse "shop access" --scope 'app:shop' \\
          --grok '%{IP:client} %{WORD:method} %{URIPATH:path} %{NUMBER:status:int}'
    Mask protected health information everywhere:
      timberyard rules add redact "phi" --preset hipaa --marker '[PHI]'
    Drop health checks, or keep them for live tail and alerts only:
      timberyard rules add exclude "health checks" --query 'path:/healthz'
      timberyard rules add exclude "debug" --query 'level:debug' --preserve-for-tail
    What a rule keeping debug lines 3 days would do to a line:
      timberyard rules test retain --query 'level:debug' --days 3 --sample 'DEBUG cache warm'
    See, change, remove:
      timberyard rules list
      timberyard rules update RULE_ID --disable
      timberyard rules remove RULE_ID
    """


def _pairs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str] | None:
    found: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {value!r}")
        found[name.strip()] = rest
    return found or None


def definition_options(function: Any) -> Any:
    """The options that make up a rule's settings; which go with which kind is in --help."""
    options = [
        click.option("--scope", help="parse, redact: only lines matching this search query (default: every line)."),
        click.option("--regex", help="parse: a regex with named groups, e.g. '(?P<user>\\w+) logged in'."),
        click.option("--grok", help="parse: a grok pattern, e.g. '%{IP:client} %{NUMBER:bytes:int}'."),
        click.option("--type", "types", multiple=True, callback=_pairs, metavar="FIELD=TYPE",
                     help="parse with --regex: convert a field to int, float or bool (repeatable)."),
        click.option("--define", "definitions", multiple=True, callback=_pairs, metavar="NAME=REGEX",
                     help="parse with --grok: an extra grok pattern, used as %{NAME} (repeatable)."),
        click.option("--detector", "detectors", multiple=True,
                     help="redact: a built-in detector: ssn, credit_card, email, phone, ipv4, ipv6, aws_access_key, "
                     "bearer_token, url_password, password_pair, mrn, date_of_birth (repeatable)."),
        click.option("--preset", help="redact: a preset of detectors: hipaa."),
        click.option("--pattern", "patterns", multiple=True, help="redact: a custom regex whose matches are masked (repeatable)."),
        click.option("--marker", help="redact: what replaces a match [default: [REDACTED]]; {detector} names the detector."),
        click.option("--query", help="exclude, retain: the search query of the lines to exclude or keep for --days."),
        click.option("--preserve-for-tail/--drop", "preserve", default=None,
                     help="exclude: keep matching lines for live tail and alerts (not stored), or drop them [default: drop]."),
        click.option("--days", type=click.IntRange(1, 65_535),
                     help="retain: how many days the store keeps the matching lines (the account's retention when shorter)."),
        click.option("--sample", "samples", multiple=True, help="A sample line to try the rule on (repeatable); never stored."),
        click.option("--samples-file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
                     help="Sample lines to try the rule on, one per line ('-' for stdin)."),
        click.option("--sample-app", help="The app of the sample lines, for scopes like app:shop."),
        click.option("--sample-host", help="The host of the sample lines, for scopes like host:web-1."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _definition(options: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key in ("scope", "regex", "grok", "types", "preset", "marker", "query", "days"):
        if options.get(key) is not None:
            body[key] = options[key]
    if options.get("definitions"):
        body["grok_definitions"] = options["definitions"]
    for key in ("detectors", "patterns"):
        if options.get(key):
            body[key] = list(options[key])
    if options.get("preserve") is not None:
        body["preserve_for_tail"] = options["preserve"]
    return body


def _samples(options: dict[str, Any]) -> list[Any] | None:
    """The sample lines given, as strings, or as line objects when --sample-app/--sample-host say more."""
    lines = list(options.get("samples") or ())
    path = options.get("samples_file")
    if path is not None:
        handle = sys.stdin if str(path) == "-" else path.open(encoding="utf-8", errors="replace")
        try:
            lines.extend(text.rstrip("\r\n") for text in handle if text.strip())
        finally:
            if handle is not sys.stdin:
                handle.close()
    origin = {key: options[f"sample_{key}"] for key in ("app", "host") if options.get(f"sample_{key}")}
    if origin:
        return [{"line": line, **origin} for line in lines] or None
    return lines or None


@rules.command("list")
@server_option
@service_key_option
@click.option("--kind", type=click.Choice(KINDS), help="Only rules of this kind.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def rules_list(server: str, key: str, kind: str | None, as_json: bool) -> None:
    """List rules in the order they apply, with lines acted on today (UTC) and in total."""
    with _client(server, key) as client:
        listed = client.request("GET", "/api/v1/rules").json()["rules"]
    listed = [rule for rule in listed if kind is None or rule["kind"] == kind]
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    from rich.table import Column, Table
    from rich.text import Text

    # The id is never cut (update and remove need it whole); patterns wrap rather than being cut.
    table = Table(Column("id", no_wrap=True, min_width=32), "kind", "#", Column("name", overflow="fold"), "on",
                  Column("what", overflow="fold", ratio=1), "today", "total")
    for rule in listed:  # as Text: a pattern such as [0-9] is not rich markup
        table.add_row(rule["id"], rule["kind"], str(rule["position"]), Text(rule["name"]), "yes" if rule["enabled"] else "no",
                      Text(summary(rule)), f"{rule['lines_today']:,}", f"{rule['lines_total']:,}")
    print_table(table)


def summary(rule: dict[str, Any]) -> str:
    """One line saying what a rule does."""
    if rule["kind"] == "parse":
        what = f"grok {rule['grok']}" if rule.get("grok") else f"regex {rule['regex']}"
    elif rule["kind"] == "redact":
        parts = ([f"preset {rule['preset']}"] if rule.get("preset") else []) + list(rule.get("detectors") or [])
        parts += [f"/{p}/" for p in rule.get("patterns") or []]
        what = f"{', '.join(parts)} -> {rule['marker']}"
    elif rule["kind"] == "exclude":
        what = f"{'keep for tail' if rule['preserve_for_tail'] else 'drop'}: {rule['query']}"
    else:
        what = f"keep {rule['days']} day{'' if rule['days'] == 1 else 's'}: {rule['query']}"
    scope = rule.get("scope")
    return f"{what} (where {scope})" if scope else what


@rules.command("add")
@server_option
@service_key_option
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("name")
@definition_options
@click.option("--position", type=click.IntRange(1), help="Where among rules of its kind (1 is first) [default: last].")
@click.option("--disabled", is_flag=True, help="Save it switched off.")
def rules_add(server: str, key: str, kind: str, name: str, position: int | None, disabled: bool, **options: Any) -> None:
    """Add a rule; with --sample/--samples-file, also show what it does to those lines.

    \b
    timberyard rules add parse "payments" --scope 'app:payments' \\
        --regex 'order (?P<order>[A-Z0-9-]+) paid (?P<amount>[0-9.]+)' --type amount=float
    timberyard rules add redact "card numbers" --detector credit_card --detector email
    timberyard rules add redact "patient ids" --pattern 'PID-[0-9]{6}' --marker '[PID]'
    timberyard rules add exclude "noise" --query 'app:kube-probe' --preserve-for-tail
    """
    body = {"kind": kind, "name": name, **_definition(options), "enabled": not disabled}
    if position is not None:
        body["position"] = position
    samples = _samples(options)
    if samples:
        body["samples"] = samples
    with _client(server, key) as client:
        created = client.request("POST", "/api/v1/rules", json=body).json()
    click.echo(f"added {created['kind']} rule {created['name']!r} ({created['id']}) at position {created['position']}"
               f"{'' if created['enabled'] else ', disabled'}")
    if "test" in created:
        _print_test(created["test"])


@rules.command("update")
@server_option
@service_key_option
@click.argument("rule_id")
@click.option("--name", help="A new name.")
@definition_options
@click.option("--position", type=click.IntRange(1), help="Move among rules of its kind (1 is first).")
@click.option("--enable/--disable", "enabled", default=None, help="Switch the rule on or off.")
def rules_update(server: str, key: str, rule_id: str, name: str | None, position: int | None, enabled: bool | None, **options: Any) -> None:
    """Change a rule (id from `rules list`): only the options given change.

    \b
    timberyard rules update RULE_ID --disable
    timberyard rules update RULE_ID --position 1
    timberyard rules update RULE_ID --query 'path:/healthz OR path:/ready'
    """
    body: dict[str, Any] = _definition(options)
    for field, value in (("name", name), ("position", position), ("enabled", enabled)):
        if value is not None:
            body[field] = value
    samples = _samples(options)
    if samples:
        body["samples"] = samples
    if not body:
        raise click.UsageError("nothing to change: give at least one option (see --help)")
    with _client(server, key) as client:
        updated = client.request("PATCH", f"/api/v1/rules/{rule_id}", json=body).json()
    click.echo(f"updated {updated['kind']} rule {updated['name']!r} ({updated['id']}): position {updated['position']}, "
               f"{'enabled' if updated['enabled'] else 'disabled'}")
    if "test" in updated:
        _print_test(updated["test"])


@rules.command("remove")
@server_option
@service_key_option
@click.argument("rule_id")
def rules_remove(server: str, key: str, rule_id: str) -> None:
    """Delete a rule (id from `rules list`); lines already stored keep what it did to them."""
    with _client(server, key) as client:
        deleted = client.request("DELETE", f"/api/v1/rules/{rule_id}").json()
    click.echo(f"removed {deleted['kind']} rule {deleted['name']!r} ({deleted['id']})")


@rules.command("test")
@server_option
@service_key_option
@click.argument("kind", type=click.Choice(KINDS))
@definition_options
@click.option("--json", "as_json", is_flag=True, help="Print the server's JSON answer.")
def rules_test(server: str, key: str, kind: str, as_json: bool, **options: Any) -> None:
    """Try a rule on sample lines without saving it: what matched, the fields, the redacted
    text, excluded or not. Samples are never stored or logged.

    \b
    timberyard rules test parse --grok '%{IP:client} %{NUMBER:bytes:int}' --sample '10.1.2.3 512'
    timberyard rules test parse --scope app:shop --grok '%{IP:client}' --sample-app shop --sample '10.1.2.3 GET'
    timberyard rules test redact --preset hipaa --sample 'patient 123-45-6789 called 555-201-3344'
    tail -n 50 app.log | timberyard rules test exclude --query 'healthz' --samples-file -
    """
    samples = _samples(options)
    if not samples:
        raise click.UsageError("give sample lines with --sample or --samples-file")
    body = {"kind": kind, **_definition(options), "samples": samples}
    with _client(server, key) as client:
        result = client.request("POST", "/api/v1/rules/test", json=body).json()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print_test(result)


def _print_test(result: dict[str, Any]) -> None:
    click.echo(f"{result['matched']} of {result['lines']} sample lines matched")
    for number, line in enumerate(result["results"], start=1):
        mark = "match" if line["matched"] else "no match"
        outcome = "" if line["stored"] else ("  (kept for live tail only)" if line["live_tail"] else "  (dropped)")
        if line.get("retention_days"):
            outcome = f"  (kept {line['retention_days']} days at most)"
        click.echo(f"{number:>3} {mark:<8} {terminal_safe(line['line'])}{outcome}")
        shown = line.get("extracted") if result["kind"] == "parse" else None
        if shown:
            click.echo("             " + terminal_safe(json.dumps(shown, ensure_ascii=False)))
    for warning in result.get("warnings", []):
        click.secho(f"warning: {terminal_safe(warning)}", fg="yellow", err=True)
