"""Who may do what: LogDNA's role matrix as one table, checked server-side on every endpoint.

Roles are ordered; a permission names the least role that holds it, so each role has what the
one below it has plus its own. Ingestion keys hold `logs.ingest` and nothing else, and no
role holds `logs.ingest`: reading and writing are separate credentials.
"""

from __future__ import annotations

ROLE_ORDER = ("readonly", "member", "admin", "owner")
INGESTION = "ingestion"

# permission -> the least role that has it
PERMISSIONS: dict[str, str] = {
    # read-only: search, tail, export, view boards
    "logs.read": "readonly",
    "views.read": "readonly",
    "boards.read": "readonly",
    "metrics.read": "readonly",
    "session.self": "readonly",  # one's own session, password and two-factor
    # member: + manage views, alerts, boards
    "views.manage": "member",
    "alerts.manage": "member",
    "boards.manage": "member",
    # admin: + keys, users, groups, rules, archiving, integrations; the audit trail
    "keys.manage": "admin",
    "users.manage": "admin",
    "groups.manage": "admin",
    "rules.manage": "admin",
    "archives.manage": "admin",
    "integrations.manage": "admin",
    "account.settings": "admin",
    "audit.read": "admin",
    # owner: + account deletion, owner transfer, break-glass access, where security events go,
    # the account's retention
    "account.delete": "owner",
    "owner.transfer": "owner",
    "access.grant": "owner",
    "security_alerts.manage": "owner",
    "retention.manage": "owner",
}


def has_permission(role: str, permission: str) -> bool:
    """True when `role` holds `permission`; unknown roles and permissions hold nothing."""
    if permission == "logs.ingest":
        return role == INGESTION
    least = PERMISSIONS.get(permission)
    if least is None or role not in ROLE_ORDER:
        return False
    return ROLE_ORDER.index(role) >= ROLE_ORDER.index(least)


def permissions_of(role: str) -> list[str]:
    """Every permission `role` holds, for the API and the UI to show."""
    if role == INGESTION:
        return ["logs.ingest"]
    return [p for p in PERMISSIONS if has_permission(role, p)]


def holders(permission: str) -> str:
    """Who holds `permission`, in words for error messages: "admin and owner"."""
    roles = [INGESTION] if permission == "logs.ingest" else [r for r in ROLE_ORDER if has_permission(r, permission)]
    return " and ".join(roles) if len(roles) < 3 else ", ".join(roles[:-1]) + " and " + roles[-1]
