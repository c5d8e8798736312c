"""Users: people who sign in with an email and a password, each in one account.

Hashing is done by the caller, outside the database transaction, because an argon2 hash
takes tens of milliseconds and SQLite would hold its write lock meanwhile. An account has
exactly one owner once it has users: the owner can be neither disabled nor given another
role here; `transfer_owner` moves the role (and makes the old owner an admin).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.core.errors import BadRequest, Conflict, Forbidden, NotFound
from timberyard.meta.info import ROLES, UserInfo
from timberyard.meta.models import Account, User

MAX_EMAIL_CHARS = 254
OWNER = "owner"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What signing in checks; the secrets stay out of `repr`, so they never reach a log."""

    user: UserInfo
    password_hash: str = field(repr=False)
    totp_secret: str | None = field(repr=False)
    require_two_factor: bool  # the account's rule: admins and owners need a second factor


@dataclass(frozen=True, slots=True)
class UserDetail:
    """A user as the users API shows them: whether two-factor is on, never its secret."""

    user: UserInfo
    two_factor: bool

    def to_dict(self) -> dict[str, object]:
        return {**self.user.to_dict(), "two_factor": self.two_factor}


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


def check_role(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"unknown role {role!r}; expected one of: {', '.join(ROLES)}", role=role)


def add_user(
    session: Session, account_id: str, email: str, password_hash: str, role: str
) -> UserInfo:
    """Insert a user whose email was normalised and whose role was checked by the caller.

    Conflict for a second owner: ownership moves only by `transfer_owner`.
    """
    if session.get(Account, account_id) is None:
        raise NotFound(f"account {account_id} not found", account=account_id)
    if role == OWNER and (owner := account_owner(session, account_id)) is not None:
        raise Conflict(f"the account already has an owner ({owner.email}); transfer ownership instead")
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


def find_credentials(session: Session, email: str) -> Credentials | None:
    """The sign-in facts of the user with this (normalised) email."""
    found = session.execute(
        select(User, Account.require_two_factor).join(Account, Account.id == User.account_id).where(User.email == email)
    ).one_or_none()
    if found is None:
        return None
    row, require_two_factor = found
    return Credentials(user_info(row), row.password_hash, row.totp_secret, bool(require_two_factor))


def get_user(session: Session, account_id: str, user_id: str) -> UserDetail:
    """A user of `account_id`; a user of another account is NotFound, like a missing one."""
    return _detail(_row(session, account_id, user_id))


def user_by_email(session: Session, email: str) -> UserInfo:
    row = session.scalars(select(User).where(User.email == email)).one_or_none()
    if row is None:
        raise NotFound(f"no user has the email {email}", email=email)
    return user_info(row)


def list_users(session: Session, account_id: str | None = None) -> list[UserDetail]:
    """The users of one account, or of every account, in the order they were added."""
    query = select(User)
    if account_id is not None:
        query = query.where(User.account_id == account_id)
    return [_detail(row) for row in session.scalars(query.order_by(User.created_at, User.email))]


def account_owner(session: Session, account_id: str) -> UserInfo | None:
    row = session.scalars(select(User).where(User.account_id == account_id, User.role == OWNER)).first()
    return None if row is None else user_info(row)


def update_user(
    session: Session, account_id: str, user_id: str, role: str | None = None, disabled: bool | None = None
) -> tuple[UserInfo, UserInfo]:
    """Change a user's role and/or disabled flag; the user before and after.

    The owner changes only by a transfer, and nobody becomes owner here.
    """
    row = _row(session, account_id, user_id)
    if role is not None:
        check_role(role)
    if role == OWNER:
        raise BadRequest("nobody becomes owner by a role change; the owner transfers ownership instead")
    if row.role == OWNER and (role not in (None, OWNER) or disabled):
        raise Forbidden("the owner can be neither disabled nor given another role; transfer ownership first")
    before = user_info(row)
    if role is not None:
        row.role = role
    if disabled is not None:
        row.disabled = disabled
    session.flush()
    return before, user_info(row)


def transfer_owner(session: Session, account_id: str, user_id: str) -> tuple[UserInfo | None, UserInfo]:
    """Make a user the owner and the previous owner (if any) an admin; (old owner, new owner)."""
    row = _row(session, account_id, user_id)
    if row.role == OWNER:
        raise BadRequest(f"{row.email} is already the owner")
    if row.disabled:
        raise BadRequest(f"{row.email} is disabled; enable them before making them owner")
    old = session.scalars(select(User).where(User.account_id == account_id, User.role == OWNER)).first()
    if old is not None:
        old.role = "admin"
    row.role = OWNER
    session.flush()
    return (None if old is None else user_info(old)), user_info(row)


def set_totp_secret(session: Session, user_id: str, secret: str | None) -> None:
    """Turn two-factor on with `secret`, or off with None."""
    row = session.get(User, user_id)
    if row is None:
        raise NotFound(f"user {user_id} not found", user=user_id)
    row.totp_secret = secret


def set_require_two_factor(session: Session, account_id: str, required: bool) -> bool:
    """Set the account's rule that admins and owners sign in with a second factor; the old value."""
    row = session.get(Account, account_id)
    if row is None:
        raise NotFound(f"account {account_id} not found", account=account_id)
    before, row.require_two_factor = row.require_two_factor, required
    return bool(before)


def _row(session: Session, account_id: str, user_id: str) -> User:
    row = session.scalars(select(User).where(User.id == user_id, User.account_id == account_id)).one_or_none()
    if row is None:
        raise NotFound(f"user {user_id} not found", user=user_id)
    return row


def _detail(row: User) -> UserDetail:
    return UserDetail(user_info(row), row.totp_secret is not None)
