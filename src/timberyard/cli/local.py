"""What the commands that work on a data directory directly (`users`, `groups`) share: the
metadata database, the account a command is about, and an audit entry for each change.

These commands need no server, so they are the administrator's tools on the host; whoever can
run them can read the data directory anyway. Their changes are audited as done by
`cli:<OS user>`.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from timberyard.cli import _settings
from timberyard.core.errors import BadRequest, NotFound

account_option = click.option(
    "--account", "account_name", envvar="TIMBERYARD_ACCOUNT",
    help="The account's name (or TIMBERYARD_ACCOUNT). [default: the data directory's first account]",
)


@contextmanager
def open_meta(data_dir: Path | None) -> Iterator[Any]:
    from timberyard.meta.database import MetaDB

    meta = MetaDB.open(_settings(data_dir, None).resolved_metadata_url)
    try:
        yield meta
    finally:
        meta.close()


def account_id(meta: Any, account_name: str | None) -> str:
    """The account named, or else the data directory's first account: the one its first start
    (or `init`) made, where its owner is. With more than one, the choice is said on stderr, so a
    command never acts on an account the administrator did not see named."""
    known = meta.list_accounts()
    if account_name is not None:
        found = [a for a in known if a.name == account_name]
        if not found:
            names = ", ".join(a.name for a in known)
            raise NotFound(f"no account named {account_name!r} in this data directory (it has {names})")
        return str(found[0].id)
    if not known:
        raise BadRequest("this data directory has no account yet; run `timberyard init` or `timberyard serve` first")
    if len(known) > 1:
        others = ", ".join(a.name for a in known[1:])
        click.echo(f"account {known[0].name} (the first of {len(known)}; --account or TIMBERYARD_ACCOUNT names another: {others})", err=True)
    return str(known[0].id)


def audit_change(meta: Any, account: str, action: str, target: str, **details: Any) -> None:
    from timberyard.auth.audit import AuditEvent, AuditTrail

    event = AuditEvent(
        account_id=account, action=action, actor_type="system", actor_name=f"cli:{getpass.getuser()}",
        target=target, details=details,
    )
    AuditTrail(meta, None).record(event)
