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
    "--account", "account_name", help="The account's name. [default: the only account in the data directory]"
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
    """The account named, or the data directory's only account."""
    known = meta.list_accounts()
    if account_name is not None:
        found = [a for a in known if a.name == account_name]
        if not found:
            raise NotFound(f"no account named {account_name!r} in this data directory")
        return str(found[0].id)
    if len(known) != 1:
        names = ", ".join(a.name for a in known) or "none yet; run `timberyard init`"
        raise BadRequest(f"this data directory has {len(known)} accounts; name one with --account ({names})")
    return str(known[0].id)


def audit_change(meta: Any, account: str, action: str, target: str, **details: Any) -> None:
    from timberyard.auth.audit import AuditEvent, AuditTrail

    event = AuditEvent(
        account_id=account, action=action, actor_type="system", actor_name=f"cli:{getpass.getuser()}",
        target=target, details=details,
    )
    AuditTrail(meta, None).record(event)
