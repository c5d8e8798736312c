"""Accounts (tenants) and the two ways one comes to life: `init` and `accounts create`.

`init` makes the first account with an owner who can sign in; `accounts create` makes more,
each with keys but no user yet. Either way the account's first service key is an admin key,
since it is the only credential that can manage the new account.
"""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta.api_keys import create_key
from timberyard.meta.info import AccountInfo, InitResult, NewAccount
from timberyard.meta.models import Account
from timberyard.meta.users import add_user

MAX_NAME_CHARS = 100
DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 65_535  # the store keeps each row's retention in a UInt16


def account_info(row: Account) -> AccountInfo:
    return AccountInfo(
        id=row.id, name=row.name, retention_days=row.retention_days, created_at=row.created_at
    )


def is_initialised(session: Session) -> bool:
    return bool(session.scalar(select(exists().select_from(Account))))


def create_account(session: Session, name: str, retention_days: int = DEFAULT_RETENTION_DAYS) -> AccountInfo:
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise BadRequest(f"account name must have 1 to {MAX_NAME_CHARS} characters", name=name)
    if not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise BadRequest(f"retention must be 1 to {MAX_RETENTION_DAYS} days, got {retention_days}")
    row = Account(id=uuid.uuid4().hex, name=name, retention_days=retention_days)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"an account named {name!r} already exists", name=name) from exc
    return account_info(row)


def get_account(session: Session, account_id: str) -> AccountInfo | None:
    row = session.get(Account, account_id)
    return None if row is None else account_info(row)


def list_accounts(session: Session) -> list[AccountInfo]:
    rows = session.scalars(select(Account).order_by(Account.created_at, Account.name))
    return [account_info(row) for row in rows]


def create_account_with_keys(session: Session, name: str, retention_days: int = DEFAULT_RETENTION_DAYS) -> NewAccount:
    account = create_account(session, name, retention_days)
    _, ingestion_key = create_key(session, account.id, "ingestion")
    _, service_key = create_key(session, account.id, "service", role="admin")
    return NewAccount(
        account_id=account.id,
        account=account.name,
        ingestion_key=ingestion_key,
        service_key=service_key,
    )


def initialise(
    session: Session,
    account_name: str,
    owner_email: str,
    owner_password: str,
    owner_password_hash: str,
    retention_days: int = DEFAULT_RETENTION_DAYS,
) -> InitResult:
    """Create the first account, its owner and its first keys; Conflict if one exists."""
    if is_initialised(session):
        raise Conflict(
            "data directory is already initialised; "
            "create further accounts with `timberyard accounts create`"
        )
    new = create_account_with_keys(session, account_name, retention_days)
    add_user(session, new.account_id, owner_email, owner_password_hash, "owner")
    return InitResult(
        account_id=new.account_id,
        account=new.account,
        owner_email=owner_email,
        owner_password=owner_password,
        ingestion_key=new.ingestion_key,
        service_key=new.service_key,
    )


def set_retention(session: Session, account_id: str, days: int) -> int:
    """Set how many days the store keeps the account's lines received from now on; the previous value."""
    check_retention(days)
    row = session.get(Account, account_id)
    if row is None:
        raise NotFound(f"account {account_id} not found")
    before, row.retention_days = row.retention_days, days
    return before


def check_retention(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise BadRequest(f"retention_days must be a whole number from 1 to {MAX_RETENTION_DAYS}", field="retention_days")
    return days

