"""`timberyard users ...`: the people who sign in, on a data directory's metadata database.

Like `accounts create`, these work beside a running server: users live in the metadata
database, and disabling a user or changing their role ends their sessions at once. Each change
is written to the audit trail as done by `cli:<os user>`, since whoever can run these on the
data directory acts outside the web's roles.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from timberyard.cli import data_dir_option, local, main
from timberyard.cli.local import account_option
from timberyard.cli.render import print_table

ROLE_CHOICE = click.Choice(["owner", "admin", "member", "readonly"])


@main.group()
def users() -> None:
    """Users: people who sign in to the web app with an email and a password."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


@users.command("add")
@data_dir_option
@click.argument("email")
@click.option("--role", type=ROLE_CHOICE, required=True, help="owner only while the account has no owner.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@account_option
def users_add(data_dir: Path | None, email: str, role: str, password_stdin: bool, account_name: str | None) -> None:
    """Add a user; asks for the password twice, unseen, unless --password-stdin.

    \b
    timberyard users add ann@example.com --role admin
    printf '%s\\n' "$PASSWORD" | timberyard users add bot@example.com --role readonly --password-stdin
    """
    password = _read_password(password_stdin)
    with local.open_meta(data_dir) as meta:
        account_id = local.account_id(meta, account_name)
        user = meta.add_user(account_id, email, password, role)
        local.audit_change(meta, account_id, "user.create", f"user {user.id}", email=user.email, role=user.role)
    click.echo(f"added {user.email} as {user.role}")


@users.command("list")
@data_dir_option
@click.option("--account", "account_name", help="Only this account's users. [default: every account's]")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def users_list(data_dir: Path | None, account_name: str | None, as_json: bool) -> None:
    """List users with their role, two-factor and disabled state."""
    with local.open_meta(data_dir) as meta:
        account_id = None if account_name is None else local.account_id(meta, account_name)
        names = {a.id: a.name for a in meta.list_accounts()}
        listed = [{**u.to_dict(), "account_name": names.get(u.user.account_id, "")} for u in meta.list_users(account_id)]
    if as_json:
        click.echo(json.dumps(listed, indent=2))
        return
    from rich.table import Column, Table

    # The email is never cut: the other commands take it.
    table = Table(Column("email", no_wrap=True), "role", "account", "two-factor", "disabled", "created (UTC)")
    for u in listed:
        table.add_row(u["email"], u["role"], u["account_name"], "on" if u["two_factor"] else "off",
                      "yes" if u["disabled"] else "", u["created_at"][:16].replace("T", " "))
    print_table(table)


@users.command("disable")
@data_dir_option
@click.argument("email")
def users_disable(data_dir: Path | None, email: str) -> None:
    """Disable a user: they cannot sign in, and their sessions end at once."""
    _set_disabled(data_dir, email, True)


@users.command("enable")
@data_dir_option
@click.argument("email")
def users_enable(data_dir: Path | None, email: str) -> None:
    """Let a disabled user sign in again."""
    _set_disabled(data_dir, email, False)


def _set_disabled(data_dir: Path | None, email: str, disabled: bool) -> None:
    with local.open_meta(data_dir) as meta:
        user = meta.user_by_email(email)
        before, after = meta.update_user(user.account_id, user.id, disabled=disabled)
        if before.disabled != after.disabled:
            local.audit_change(meta, user.account_id, "user.disable" if disabled else "user.enable", f"user {user.id}", email=user.email)
    click.echo(f"{after.email} is {'disabled' if after.disabled else 'enabled'}")


@users.command("set-role")
@data_dir_option
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
def users_set_role(data_dir: Path | None, email: str, role: str) -> None:
    """Change a user's role. Making someone owner transfers ownership: the old owner becomes admin.

    Either way the changed users' sessions end at once.
    """
    with local.open_meta(data_dir) as meta:
        user = meta.user_by_email(email)
        if role == "owner":
            old, new = meta.transfer_owner(user.account_id, user.id)
            local.audit_change(meta, user.account_id, "owner.transfer", f"user {new.id}", **{"from": old.email if old else None, "to": new.email})
            click.echo(f"{new.email} is now the owner" + (f"; {old.email} is an admin" if old else ""))
            return
        before, after = meta.update_user(user.account_id, user.id, role=role)
        if before.role != after.role:
            local.audit_change(meta, user.account_id, "user.role", f"user {user.id}", email=user.email, **{"from": before.role, "to": after.role})
    click.echo(f"{after.email} is {after.role}")
