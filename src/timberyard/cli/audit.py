"""`timberyard audit`: verify the audit trail, write a compliance report, export the public key.

These open the data directory's metadata database directly, like `accounts create`: SQLite in
WAL mode lets them read beside a running server, and they add nothing to the trail.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from timberyard.cli import _settings, data_dir_option, main
from timberyard.core.errors import ConfigError, NotFound

SYSTEM_CHAIN = "-"

account_option = click.option(
    "--account", "account_name", help="Account name or id (`-`: the system chain of events without an account). [default: every account]"
)


@main.group()
def audit() -> None:
    """The tamper-evident audit trail of a data directory (see docs/audit.md)."""


@audit.command("verify")
@data_dir_option
@click.option("--from", "from_", help="Check from this time (epoch, ISO 8601, or like 7d, yesterday). [default: the first entry]")
@click.option("--to", help="Check up to this time, in the same forms. [default: now]")
@account_option
@click.option(
    "--public-key", "public_keys", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Check signatures with this exported public key instead of the data directory's key (repeat for older keys).",
)  # fmt: skip
def verify(data_dir: Path | None, from_: str | None, to: str | None, account_name: str | None, public_keys: tuple[Path, ...]) -> None:
    """Recompute every entry's hash and check the chains and the signed hourly digests.

    Exits 0 when the trail is intact, 1 listing each problem found (edited, deleted, inserted
    or reordered entries, missing or forged digests).
    """
    now = datetime.now(UTC)
    start = None if from_ is None else _time(from_, now, end=False)
    end = None if to is None else _time(to, now, end=True)
    with _trail(data_dir, public_keys) as (trail, meta):
        result = trail.verify(_account_id(meta, account_name), start, end)
    for note in result.notes:
        click.echo(f"note: {note}")
    if result.ok:
        click.echo(f"audit trail intact: {result.entries_checked} entries and {result.digests_checked} signed digests verified")
        return
    for problem in result.problems:
        click.echo(f"problem: {problem}")
    click.secho(
        f"audit trail FAILED verification: {len(result.problems)} problems in {result.entries_checked} entries "
        f"and {result.digests_checked} digests",
        fg="red", err=True,
    )  # fmt: skip
    sys.exit(1)


@audit.command("report")
@data_dir_option
@click.option("--from", "from_", required=True, help="Start: epoch, ISO 8601, or an expression like 30d, yesterday.")
@click.option("--to", default="now", show_default=True, help="End, in the same forms.")
@click.option("--format", "fmt", type=click.Choice(["html", "csv"]), default="html", show_default=True, help="A standalone HTML page, or CSV.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default="-", help="File to write; - is stdout.")
@account_option
def report(data_dir: Path | None, from_: str, to: str, fmt: str, output: Path, account_name: str | None) -> None:
    """A compliance report of a period: sign-ins and failures, security events, access to log
    data by actor, exports, permission denials, changes, and the trail's integrity."""
    from timberyard.auth.audit_report import build_report, render_csv, render_html

    now = datetime.now(UTC)
    start, end = _time(from_, now, end=False), _time(to, now, end=True)
    with _trail(data_dir, ()) as (trail, meta):
        built = build_report(trail, _account_id(meta, account_name), start, end)
    text = render_html(built) if fmt == "html" else render_csv(built)
    if str(output) == "-":
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    if not built.integrity.ok:
        click.secho(f"warning: the audit trail FAILED verification ({len(built.integrity.problems)} problems; see the report)", fg="red", err=True)


@audit.command("public-key")
@data_dir_option
def public_key(data_dir: Path | None) -> None:
    """Print the public key (PEM) that checks the digests, for auditors to keep."""
    from timberyard.auth.signing import public_key_pem

    click.echo(public_key_pem(_data_dir_key(_settings(data_dir, None).data_dir)), nl=False)


@contextmanager
def _trail(data_dir: Path | None, public_keys: tuple[Path, ...]) -> Iterator[tuple[Any, Any]]:
    """A verifying (not sealing) trail on the data directory's metadata, and the database."""
    from timberyard.auth.audit import AuditTrail
    from timberyard.auth.signing import KEY_FILE, load_public_key
    from timberyard.meta.database import MetaDB

    settings = _settings(data_dir, None)
    database = settings.data_dir / "metadata.sqlite3"
    if not settings.metadata_url and not database.exists():
        raise ConfigError(f"no metadata database at {database}; is {settings.data_dir} a Timberyard data directory?")
    own_key = settings.data_dir / KEY_FILE
    trusted = [load_public_key(p) for p in public_keys] or ([load_public_key(own_key)] if own_key.exists() else [])
    meta = MetaDB.open(settings.resolved_metadata_url)
    try:
        yield AuditTrail(meta, None, trusted_keys=trusted), meta
    finally:
        meta.close()


def _data_dir_key(data_dir: Path) -> Any:
    from timberyard.auth.signing import KEY_FILE, load_public_key

    path = data_dir / KEY_FILE
    if not path.exists():
        raise ConfigError(f"no audit signing key at {path}; the server creates it when it first starts")
    return load_public_key(path)


def _account_id(meta: Any, name: str | None) -> str | None:
    if name is None or name == SYSTEM_CHAIN:
        return name
    for account in meta.list_accounts():
        if name in (account.name, account.id):
            return str(account.id)
    raise NotFound(f"no account named {name!r}; `timberyard audit verify` without --account checks every account")


def _time(text: str, now: datetime, *, end: bool) -> datetime:
    from timberyard.search.timeparse import parse_time

    return datetime.fromtimestamp(parse_time(text, now=now, end=end) / 1000, UTC)
