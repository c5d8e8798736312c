"""The `timberyard` command line.

`serve`, `init` and `accounts` work on a data directory; everything else talks to a running node
over HTTP (`--server`, `TIMBERYARD_URL`), because only the server may open the store.
"""

from __future__ import annotations

import collections
import gzip
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click
import orjson

from timberyard import __version__
from timberyard.cli.remote import client as _client
from timberyard.cli.remote import ingestion_key_option, read_key_option, server_option, service_key_option
from timberyard.cli.remote import trust as remote_trust
from timberyard.cli.render import print_table, terminal_safe
from timberyard.core.errors import TimberyardError


class CliGroup(click.Group):
    """Turns our errors into one clear line and exit status 1, instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TimberyardError as exc:
            raise click.ClickException(exc.message) from None


@click.group(cls=CliGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="timberyard")
def main() -> None:
    """Timberyard: self-hosted log management.

    \b
    Start a node:      timberyard serve --data-dir ./timberyard-data
    Send a file:       timberyard ingest /var/log/syslog --app syslog --host web-1
    Manage keys:       timberyard keys list
    """


def _settings(data_dir: Path | None, config: Path | None, **overrides: Any) -> Any:
    from timberyard.config.settings import load_settings

    return load_settings(config, data_dir=data_dir, **overrides)


data_dir_option = click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="TIMBERYARD_DATA_DIR",
    help="Where the node keeps its store, write-ahead log and metadata. [default: ./timberyard-data]",
)
config_option = click.option(
    "--config", type=click.Path(path_type=Path, dir_okay=False, exists=True), help="A TOML file of settings (see README)."
)


@main.command()
@data_dir_option
@config_option
@click.option("--http", "http", metavar="HOST:PORT", help="Address to listen on. [default: 127.0.0.1:7080]")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), help="Server log level.")
@click.option("--tls-cert", type=click.Path(path_type=Path, dir_okay=False), help="PEM certificate (chain) to serve HTTPS; needs --tls-key.")
@click.option("--tls-key", type=click.Path(path_type=Path, dir_okay=False), help="PEM private key of --tls-cert, unencrypted.")
@click.option("--syslog-udp", metavar="HOST:PORT", help="Receive syslog over UDP here, e.g. 0.0.0.0:5514. [default: off]")
@click.option("--syslog-tcp", metavar="HOST:PORT", help="Receive syslog over TCP here, e.g. 0.0.0.0:5514. [default: off]")
@click.option("--syslog-tls", metavar="HOST:PORT", help="Receive syslog over TLS here, e.g. 0.0.0.0:6514; needs --tls-cert/--tls-key. [default: off]")
@click.option("--relp", metavar="HOST:PORT", help="Receive RELP (rsyslog's omrelp) here, e.g. 0.0.0.0:2514. [default: off]")
@click.option("--relp-tls", metavar="HOST:PORT", help="Receive RELP over TLS here, e.g. 0.0.0.0:2515; needs --tls-cert/--tls-key. [default: off]")
@click.option("--syslog-account", metavar="NAME", help="Account of syslog messages without a key: NAME, or udp=NAME,tls=NAME2,...")
def serve(
    data_dir: Path | None, config: Path | None, http: str | None, log_level: str | None, tls_cert: Path | None, tls_key: Path | None,
    syslog_udp: str | None, syslog_tcp: str | None, syslog_tls: str | None, relp: str | None, relp_tls: str | None,
    syslog_account: str | None,
) -> None:
    """Run a node: HTTP ingestion and APIs on one address (HTTPS with --tls-cert and --tls-key).

    On the first start in an empty data directory it initialises the directory and prints the
    owner's login and the first keys, once: only after the address is bound and the TLS files
    checked, so a start that fails changes nothing and the next one prints them.
    """
    from timberyard.cli.local import audit_change
    from timberyard.core.logsetup import configure_logging
    from timberyard.ingest.syslog.listeners import check as check_syslog
    from timberyard.meta.database import MetaDB
    from timberyard.server import serve as run
    from timberyard.server import transport_options
    from timberyard.web.listener import listen
    from timberyard.web.listener import url as node_url

    host, port = _parse_http(http)
    settings = _settings(
        data_dir, config, http_host=host, http_port=port, log_level=log_level,
        tls_cert=str(tls_cert) if tls_cert else None, tls_key=str(tls_key) if tls_key else None,
        syslog_udp=syslog_udp, syslog_tcp=syslog_tcp, syslog_tls=syslog_tls, syslog_relp=relp, syslog_relp_tls=relp_tls,
        syslog_account=syslog_account,
    )
    configure_logging(settings.log_level, settings.log_format)
    check_syslog(settings)
    transport_options(settings)
    listener = listen(settings.http_host, settings.http_port)
    url = node_url(settings.http_host, settings.http_port, bool(settings.tls_cert))
    meta = MetaDB.open(settings.resolved_metadata_url)
    try:
        if not meta.is_initialised():
            created = meta.initialise(retention_days=settings.retention_days).to_json_dict()
            audit_change(meta, created["account"], "account.create", f"account {created['account_name']}", owner=created["owner_email"])
            _print_first_start(created, settings.data_dir, url)
    finally:
        meta.close()
    click.echo(f"Web UI and API: {url}  (Ctrl-C stops the node)")
    run(settings, listener)


def _parse_http(value: str | None) -> tuple[str | None, int | None]:
    if value is None:
        return None, None
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"expected HOST:PORT such as 127.0.0.1:7080, got {value!r}", param_hint="--http")
    return host.strip("[]") or "127.0.0.1", int(port)


def _print_first_start(created: dict[str, str], data_dir: Path, url: str) -> None:
    click.secho("Timberyard initialised a new data directory. These secrets are shown once:", fg="yellow", bold=True)
    click.echo(f"  data directory : {data_dir}")
    click.echo(f"  owner login    : {created['owner_email']} / {created['owner_password']}")
    click.echo(f"  ingestion key  : {created['ingestion_key']}")
    click.echo(f"  service key    : {created['service_key']}")
    # Double quotes, so the shell runs $(hostname); the key and URL hold no shell characters.
    click.echo(f"  send a line    : curl -u {created['ingestion_key']}: \"{url}logs/ingest?hostname=$(hostname)\" \\")
    click.echo("                     -H 'Content-Type: application/json' -d '{\"lines\":[{\"line\":\"hello\"}]}'")
    sys.stdout.flush()


@main.command()
@data_dir_option
@click.option("--account", "account_name", default="default", show_default=True, help="Name of the first account.")
@click.option("--owner-email", default="owner@localhost", show_default=True, help="The owner user's email.")
@click.option("--json", "as_json", is_flag=True, help="Print the account, owner login and keys as JSON.")
def init(data_dir: Path | None, account_name: str, owner_email: str, as_json: bool) -> None:
    """Initialise a data directory: an account, its owner, an ingestion key and a service key.

    Refuses to touch a directory that is already initialised.
    """
    from timberyard.cli.local import audit_change
    from timberyard.meta.database import MetaDB

    settings = _settings(data_dir, None)
    meta = MetaDB.open(settings.resolved_metadata_url)
    try:
        created = meta.initialise(
            account_name=account_name, owner_email=owner_email, retention_days=settings.retention_days
        ).to_json_dict()
        audit_change(meta, created["account"], "account.create", f"account {account_name}", owner=owner_email)
    finally:
        meta.close()
    if as_json:
        click.echo(json.dumps(created))
    else:
        for name, value in created.items():
            click.echo(f"{name}: {value}")


@main.group()
def accounts() -> None:
    """Accounts (tenants) in a data directory."""


@accounts.command("create")
@data_dir_option
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the account and its keys as JSON.")
def accounts_create(data_dir: Path | None, name: str, as_json: bool) -> None:
    """Create an account with one ingestion key and one admin service key.

    Works while the server runs: accounts live in the metadata database, not the store.
    """
    from timberyard.cli.local import audit_change
    from timberyard.meta.database import MetaDB

    settings = _settings(data_dir, None)
    meta = MetaDB.open(settings.resolved_metadata_url)
    try:
        created = meta.create_account_with_keys(name, settings.retention_days).to_json_dict()
        audit_change(meta, created["account"], "account.create", f"account {name}")
    finally:
        meta.close()
    click.echo(json.dumps(created) if as_json else "\n".join(f"{k}: {v}" for k, v in created.items()))


@main.group()
def keys() -> None:
    """Ingestion and service keys of your account (needs an admin service key)."""


@keys.command("list")
@server_option
@service_key_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def keys_list(server: str, key: str, as_json: bool) -> None:
    """List keys, revoked ones included."""
    with _client(server, key) as client:
        listed = client.request("GET", "/api/v1/keys").json()["keys"]
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    from rich.table import Column, Table
    from rich.text import Text

    # The id is never cut: `keys revoke` needs it whole. `expires` is a rotated key's end of grace.
    table = Table(Column("id", no_wrap=True, min_width=12), "type", "role", "name", "prefix", "created", "last used", "expires", "revoked")
    for k in listed:  # the name as Text: `[x]` in it is not rich markup
        table.add_row(
            k["id"], k["type"], k["role"] or "", Text(k["name"] or ""), k["prefix"] + "…", k["created_at"],
            k["last_used_at"] or "never", k["expires_at"] or "", k["revoked_at"] or "",
        )
    print_table(table)


@keys.command("create")
@server_option
@service_key_option
@click.option("--type", "kind", type=click.Choice(["ingestion", "service"]), required=True, help="Ingestion keys write; service keys read.")
@click.option("--name", help="A label to recognise the key by.")
@click.option("--role", type=click.Choice(["admin", "member", "readonly"]), help="Role of a service key. [default: readonly]")
def keys_create(server: str, key: str, kind: str, name: str | None, role: str | None) -> None:
    """Create a key and print its secret (shown once)."""
    with _client(server, key) as client:
        created = client.request("POST", "/api/v1/keys", json={"type": kind, "name": name, "role": role}).json()
    click.echo(json.dumps(created, indent=2))


@keys.command("revoke")
@server_option
@service_key_option
@click.argument("key_id")
def keys_revoke(server: str, key: str, key_id: str) -> None:
    """Revoke a key by its id (from `keys list`); it stops working at once."""
    with _client(server, key) as client:
        revoked = client.request("DELETE", f"/api/v1/keys/{key_id}").json()
    click.echo(f"revoked {revoked['id']} ({revoked['type']}) at {revoked['revoked_at']}")


_GRACE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _grace_seconds(ctx: click.Context, param: click.Parameter, value: str) -> int:
    """`90s`, `30m`, `24h`, `7d`, or plain seconds."""
    text = value.strip().lower()
    unit = _GRACE_UNITS.get(text[-1:], 0) if text else 0
    number = text[:-1] if unit else text
    if not number.isdigit():
        raise click.BadParameter(f"expected a duration such as 30m, 24h or 7d, got {value!r}")
    return int(number) * (unit or 1)


@keys.command("rotate")
@server_option
@service_key_option
@click.argument("key_id")
@click.option("--grace", default="24h", show_default=True, callback=_grace_seconds, help="How long the old secret keeps working (0 to 30d).")
def keys_rotate(server: str, key: str, key_id: str, grace: int) -> None:
    """Replace a key with a new one of the same type, role and name; print the new secret (shown once)."""
    with _client(server, key) as client:
        rotated = client.request("POST", f"/api/v1/keys/{key_id}/rotate", json={"grace_s": grace}).json()
    click.echo(json.dumps(rotated, indent=2))


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path, exists=True, dir_okay=False, allow_dash=True))
@server_option
@ingestion_key_option
@click.option("--host", "hostname", default=None, help="Host name for the lines. [default: this machine's]")
@click.option("--app", default=None, help="App name for the lines. [default: the file's name]")
@click.option("--level", default=None, help="Level for every line (else detected from each line).")
@click.option("--tags", default=None, help="Comma-separated tags.")
@click.option("--batch-lines", default=1000, show_default=True, help="Lines per request.")
@click.option(
    "--import/--live", "import_times", default=None,
    help="--import: each line keeps the time it states, back to the account's retention (the default for "
    "files); --live: times more than a day from now become the time of arrival (the default for stdin).",
)
@click.option("-f", "--follow", is_flag=True, help="Keep following the files (rotation included) and send each new line within a second; Ctrl-C stops.")
def ingest(
    files: tuple[Path, ...], server: str, key: str, hostname: str | None, app: str | None, level: str | None,
    tags: str | None, batch_lines: int, import_times: bool | None, follow: bool,
) -> None:
    """Send log files (or stdin, with no FILES or '-') to a node, in batches, with retries.

    Each line is parsed by the node (JSON, logfmt, nginx, syslog, ... and the time it states).
    Lines from a pipe go within a second; `--follow` keeps sending what files gain. To ship
    logs for good, run `timberyard agent` (offsets kept across restarts, a disk spool).

    \b
    timberyard ingest access.log --app nginx --host web-1
    timberyard ingest --follow /var/log/app/*.log --app app
    journalctl -f -o cat | timberyard ingest --app journal
    """
    import socket
    import stat

    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    from timberyard.agent.follow import pipe_batches

    hostname = hostname or socket.gethostname()
    if follow:
        if not files or any(str(path) == "-" for path in files):
            raise click.UsageError("--follow needs FILES; standard input is sent as it comes without it")
        if level or import_times:
            raise click.UsageError("--level and --import do not apply to --follow (the node detects levels; lines get the time they are read)")
        from timberyard.agent.follow import follow_files

        cacert, insecure = remote_trust()
        click.echo(f"following {len(files)} file(s) to {server}; Ctrl-C stops", err=True)
        follow_files(server, key, list(files), hostname=hostname, app=app, tags=tags, ca_file=cacert, insecure=insecure)
        return
    sources = list(files) or [Path("-")]
    if import_times is None:
        import_times = all(str(path) != "-" for path in sources)
    params = {"hostname": hostname, "import": "true" if import_times else "false", **({"tags": tags} if tags else {})}
    total = sum(p.stat().st_size for p in sources if str(p) != "-") or None
    sent = 0
    problems: collections.Counter[str] = collections.Counter()
    with _client(server, key, max_attempts=8) as client, Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn(),
        transient=False, disable=not sys.stderr.isatty(), console=None,
    ) as progress:
        task = progress.add_task("sending", total=total)
        for path in sources:
            source_app = app or ("stdin" if str(path) == "-" else path.name)
            with _open(path) as handle:
                piped = str(path) == "-" and not stat.S_ISREG(os.fstat(handle.fileno()).st_mode)
                for batch, size in (pipe_batches(handle, batch_lines) if piped else _batches(handle, batch_lines)):
                    if not batch:
                        progress.update(task, advance=size)
                        continue
                    lines = [{"line": text, "app": source_app, **({"level": level} if level else {})} for text in batch]
                    body = gzip.compress(orjson.dumps({"lines": lines}), compresslevel=1)
                    answer = client.request(
                        "POST", "/logs/ingest", params=params, content=body,
                        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                    ).json()
                    problems.update(answer.get("problems", {}))
                    sent += len(batch)
                    progress.update(task, advance=size, description=f"sent {sent:,} lines")
    retries = f" ({client.retries} retried requests)" if client.retries else ""
    click.echo(f"sent {sent:,} lines to {server}{retries}", err=True)
    for name, count in sorted(problems.items()):
        click.echo(f"  {count:,} {INGEST_PROBLEMS.get(name, name)}", err=True)


INGEST_PROBLEMS = {
    "expired_lines": "lines are older than the account's retention and were not stored "
    "(--live gives them the time they arrive instead of the time they state)",
    "clamped_timestamps": "lines had a time too far from now and got the time they arrived",
    "bad_timestamps": "lines had an unreadable timestamp and got the time they arrived",
    "truncated_lines": "lines were longer than the server's max_line_bytes and were cut",
    "field_conflicts": "field values had another type than the field's first and are kept under _conflicts",
    "fields_over_limit": "lines had more fields than the limits and keep the rest under _overflow",
    "bad_meta": "lines had meta that could not be kept as fields (kept as text under _unparsed)",
}


@main.command()
@click.argument("query", required=False, default="")
@server_option
@read_key_option
@click.option("--from", "from_", default="1h", show_default=True, help="Start: epoch, ISO 8601, or an expression like 2h, yesterday 1pm.")
@click.option("--to", default="now", show_default=True, help="End, in the same forms.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 1_000_000), help="Most lines to print.")
@click.option("--asc", is_flag=True, help="Oldest first (default: newest first).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("--raw", is_flag=True, help="Only the raw log lines.")
def search(query: str, server: str, key: str, from_: str, to: str, limit: int, asc: bool, as_json: bool, raw: bool) -> None:
    """Search past lines with the query language; pages through results up to --limit.

    \b
    timberyard search 'error app:nginx' --from 'yesterday 1pm' --to '3pm'
    timberyard search 'status:>=500' --limit 10000 --raw | less
    """
    colour = sys.stdout.isatty() and not (as_json or raw)
    printed = 0
    params: dict[str, Any] = {"q": query, "from": from_, "to": to, "order": "asc" if asc else "desc"}
    with _client(server, key) as client:
        while printed < limit:
            page = client.request("GET", "/api/v1/search", params={**params, "limit": min(10_000, limit - printed)}).json()
            for line in page["lines"]:
                if raw:
                    click.echo(line["line"])
                else:
                    _print_tail_line(line, as_json, colour)
            printed += len(page["lines"])
            if not page["next_cursor"]:
                break
            params = {"q": query, "cursor": page["next_cursor"]}
    if not printed:  # on stderr, so a pipe gets nothing, while a person learns which range was searched
        click.echo(f"no lines between {_iso(page['from'])} and {_iso(page['to'])}; widen the range with --from/--to", err=True)


def _iso(epoch_ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@main.command()
@click.argument("query", required=False, default="")
@server_option
@read_key_option
@click.option("--from", "from_", required=True, help="Start: epoch, ISO 8601, or an expression like 7d, yesterday.")
@click.option("--to", default="now", show_default=True, help="End, in the same forms.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default="-", help="File to write (JSON lines); - is stdout.")
def export(query: str, server: str, key: str, from_: str, to: str, output: Path) -> None:
    """Export every matching line in the range, oldest first, as JSON lines (LogDNA's export shape).

    \b
    timberyard export 'app:nginx' --from 7d -o nginx.jsonl
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn

    params: dict[str, Any] = {"query": query, "from": from_, "to": to}
    written = 0
    sink = sys.stdout.buffer if str(output) == "-" else output.open("wb")
    try:
        with _client(server, key) as client, Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=None, disable=str(output) == "-" or not sys.stderr.isatty()
        ) as progress:
            task = progress.add_task("exporting", total=None)
            while True:
                page = client.request("GET", "/v2/export", params=params).json()
                sink.write(b"".join(orjson.dumps(line) + b"\n" for line in page["lines"]))
                written += len(page["lines"])
                progress.update(task, description=f"exported {written:,} lines")
                if not page["pagination_id"]:
                    break
                params["pagination_id"] = page["pagination_id"]
    finally:
        if sink is not sys.stdout.buffer:
            sink.close()
    click.echo(f"exported {written:,} lines", err=True)


LEVEL_COLOURS = {
    "EMERGENCY": "bright_red", "ALERT": "bright_red", "FATAL": "bright_red", "CRITICAL": "bright_red",
    "ERROR": "red", "WARN": "yellow", "NOTICE": "cyan", "INFO": "green", "DEBUG": "blue", "TRACE": "bright_black",
}


@main.command()
@click.argument("query", required=False, default="")
@server_option
@read_key_option
@click.option("--json", "as_json", is_flag=True, help="Print each line as a JSON object.")
def tail(query: str, server: str, key: str, as_json: bool) -> None:
    """Follow matching lines live (Ctrl-C to stop), coloured by level.

    When the node restarts or the connection breaks it reconnects, and says which span of time
    it may have missed and how to search it.

    \b
    timberyard tail
    timberyard tail 'app:nginx status:>=500'
    """
    from timberyard.cli.remote import verify, warn
    from timberyard.cli.tail import follow

    colour = sys.stdout.isatty() and not as_json
    try:
        follow(server, key, query, lambda line: _print_tail_line(line, as_json, colour), verify=verify(), warn=warn)
    except KeyboardInterrupt:
        pass


def _print_tail_line(line: dict[str, Any], as_json: bool, colour: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(line).decode())
        return
    import datetime as dt

    stamp = dt.datetime.fromtimestamp(line["ts"] / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    prefix = terminal_safe(f"{stamp} {line['host']} {line['app'] or '-'} {line['level'] or '-'}")
    text = terminal_safe(line["line"])
    click.echo(click.style(prefix, fg=LEVEL_COLOURS.get(line["level"])) + " " + text if colour else f"{prefix} {text}")


def _open(path: Path) -> IO[bytes]:
    return sys.stdin.buffer if str(path) == "-" else path.open("rb")


def _batches(handle: IO[bytes], batch_lines: int, max_bytes: int = 4 * 1024 * 1024) -> Iterator[tuple[list[str], int]]:
    batch: list[str] = []
    size = 0
    for raw in handle:
        size += len(raw)
        text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        if text:
            batch.append(text)
        if len(batch) >= batch_lines or size >= max_bytes:
            yield batch, size
            batch, size = [], 0
    if batch or size:
        yield batch, size


from timberyard.cli import alerts as _alerts  # noqa: E402,F401  (registers the command group)
from timberyard.cli import archive as _archive  # noqa: E402,F401  (registers the command group)
from timberyard.cli import audit as _audit  # noqa: E402,F401  (registers the command group)
from timberyard.cli import channels as _channels  # noqa: E402,F401  (registers the command group)
from timberyard.cli import groups as _groups  # noqa: E402,F401  (registers the command group)
from timberyard.cli import insights as _insights  # noqa: E402,F401  (registers the command group)
from timberyard.cli import rules as _rules  # noqa: E402,F401  (registers the command group)
from timberyard.cli import users as _users  # noqa: E402,F401  (registers the command group)
from timberyard.agent.cli import main as _agent  # noqa: E402  (the agent is its own command, `timberyard-agent` too)

main.add_command(_agent, "agent")
