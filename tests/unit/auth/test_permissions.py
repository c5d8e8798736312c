"""The role matrix: each role holds what the one below holds plus its own; reading and writing
lines are separate credentials."""

from __future__ import annotations

import pytest

from timberyard.auth.permissions import (
    PERMISSIONS,
    ROLE_ORDER,
    has_permission,
    holders,
    permissions_of,
)


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        ("readonly", ["logs.read", "views.read", "boards.read", "metrics.read"], ["views.manage", "keys.manage", "audit.read"]),
        ("member", ["logs.read", "views.manage", "alerts.manage", "boards.manage"], ["keys.manage", "users.manage", "groups.manage"]),
        ("admin", ["keys.manage", "users.manage", "groups.manage", "rules.manage", "archives.manage", "integrations.manage", "audit.read"],
         ["account.delete", "owner.transfer", "access.grant", "security_alerts.manage", "retention.manage"]),
        ("owner", list(PERMISSIONS), []),
    ],
)
def test_logdna_role_matrix(role: str, allowed: list[str], refused: list[str]) -> None:
    assert all(has_permission(role, p) for p in allowed)
    assert not any(has_permission(role, p) for p in refused)


def test_each_role_holds_everything_the_one_below_holds() -> None:
    for lower, higher in zip(ROLE_ORDER, ROLE_ORDER[1:]):
        assert set(permissions_of(lower)) < set(permissions_of(higher))


def test_ingestion_only_writes_and_nobody_else_does() -> None:
    assert permissions_of("ingestion") == ["logs.ingest"]
    assert not any(has_permission(role, "logs.ingest") for role in ROLE_ORDER)


@pytest.mark.parametrize(("role", "permission"), [("root", "logs.read"), ("owner", "no.such.permission"), ("", "logs.read")])
def test_unknown_roles_and_permissions_hold_nothing(role: str, permission: str) -> None:
    assert not has_permission(role, permission)


def test_holders_in_words() -> None:
    assert holders("keys.manage") == "admin and owner"
    assert holders("access.grant") == "owner"
    assert holders("logs.read") == "readonly, member, admin and owner"
