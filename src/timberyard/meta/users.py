"""Users: people who sign in with an email and a password, each in one account.

Only what the owner account needs so far; hashing is done by the caller, outside the
database transaction, because an argon2 hash takes tens of milliseconds and SQLite would
hold its write lock meanwhile.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta.info import ROLES, UserInfo
from timberyard.meta.models import Account, User

MAX_EMAIL_CHARS = 254
MIN_PASSWORD_CHARS = 8


def user_info(row: User) -> UserInfo:
    return UserInfo(
        id=row.id,
        account_id=row.account_id,
        email=row.email,
        role=row.role,
        disabled=row.disabled,
        created_at=row.created_at,
    )


def normalise_email(email: str) -> str:
    """The stored form of an email: trimmed and lowercased; BadRequest if it is not one."""
    email = email.strip().lower()
    local, _, domain = email.rpartition("@")
    if not local or not domain or len(email) > MAX_EMAIL_CHARS or any(c.isspace() for c in email):
        raise BadRequest(f"{email!r} is not an email address", email=email)
    return email


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise BadRequest(f"password must have at least {MIN_PASSWORD_CHARS} characters")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}", role=role)


def add_user(
    session: Session, account_id: str, email: str, password_hash: str, role: str
) -> UserInfo:
    """Insert a user whose email was normalised and whose role was checked by the caller."""
    if session.get(Account, account_id) is None:
        raise NotFound(f"account {account_id} not found", account=account_id)
    row = User(
        id=uuid.uuid4().hex,
        account_id=account_id,
        email=email,
        password_hash=password_hash,
        role=role,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a user with email {email} already exists", email=email) from exc
    return user_info(row)


def find_user(session: Session, email: str) -> tuple[UserInfo, str] | None:
    """The user with this (normalised) email and their password hash."""
    row = session.scalars(select(User).where(User.email == email)).one_or_none()
    return None if row is None else (user_info(row), row.password_hash)


def set_password_hash(session: Session, user_id: str, password_hash: str) -> None:
    row = session.get(User, user_id)
    if row is not None:
        row.password_hash = password_hash
