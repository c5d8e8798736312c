from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from clock import Clock

from timberyard.auth.keys import KeyRing
from timberyard.core.errors import BadRequest, Conflict, Forbidden, NotFound
from timberyard.meta.api_keys import DEFAULT_ROTATION_GRACE_S, MAX_ROTATION_GRACE_S
from timberyard.meta.database import MetaDB
from timberyard.meta.info import KeyInfo, NewAccount


def _key(db: MetaDB, secret: str) -> KeyInfo:
    key = db.find_key_by_secret(secret)
    assert key is not None
    return key


def test_rotation_makes_a_twin_and_gives_the_old_key_a_grace_period(db: MetaDB, tenant: NewAccount) -> None:
    old, _ = db.create_key(tenant.account_id, "service", name="grafana", role="member")
    before = datetime.now(UTC)
    rotated = db.rotate_key(tenant.account_id, old.id)
    after = datetime.now(UTC)
    assert (rotated.key.type, rotated.key.role, rotated.key.name) == ("service", "member", "grafana")
    assert rotated.key.id != old.id and rotated.key.expires_at is None
    assert rotated.secret[:6] == rotated.key.prefix
    assert rotated.old.id == old.id and rotated.old.active
    assert rotated.old.expires_at is not None
    grace = timedelta(seconds=DEFAULT_ROTATION_GRACE_S)
    assert before + grace <= rotated.old.expires_at <= after + grace
    listed = {k.id: k for k in db.list_keys(tenant.account_id)}
    assert listed[old.id].expires_at == rotated.old.expires_at
    assert listed[rotated.key.id].to_dict()["expires_at"] is None
    body = rotated.to_json_dict()
    assert body["key"] == rotated.secret and body["old"]["id"] == old.id  # type: ignore[index]
    assert rotated.secret not in repr(rotated)


def test_ingestion_keys_rotate_to_ingestion_keys(db: MetaDB, tenant: NewAccount) -> None:
    ring = KeyRing(db)
    old = _key(db, tenant.ingestion_key)
    rotated = ring.rotate(tenant.account_id, old.id, 60)
    assert (rotated.key.type, rotated.key.role) == ("ingestion", None)
    assert ring.authenticate(rotated.secret, "ingestion").id == rotated.key.id
    with pytest.raises(Forbidden):
        ring.authenticate(rotated.secret, "service")


def _ring(db: MetaDB, clock: Clock, cache_ttl_s: float = 10.0) -> KeyRing:
    return KeyRing(db, cache_ttl_s=cache_ttl_s, now=clock, monotonic=clock.monotonic)


def test_old_key_works_during_grace_and_is_refused_after(db: MetaDB, tenant: NewAccount, clock: Clock) -> None:
    clock.now = datetime.now(UTC)  # the keys were created at the real time
    ring = _ring(db, clock)  # the default 10 s cache must not outlive the 1 s grace
    old = ring.authenticate(tenant.service_key, "service")
    rotated = ring.rotate(tenant.account_id, old.id, 1)
    assert rotated.old.expires_at == clock.now + timedelta(seconds=1)
    clock.advance(0.9)
    assert ring.authenticate(tenant.service_key, "service").id == old.id
    assert ring.authenticate(rotated.secret, "service").role == "admin"
    clock.advance(0.1)
    with pytest.raises(Forbidden, match="^Account not found or inactive$"):
        ring.authenticate(tenant.service_key, "service")
    assert ring.authenticate(rotated.secret, "service").id == rotated.key.id
    assert not _key(db, tenant.service_key).usable_at(clock.now)


def test_a_cached_entry_never_outlives_the_grace_period(
    db: MetaDB, other_db: MetaDB, tenant: NewAccount, clock: Clock
) -> None:
    """Rotated by another process, then first seen here: the hour-long cache stops at expiry."""
    clock.now = datetime.now(UTC)
    ring = _ring(db, clock, cache_ttl_s=3600)
    other_db.rotate_key(tenant.account_id, _key(db, tenant.ingestion_key).id, 1, now=clock.now)
    assert ring.authenticate(tenant.ingestion_key, "ingestion")
    clock.advance(0.5)
    assert ring.authenticate(tenant.ingestion_key, "ingestion")  # from the cache
    clock.advance(0.5)
    with pytest.raises(Forbidden):
        ring.authenticate(tenant.ingestion_key, "ingestion")


def test_zero_grace_ends_the_old_key_at_once(db: MetaDB, tenant: NewAccount) -> None:
    ring = KeyRing(db, cache_ttl_s=3600)
    old = ring.authenticate(tenant.ingestion_key, "ingestion")
    rotated = ring.rotate(tenant.account_id, old.id, 0)
    with pytest.raises(Forbidden):
        ring.authenticate(tenant.ingestion_key, "ingestion")
    assert ring.authenticate(rotated.secret, "ingestion").account_id == tenant.account_id


@pytest.mark.parametrize("grace_s", [-1, MAX_ROTATION_GRACE_S + 1, 1.5, True, "60", None])
def test_bad_grace_is_a_bad_request_and_changes_nothing(db: MetaDB, tenant: NewAccount, grace_s: object) -> None:
    key = _key(db, tenant.ingestion_key)
    with pytest.raises(BadRequest, match="grace_s"):
        db.rotate_key(tenant.account_id, key.id, grace_s)  # type: ignore[arg-type]
    assert len(db.list_keys(tenant.account_id)) == 2
    assert _key(db, tenant.ingestion_key).expires_at is None


def test_thirty_days_is_the_longest_grace(db: MetaDB, tenant: NewAccount) -> None:
    rotated = db.rotate_key(tenant.account_id, _key(db, tenant.ingestion_key).id, MAX_ROTATION_GRACE_S)
    assert rotated.old.expires_at is not None
    assert rotated.old.expires_at - datetime.now(UTC) > timedelta(days=29, hours=23)


def test_rotating_again_never_lengthens_the_grace(db: MetaDB, tenant: NewAccount) -> None:
    key_id = _key(db, tenant.ingestion_key).id
    first = db.rotate_key(tenant.account_id, key_id, 3600)
    second = db.rotate_key(tenant.account_id, key_id, MAX_ROTATION_GRACE_S)
    assert second.old.expires_at == first.old.expires_at
    third = db.rotate_key(tenant.account_id, key_id, 60)
    assert third.old.expires_at is not None and first.old.expires_at is not None
    assert third.old.expires_at < first.old.expires_at


def test_revoked_or_expired_keys_cannot_be_rotated(db: MetaDB, tenant: NewAccount) -> None:
    revoked, _ = db.create_key(tenant.account_id, "ingestion")
    db.revoke_key(tenant.account_id, revoked.id)
    with pytest.raises(Conflict, match="revoked or expired"):
        db.rotate_key(tenant.account_id, revoked.id)
    expired = _key(db, tenant.ingestion_key)
    db.rotate_key(tenant.account_id, expired.id, 0)
    with pytest.raises(Conflict, match="revoked or expired"):
        db.rotate_key(tenant.account_id, expired.id)
    assert len(db.list_keys(tenant.account_id)) == 4  # two of init, the revoked one, one successor


def test_another_accounts_key_is_not_found(db: MetaDB, tenant: NewAccount) -> None:
    other = db.create_account_with_keys("other")
    theirs = _key(db, other.service_key)
    with pytest.raises(NotFound, match=f"key {theirs.id} not found"):
        db.rotate_key(tenant.account_id, theirs.id)
    assert _key(db, other.service_key).expires_at is None
    assert len(db.list_keys(other.account_id)) == 2
