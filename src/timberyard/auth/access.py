"""`AccessControl`: turns a session cookie into a `Principal` with its role and read scope.

A user in no group reads every line of the account. A user in groups reads the lines that
match any of their groups' scope queries (field values whole, see auth/scopes.py); a group
whose scope is empty grants nothing. An
owner's break-glass grant lifts the scope until it expires. Scopes are read at each request,
so a group change applies to the next request, not the next sign-in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from timberyard.auth.principal import Principal
from timberyard.auth.scopes import union_of_scopes
from timberyard.auth.sessions import SessionManager
from timberyard.meta import grants, groups
from timberyard.meta.database import MetaDB
from timberyard.search.ast import Node


class AccessControl:
    def __init__(self, db: MetaDB, sessions: SessionManager) -> None:
        self._db = db
        self._sessions = sessions

    def principal_for_session(self, token: str, touch: bool = True) -> Principal | None:
        """The signed-in user behind a session token; None when the session is not valid.
        `touch=False` does not count the check as the user's activity."""
        found = self._sessions.authenticate(token, touch)
        if found is None:
            return None
        user, session = found
        return Principal(
            account_id=user.account_id,
            role=user.role,
            actor_type="user",
            actor_id=user.id,
            actor_name=user.email,
            scope=self.scope_of_user(user.id),
            session_id=session.id,
            csrf_token=session.csrf_token,
        )

    def scope_of_user(self, user_id: str) -> Node | None:
        """What the user may read: None for everything, else a query lines must match."""
        scopes = self.scope_queries_of_user(user_id)
        return None if scopes is None else union_of_scopes(scopes)

    def scope_queries_of_user(self, user_id: str) -> list[str] | None:
        """The group scope queries that limit the user (any of them lets a line through), for
        what keeps a user's scope after the request, such as an alert; None: no limit."""
        with self._db.reading() as session:
            if grants.has_active_grant(session, user_id, datetime.now(UTC)):
                return None
            return groups.scopes_for_user(session, user_id)
