"""`timberyard groups ...`: groups and their members, on a data directory's metadata database.

Like `accounts create`, these work beside a running server (groups live in the metadata
database, not the store), and a change applies to the members' next request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from timberyard.cli import data_dir_option, local, main
from timberyard.cli.local import account_option
from timberyard.cli.render import print_table


@main.group()
def groups() -> None:
    """Groups: users whose searches are limited to the lines matching a query (the scope)."""


def _change(data_dir: Path | None, account_name: str | None, action: str, change: Any, *args: str, **details: Any) -> Any:
    """Run a repository change for the account in one transaction, then audit it as `action`."""
    with local.open_meta(data_dir) as meta:
        account = local.account_id(meta, account_name)
        result = meta.transact(change, account, *args, write=True)
        local.audit_change(meta, account, action, f"group {result.name}", **details)
        return result


@groups.command("create")
@data_dir_option
@account_option
@click.argument("name")
@click.option("--scope", required=True, help="A search query; members see only matching lines. '' sees nothing.")
def groups_create(data_dir: Path | None, account_name: str | None, name: str, scope: str) -> None:
    """Create a group whose members see only the lines matching --scope.

    \b
    timberyard groups create payments --scope 'app:payments OR app:billing'
    """
    from timberyard.meta import groups as repository
    from timberyard.search import QuerySyntaxError

    try:
        created = _change(data_dir, account_name, "group.create", repository.create_group, name, scope, scope=scope)
    except QuerySyntaxError as exc:
        hint = f"; {exc.hint}" if exc.hint else ""
        raise click.ClickException(f"--scope: {exc.message} at character {exc.position + 1}{hint}") from None
    click.echo(f"created group {created.name} with scope {created.scope!r}")


@groups.command("add-member")
@data_dir_option
@account_option
@click.argument("name")
@click.argument("email")
def groups_add_member(data_dir: Path | None, account_name: str | None, name: str, email: str) -> None:
    """Add a user (by email) of the same account to a group."""
    from timberyard.meta import groups as repository

    updated = _change(data_dir, account_name, "group.member_add", repository.add_member, name, email, email=email)
    click.echo(f"group {updated.name}: {', '.join(updated.members)}")


@groups.command("remove-member")
@data_dir_option
@account_option
@click.argument("name")
@click.argument("email")
def groups_remove_member(data_dir: Path | None, account_name: str | None, name: str, email: str) -> None:
    """Take a user out of a group."""
    from timberyard.meta import groups as repository

    updated = _change(data_dir, account_name, "group.member_remove", repository.remove_member, name, email, email=email)
    click.echo(f"group {updated.name}: {', '.join(updated.members) or 'no members'}")


@groups.command("delete")
@data_dir_option
@account_option
@click.argument("name")
def groups_delete(data_dir: Path | None, account_name: str | None, name: str) -> None:
    """Delete a group; its members lose its scope (and see everything if in no other group)."""
    from timberyard.meta import groups as repository

    deleted = _change(data_dir, account_name, "group.delete", repository.delete_group, name)
    click.echo(f"deleted group {deleted.name}")


@groups.command("list")
@data_dir_option
@account_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def groups_list(data_dir: Path | None, account_name: str | None, as_json: bool) -> None:
    """List groups with their scopes and members."""
    from timberyard.meta import groups as repository

    with local.open_meta(data_dir) as meta:
        account_id = local.account_id(meta, account_name)
        listed = [g.to_dict() for g in meta.transact(repository.list_groups, account_id, write=False)]
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table("name", "scope", "members", "created")
    for g in listed:  # as Text: a scope such as `tag:[a]` is not rich markup
        table.add_row(Text(g["name"]), Text(g["scope"] or "(sees nothing)"), Text("\n".join(g["members"])), g["created_at"])
    print_table(table)
