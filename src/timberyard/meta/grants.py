"""Break-glass access: an owner lets one user read the whole account, past their groups'
scopes, for a limited time and for a stated reason.

Meant for emergencies, such as an incident that crosses the line a group draws. A grant ends by
itself (at most a day later) or when revoked. The web layer audits every grant and revocation
and names in that entry the owners and admins `overseers` returns: they are the people who must
learn that someone's access was widened.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, aliased

from timberyard.core.errors import BadRequest, NotFound
from timberyard.meta.info import GrantInfo, UserInfo
from timberyard.meta.models import AccessGrant, User, utcnow
from timberyard.meta.users import user_info

MIN_DURATION_S = 60
MAX_DURATION_S = 24 * 3600
MAX_REASON_CHARS = 500
OVERSEER_ROLES = ("owner", "admin")


def grant(
    session: Session,
    account_id: str,
    user_id: str,
    granted_by_user_id: str,
    reason: str,
    duration_s: int,
    now: datetime | None = None,
) -> GrantInfo:
    """Lift `user_id`'s group scope for `duration_s` seconds; both users must be in the account."""
    reason = _check_reason(reason)
    if isinstance(duration_s, bool) or not isinstance(duration_s, int) or not MIN_DURATION_S <= duration_s <= MAX_DURATION_S:
        raise BadRequest(
            f"duration_s must be a whole number of seconds from {MIN_DURATION_S} (1 minute) to {MAX_DURATION_S} (24 hours)",
            duration_s=duration_s,
        )
    user = _account_user(session, account_id, user_id)
    granter = _account_user(session, account_id, granted_by_user_id)
    now = now or utcnow()
    row = AccessGrant(
        id=uuid.uuid4().hex,
        account_id=account_id,
        user_id=user.id,
        granted_by=granter.id,
        reason=reason,
        created_at=now,
        expires_at=now + timedelta(seconds=duration_s),
    )
    session.add(row)
    session.flush()
    return _grant_info(row, user.email, granter.email)


def revoke(session: Session, account_id: str, grant_id: str, now: datetime | None = None) -> GrantInfo:
    """End a grant early; revoking an ended grant changes nothing. Other accounts' grants are 404."""
    found = session.execute(
        _with_emails().where(AccessGrant.id == grant_id, AccessGrant.account_id == account_id)
    ).one_or_none()
    if found is None:
        raise NotFound(f"access grant {grant_id} not found", grant=grant_id)
    row, email, granted_by_email = found
    now = now or utcnow()
    if row.revoked_at is None and now < row.expires_at:
        row.revoked_at = now
        session.flush()
    return _grant_info(row, email, granted_by_email)


def list_active(session: Session, account_id: str, now: datetime | None = None) -> list[GrantInfo]:
    now = now or utcnow()
    rows = session.execute(
        _with_emails()
        .where(AccessGrant.account_id == account_id, AccessGrant.revoked_at.is_(None), AccessGrant.expires_at > now)
        .order_by(AccessGrant.expires_at, AccessGrant.id)
    )
    return [_grant_info(row, email, granted_by_email) for row, email, granted_by_email in rows]


def has_active_grant(session: Session, user_id: str, now: datetime) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    AccessGrant.user_id == user_id,
                    AccessGrant.revoked_at.is_(None),
                    AccessGrant.expires_at > now,
                )
            )
        )
    )


def overseers(session: Session, account_id: str, except_user_id: str) -> list[UserInfo]:
    """The account's enabled owners and admins other than `except_user_id` (the one acting)."""
    rows = session.scalars(
        select(User)
        .where(
            User.account_id == account_id,
            User.role.in_(OVERSEER_ROLES),
            User.disabled.is_(False),
            User.id != except_user_id,
        )
        .order_by(User.email)
    )
    return [user_info(row) for row in rows]


def _check_reason(reason: str) -> str:
    reason = reason.strip() if isinstance(reason, str) else ""
    if not 1 <= len(reason) <= MAX_REASON_CHARS:
        raise BadRequest(f"a break-glass grant needs a reason of 1 to {MAX_REASON_CHARS} characters")
    return reason


def _account_user(session: Session, account_id: str, user_id: str) -> User:
    row = session.get(User, user_id)
    if row is None or row.account_id != account_id:
        raise NotFound(f"user {user_id} not found", user=user_id)
    return row


def _with_emails() -> Select[tuple[AccessGrant, str, str]]:
    """Grants with the grantee's and the granter's emails."""
    grantee, granter = aliased(User), aliased(User)
    return (
        select(AccessGrant, grantee.email, granter.email)
        .join(grantee, grantee.id == AccessGrant.user_id)
        .join(granter, granter.id == AccessGrant.granted_by)
    )


def _grant_info(row: AccessGrant, email: str, granted_by_email: str) -> GrantInfo:
    return GrantInfo(
        id=row.id,
        account_id=row.account_id,
        user_id=row.user_id,
        user_email=email,
        granted_by=row.granted_by,
        granted_by_email=granted_by_email,
        reason=row.reason,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )
