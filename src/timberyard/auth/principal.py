"""`Principal`: the authenticated caller of one request, whoever they are.

Every read path takes its account and its access scope from here, never from the request,
so no handler can forget the tenant predicate or a group's scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from timberyard.search.ast import And, Node


@dataclass(frozen=True, slots=True)
class Principal:
    account_id: str
    role: str  # owner, admin, member, readonly; "ingestion" for ingestion keys
    actor_type: str  # "user" (a browser session) or "key" (an API key)
    actor_id: str  # user id or key id
    actor_name: str  # email, or the key's name or prefix
    scope: Node | None = None  # lines this caller may read; None: all of the account's
    session_id: str | None = None  # the session (sha256 of its token) of a user
    csrf_token: str | None = None  # the session's CSRF token, which cookie writes must echo

    def restrict(self, query: Node) -> Node:
        """`query` limited to the lines this caller may read."""
        return query if self.scope is None else And((self.scope, query))
