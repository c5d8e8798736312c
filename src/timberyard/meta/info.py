"""Plain, frozen snapshots of metadata rows: what the database layer hands to its callers.

ORM objects stay inside a session; these travel across threads and into JSON. None of them
carries a password hash or a key hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

ROLES = ("owner", "admin", "member", "readonly")
KEY_TYPES = ("ingestion", "service")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, the form the API reports timestamps in."""
    if value is None:
        return None
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: str
    name: str
    retention_days: int
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "retention_days": self.retention_days,
            "created_at": iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    account_id: str
    email: str
    role: str
    disabled: bool
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "email": self.email,
            "role": self.role,
            "disabled": self.disabled,
            "created_at": iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: str
    account_id: str
    type: str
    role: str | None
    name: str | None
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None  # set by rotation: the end of the old secret's grace period
    last_used_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        """Not revoked and, if it was rotated, still inside its grace period at `now`."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    @property
    def active(self) -> bool:
        return self.usable_at(datetime.now(UTC))

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "type": self.type,
            "role": self.role,
            "name": self.name,
            "prefix": self.prefix,
            "active": self.active,
            "created_at": iso(self.created_at),
            "revoked_at": iso(self.revoked_at),
            "expires_at": iso(self.expires_at),
            "last_used_at": iso(self.last_used_at),
        }


@dataclass(frozen=True, slots=True)
class RotatedKey:
    """The key that replaces a rotated one, its secret (shown once, kept out of `repr`), and
    the old key, which now carries the end of its grace period in `expires_at`."""

    key: KeyInfo
    secret: str = field(repr=False)
    old: KeyInfo = field(repr=False)

    def to_json_dict(self) -> dict[str, object]:
        return {**self.key.to_dict(), "key": self.secret, "old": self.old.to_dict()}


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """A group with its members' emails (sorted); `scope` is a search query, "" sees nothing."""

    id: str
    account_id: str
    name: str
    scope: str
    members: tuple[str, ...]
    created_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "name": self.name,
            "scope": self.scope,
            "members": list(self.members),
            "created_at": iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class GrantInfo:
    """A break-glass grant: `user` reads the whole account, beyond their groups, until `expires_at`."""

    id: str
    account_id: str
    user_id: str
    user_email: str
    granted_by: str
    granted_by_email: str
    reason: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def active_at(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "user_id": self.user_id,
            "email": self.user_email,
            "granted_by": self.granted_by,
            "granted_by_email": self.granted_by_email,
            "reason": self.reason,
            "active": self.active_at(datetime.now(UTC)),
            "created_at": iso(self.created_at),
            "expires_at": iso(self.expires_at),
            "revoked_at": iso(self.revoked_at),
        }


@dataclass(frozen=True, slots=True)
class NewAccount:
    """An account made with its first keys; the secrets exist only here, shown once
    (and kept out of `repr`, so they never reach a log by accident)."""

    account_id: str
    account: str
    ingestion_key: str = field(repr=False)
    service_key: str = field(repr=False)

    def to_json_dict(self) -> dict[str, str]:
        return {
            "account": self.account_id,
            "account_name": self.account,
            "ingestion_key": self.ingestion_key,
            "service_key": self.service_key,
        }


@dataclass(frozen=True, slots=True)
class InitResult:
    """What `timberyard init` prints: the first account, its owner and its first keys."""

    account_id: str
    account: str
    owner_email: str
    owner_password: str = field(repr=False)
    ingestion_key: str = field(repr=False)
    service_key: str = field(repr=False)

    def to_json_dict(self) -> dict[str, str]:
        return {
            "account": self.account_id,
            "account_name": self.account,
            "owner_email": self.owner_email,
            "owner_password": self.owner_password,
            "ingestion_key": self.ingestion_key,
            "service_key": self.service_key,
        }
