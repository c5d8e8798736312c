"""Browser sessions in the metadata database: one row per sign-in, keyed by the token's hash.

The row is the session's whole state, so every node (and the CLI, which ends the sessions of a
user it disables) sees the same sessions. Ended sessions keep their row, with `ended_at`, as a
record of who was signed in when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from timberyard.meta.info import UserInfo
from timberyard.meta.models import User, UserSession
from timberyard.meta.users import user_info

MAX_IP_CHARS = 45
MAX_USER_AGENT_CHARS = 400


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: str  # sha256 of the cookie's token
    user_id: str
    account_id: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


def session_info(row: UserSession) -> SessionInfo:
    return SessionInfo(
        id=row.id,
        user_id=row.user_id,
        account_id=row.account_id,
        csrf_token=row.csrf_token,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


def create_session(
    session: Session,
    session_id: str,
    user: UserInfo,
    csrf_token: str,
    ip: str,
    user_agent: str,
    now: datetime,
    expires_at: datetime,
) -> SessionInfo:
    row = UserSession(
        id=session_id,
        user_id=user.id,
        account_id=user.account_id,
        csrf_token=csrf_token,
        ip=ip[:MAX_IP_CHARS],
        user_agent=user_agent[:MAX_USER_AGENT_CHARS],
        created_at=now,
        last_seen_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return session_info(row)


def find_open_session(session: Session, session_id: str) -> tuple[UserInfo, SessionInfo] | None:
    """The session with this id and its user, unless the session was ended."""
    found = session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    return user_info(user), session_info(row)


def touch_session(session: Session, session_id: str, now: datetime) -> None:
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


def end_session(session: Session, session_id: str, now: datetime) -> bool:
    """End one session; False if it had already ended (or never existed)."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.id == session_id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_user_sessions(session: Session, user_id: str, now: datetime, keep: str | None = None) -> int:
    """End every open session of a user (but `keep`); the number ended."""
    statement = update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    return int(session.execute(statement.values(ended_at=now)).rowcount)  # type: ignore[attr-defined]
