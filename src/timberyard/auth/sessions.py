"""`SessionManager`: browser sessions that end on their own (HIPAA 164.312(a)(2)(iii)).

A session ends when its user signs out, after `idle_timeout_s` without a request, after
`max_age_s` whatever the activity, and at once when its user is disabled or changes role.
The cookie holds a random token; the database keeps only its sha256, so a copy of the
database signs nobody in. Last activity is written at most every `TOUCH_EVERY_S` per session,
which spares SQLite a write per request and can only end an idle session that much sooner,
never later.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from timberyard.core.errors import ConfigError
from timberyard.meta import sessions
from timberyard.meta.database import MetaDB
from timberyard.meta.info import UserInfo
from timberyard.meta.models import utcnow
from timberyard.meta.sessions import SessionInfo

TOUCH_EVERY_S = 15


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionManager:
    """Thread-safe (all state is in the database). `now` is for tests."""

    def __init__(
        self, db: MetaDB, idle_timeout_s: int, max_age_s: int, now: Callable[[], datetime] = utcnow
    ) -> None:
        if idle_timeout_s < 1 or max_age_s < 1:
            raise ConfigError("session_idle_timeout_s and session_max_age_s must be at least 1 second")
        self._db = db
        self.idle_timeout_s = idle_timeout_s
        self.max_age_s = max_age_s
        self._now = now

    def create(self, user: UserInfo, ip: str, user_agent: str) -> tuple[str, SessionInfo]:
        """Start a session; the token (for the cookie) is returned here and kept nowhere."""
        token = secrets.token_urlsafe(32)
        now = self._now()
        with self._db.writing() as session:
            info = sessions.create_session(
                session,
                session_id_of(token),
                user,
                csrf_token=secrets.token_urlsafe(32),
                ip=ip,
                user_agent=user_agent,
                now=now,
                expires_at=now + timedelta(seconds=self.max_age_s),
            )
        return token, info

    def authenticate(self, token: str, touch: bool = True) -> tuple[UserInfo, SessionInfo] | None:
        """The user and session of `token`; None when it is unknown, ended, idle too long,
        too old, or its user is disabled (the latter three end it). `touch=False` checks
        without counting as activity (a live tail re-checking its caller)."""
        if not token:
            return None
        session_id = session_id_of(token)
        with self._db.reading() as session:
            found = sessions.find_open_session(session, session_id)
        if found is None:
            return None
        user, info = found
        now = self._now()
        idle = now - info.last_seen_at
        if user.disabled or now >= info.expires_at or idle > timedelta(seconds=self.idle_timeout_s):
            self.end(session_id)
            return None
        if touch and idle >= timedelta(seconds=TOUCH_EVERY_S):
            with self._db.writing() as session:
                sessions.touch_session(session, session_id, now)
            info = replace(info, last_seen_at=now)
        return user, info

    def end(self, session_id: str) -> bool:
        """Sign one session out; False if it had already ended."""
        with self._db.writing() as session:
            return sessions.end_session(session, session_id, self._now())

    def end_all(self, user_id: str, keep: str | None = None) -> int:
        """Sign a user out everywhere (but the session `keep`); how many sessions ended."""
        with self._db.writing() as session:
            return sessions.end_user_sessions(session, user_id, self._now(), keep=keep)
