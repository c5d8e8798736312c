"""Groups: sets of users whose reads are limited to the lines matching the group's scope.

A scope is a query in the search language, checked here so a typo fails when the group is
saved rather than on every request of its members. The empty scope is allowed and grants
nothing: a group can fence users in before anyone decides what they may see. A user in
several groups sees what any of them allows (auth/access.py combines the scopes).
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta.info import GroupInfo
from timberyard.meta.models import Account, Group, GroupMember, User
from timberyard.meta.users import normalise_email
from timberyard.search import parse

MAX_NAME_CHARS = 100
MAX_SCOPE_CHARS = 4000


def create_group(session: Session, account_id: str, name: str, scope: str) -> GroupInfo:
    name = _check_name(name)
    scope = check_scope(scope)
    if session.get(Account, account_id) is None:
        raise NotFound(f"account {account_id} not found", account=account_id)
    row = Group(id=uuid.uuid4().hex, account_id=account_id, name=name, scope=scope)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a group named {name!r} already exists", name=name) from exc
    return _group_info(session, row)


def list_groups(session: Session, account_id: str) -> list[GroupInfo]:
    rows = session.scalars(select(Group).where(Group.account_id == account_id).order_by(Group.name)).all()
    members = _members(session, [row.id for row in rows])
    return [_info(row, members.get(row.id, ())) for row in rows]


def get_group(session: Session, account_id: str, name: str) -> GroupInfo:
    return _group_info(session, _own_group(session, account_id, name))


def delete_group(session: Session, account_id: str, name: str) -> GroupInfo:
    """Delete a group; its members keep their accounts and lose this group's scope."""
    row = _own_group(session, account_id, name)
    deleted = _group_info(session, row)
    session.execute(delete(GroupMember).where(GroupMember.group_id == row.id))
    session.delete(row)
    session.flush()
    return deleted


def set_scope(session: Session, account_id: str, name: str, scope: str) -> GroupInfo:
    row = _own_group(session, account_id, name)
    row.scope = check_scope(scope)
    session.flush()
    return _group_info(session, row)


def add_member(session: Session, account_id: str, name: str, email: str) -> GroupInfo:
    """Put a user of the same account in the group; adding a member again changes nothing."""
    row = _own_group(session, account_id, name)
    user = _account_user(session, account_id, email)
    if session.get(GroupMember, (row.id, user.id)) is None:
        session.add(GroupMember(group_id=row.id, user_id=user.id))
        session.flush()
    return _group_info(session, row)


def remove_member(session: Session, account_id: str, name: str, email: str) -> GroupInfo:
    row = _own_group(session, account_id, name)
    user = _account_user(session, account_id, email)
    member = session.get(GroupMember, (row.id, user.id))
    if member is None:
        raise NotFound(f"{user.email} is not a member of group {name!r}", email=user.email, group=name)
    session.delete(member)
    session.flush()
    return _group_info(session, row)


def scopes_for_user(session: Session, user_id: str) -> list[str] | None:
    """The scopes of the user's groups; None when they are in no group (no limit at all)."""
    scopes = session.scalars(
        select(Group.scope)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(GroupMember.user_id == user_id)
        .order_by(Group.name)
    ).all()
    return list(scopes) if scopes else None


def check_scope(scope: str) -> str:
    """The scope as stored (trimmed); a QuerySyntaxError (400, with its position) if unreadable."""
    if not isinstance(scope, str):
        raise BadRequest("scope is required and must be a string (a search query; empty sees nothing)", field="scope")
    scope = scope.strip()
    if len(scope) > MAX_SCOPE_CHARS:
        raise BadRequest(f"scope is longer than {MAX_SCOPE_CHARS} characters")
    if scope:
        parse(scope)
    return scope


def _check_name(name: str) -> str:
    name = name.strip() if isinstance(name, str) else ""
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise BadRequest(f"group name must have 1 to {MAX_NAME_CHARS} characters", name=name)
    if "/" in name or not name.isprintable():
        raise BadRequest("group name may not contain '/' or control characters (it is part of URLs)", name=name)
    return name


def _own_group(session: Session, account_id: str, name: str) -> Group:
    """The account's group of this name; another account's group is reported as missing."""
    row = session.scalars(
        select(Group).where(Group.account_id == account_id, Group.name == name.strip())
    ).one_or_none()
    if row is None:
        raise NotFound(f"group {name!r} not found", group=name)
    return row


def _account_user(session: Session, account_id: str, email: str) -> User:
    if not isinstance(email, str):
        raise BadRequest("email is required and must be a string", field="email")
    email = normalise_email(email)
    row = session.scalars(
        select(User).where(User.email == email, User.account_id == account_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"user {email} not found", email=email)
    return row


def _group_info(session: Session, row: Group) -> GroupInfo:
    return _info(row, _members(session, [row.id]).get(row.id, ()))


def _members(session: Session, group_ids: list[str]) -> dict[str, tuple[str, ...]]:
    """Each group's member emails, sorted, in one query."""
    found: dict[str, list[str]] = {}
    pairs = session.execute(
        select(GroupMember.group_id, User.email)
        .join(User, User.id == GroupMember.user_id)
        .where(GroupMember.group_id.in_(group_ids))
        .order_by(User.email)
    )
    for group_id, email in pairs:
        found.setdefault(group_id, []).append(email)
    return {group_id: tuple(emails) for group_id, emails in found.items()}


def _info(row: Group, members: tuple[str, ...]) -> GroupInfo:
    return GroupInfo(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        scope=row.scope,
        members=members,
        created_at=row.created_at,
    )
