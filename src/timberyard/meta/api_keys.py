"""API keys: minted here, stored as a sha256 of the secret, looked up by that hash.

A key's secret is 32 random hex characters (the shape of a LogDNA key) and is returned once,
at creation. Rotation mints a successor and gives the old key an `expires_at`, so clients
can switch secrets without an outage. sha256 rather than a slow password hash is right for 128 random bits: there is
nothing to brute-force, and the server must check a key on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta.info import KEY_TYPES, KeyInfo, RotatedKey
from timberyard.meta.models import Account, ApiKey, utcnow

SERVICE_KEY_ROLES = ("admin", "member", "readonly")
DEFAULT_SERVICE_KEY_ROLE = "readonly"
PREFIX_CHARS = 6
MAX_NAME_CHARS = 100
DEFAULT_ROTATION_GRACE_S = 24 * 3600
MAX_ROTATION_GRACE_S = 30 * 24 * 3600


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_info(row: ApiKey) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        account_id=row.account_id,
        type=row.type,
        role=row.role,
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def create_key(
    session: Session,
    account_id: str,
    type: str,
    name: str | None = None,
    role: str | None = None,
) -> tuple[KeyInfo, str]:
    """Mint a key; returns its description and the plaintext secret (not kept anywhere)."""
    role = _check_role(type, role)
    name = _check_name(name)
    if session.get(Account, account_id) is None:
        raise NotFound(f"account {account_id} not found", account=account_id)
    secret = secrets.token_hex(16)
    row = ApiKey(
        id=secrets.token_hex(6),
        account_id=account_id,
        type=type,
        role=role,
        name=name,
        prefix=secret[:PREFIX_CHARS],
        secret_hash=hash_secret(secret),
    )
    session.add(row)
    session.flush()
    return key_info(row), secret


def list_keys(session: Session, account_id: str, include_revoked: bool = True) -> list[KeyInfo]:
    query = select(ApiKey).where(ApiKey.account_id == account_id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    rows = session.scalars(query.order_by(ApiKey.created_at, ApiKey.id))
    return [key_info(row) for row in rows]


def revoke_key(session: Session, account_id: str, key_id: str) -> KeyInfo:
    """Revoke a key of `account_id`; revoking a revoked key changes nothing.

    A key of another account is reported exactly like a key that does not exist.
    """
    row = _own_key(session, account_id, key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return key_info(row)


def rotate_key(
    session: Session,
    account_id: str,
    key_id: str,
    grace_s: int = DEFAULT_ROTATION_GRACE_S,
    now: datetime | None = None,
) -> RotatedKey:
    """Mint a key of the same type, role and name, and let the old one work `grace_s` more
    seconds (0 ends it now). Rotating twice never lengthens the old key's grace period."""
    if isinstance(grace_s, bool) or not isinstance(grace_s, int) or not 0 <= grace_s <= MAX_ROTATION_GRACE_S:
        raise BadRequest(
            f"grace_s must be a whole number of seconds from 0 to {MAX_ROTATION_GRACE_S} (30 days)",
            grace_s=grace_s,
        )
    now = now or utcnow()
    row = _own_key(session, account_id, key_id)
    if not key_info(row).usable_at(now):
        raise Conflict(f"key {key_id} is revoked or expired; create a new key instead", key=key_id)
    new, secret = create_key(session, account_id, row.type, name=row.name, role=row.role)
    ends = now + timedelta(seconds=grace_s)
    if row.expires_at is None or ends < row.expires_at:
        row.expires_at = ends
        session.flush()
    return RotatedKey(key=new, secret=secret, old=key_info(row))


def find_key_by_secret(session: Session, secret: str) -> KeyInfo | None:
    """The key with this secret, revoked or not, so callers can tell the two apart."""
    if not secret:
        return None
    row = session.scalars(
        select(ApiKey).where(ApiKey.secret_hash == hash_secret(secret))
    ).one_or_none()
    return None if row is None else key_info(row)


def record_key_use(session: Session, uses: Mapping[str, datetime]) -> None:
    """Move each key's `last_used_at` forward (never back: two processes may both flush)."""
    if not uses:
        return
    table = ApiKey.__table__
    statement = (
        update(table)
        .where(
            table.c.id == bindparam("key_id"),
            or_(table.c.last_used_at.is_(None), table.c.last_used_at < bindparam("used_at")),
        )
        .values(last_used_at=bindparam("used_at"))
    )
    session.execute(statement, [{"key_id": k, "used_at": t} for k, t in uses.items()])


def _own_key(session: Session, account_id: str, key_id: str) -> ApiKey:
    row = session.scalars(
        select(ApiKey).where(ApiKey.id == key_id, ApiKey.account_id == account_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"key {key_id} not found", key=key_id)
    return row


def _check_role(type: str, role: str | None) -> str | None:
    if type not in KEY_TYPES:
        raise BadRequest(
            f"unknown key type {type!r}; expected one of: {', '.join(KEY_TYPES)}", type=type
        )
    if type == "ingestion":
        if role is not None:
            raise BadRequest("ingestion keys carry no role; leave role empty", role=role)
        return None
    role = DEFAULT_SERVICE_KEY_ROLE if role is None else role
    if role not in SERVICE_KEY_ROLES:
        raise BadRequest(
            f"unknown service key role {role!r}; expected one of: {', '.join(SERVICE_KEY_ROLES)}",
            role=role,
        )
    return role


def _check_name(name: str | None) -> str | None:
    name = (name or "").strip() or None
    if name is not None and len(name) > MAX_NAME_CHARS:
        raise BadRequest(f"key name is longer than {MAX_NAME_CHARS} characters")
    return name
