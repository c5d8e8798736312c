from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from clock import Clock
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from timberyard.auth.keys import KeyRing
from timberyard.core.errors import Forbidden, MissingCredentials
from timberyard.meta.api_keys import hash_secret
from timberyard.meta.database import MetaDB
from timberyard.meta.info import KeyInfo, NewAccount
from timberyard.meta.models import ApiKey


def _key(db: MetaDB, secret: str) -> KeyInfo:
    key = db.find_key_by_secret(secret)
    assert key is not None
    return key


def test_valid_keys_authenticate_for_their_type(db: MetaDB, tenant: NewAccount) -> None:
    ring = KeyRing(db)
    ingestion = ring.authenticate(tenant.ingestion_key, "ingestion")
    service = ring.authenticate(tenant.service_key, "service")
    assert (ingestion.account_id, ingestion.type) == (tenant.account_id, "ingestion")
    assert (service.account_id, service.role) == (tenant.account_id, "admin")


def test_wrong_type_is_forbidden_and_says_which_key_to_use(db: MetaDB, tenant: NewAccount) -> None:
    ring = KeyRing(db)
    with pytest.raises(Forbidden, match="^this is an ingestion key: it sends lines but cannot read them; read with a service key$"):
        ring.authenticate(tenant.ingestion_key, "service")
    with pytest.raises(Forbidden, match="^this is a service key: it reads but cannot send lines; send with an ingestion key$"):
        ring.authenticate(tenant.service_key, "ingestion")
    ring.authenticate(tenant.ingestion_key, "ingestion")
    with pytest.raises(Forbidden):
        ring.authenticate(tenant.ingestion_key, "service")


def test_unknown_key_is_forbidden(db: MetaDB, tenant: NewAccount) -> None:
    with pytest.raises(Forbidden, match="^Account not found or inactive$"):
        KeyRing(db).authenticate("f" * 32, "ingestion")


@pytest.mark.parametrize("secret", ["", None])
def test_missing_key_is_missing_credentials(db: MetaDB, secret: str | None) -> None:
    with pytest.raises(MissingCredentials, match="^Missing Credentials$"):
        KeyRing(db).authenticate(secret, "ingestion")


def test_revoke_through_the_ring_takes_effect_at_once(db: MetaDB, tenant: NewAccount) -> None:
    ring = KeyRing(db, cache_ttl_s=3600)
    key = ring.authenticate(tenant.ingestion_key, "ingestion")
    assert not ring.revoke(tenant.account_id, key.id).active
    with pytest.raises(Forbidden):
        ring.authenticate(tenant.ingestion_key, "ingestion")


def test_revoke_by_another_process_is_seen_once_the_cache_expires(
    db: MetaDB, other_db: MetaDB, tenant: NewAccount, clock: Clock
) -> None:
    cached = KeyRing(db, cache_ttl_s=3600, monotonic=clock.monotonic)
    short = KeyRing(db, cache_ttl_s=10, monotonic=clock.monotonic)
    cached.authenticate(tenant.ingestion_key, "ingestion")
    short.authenticate(tenant.ingestion_key, "ingestion")

    other_db.revoke_key(tenant.account_id, _key(db, tenant.ingestion_key).id)
    clock.advance(9.9)
    assert short.authenticate(tenant.ingestion_key, "ingestion").active  # still cached
    clock.advance(0.1)

    assert cached.authenticate(tenant.ingestion_key, "ingestion").active
    with pytest.raises(Forbidden):
        short.authenticate(tenant.ingestion_key, "ingestion")
    with pytest.raises(Forbidden):
        KeyRing(db).authenticate(tenant.ingestion_key, "ingestion")


def test_misses_are_not_cached(db: MetaDB, other_db: MetaDB, tenant: NewAccount) -> None:
    ring = KeyRing(db)
    secret = "0123456789abcdef" * 2
    with pytest.raises(Forbidden):
        ring.authenticate(secret, "ingestion")
    with Session(other_db.engine) as session, session.begin():
        session.add(
            ApiKey(
                id="feedfacecafe",
                account_id=tenant.account_id,
                type="ingestion",
                prefix=secret[:6],
                secret_hash=hash_secret(secret),
            )
        )
    assert ring.authenticate(secret, "ingestion").id == "feedfacecafe"


def test_usage_is_written_only_when_flushed(db: MetaDB, tenant: NewAccount) -> None:
    ring = KeyRing(db)
    before = datetime.now(UTC)
    ring.authenticate(tenant.service_key, "service")
    assert _key(db, tenant.service_key).last_used_at is None

    ring.flush_usage()

    used = _key(db, tenant.service_key).last_used_at
    assert used is not None and before <= used <= datetime.now(UTC)
    assert _key(db, tenant.ingestion_key).last_used_at is None
    ring.flush_usage()


def test_usage_survives_a_failed_flush(db: MetaDB, tenant: NewAccount, tmp_path: Path) -> None:
    ring = KeyRing(db)
    ring.authenticate(tenant.ingestion_key, "ingestion")
    raw = sqlite3.connect(tmp_path / "metadata.sqlite3", isolation_level=None)
    try:
        raw.execute("ALTER TABLE api_keys RENAME TO api_keys_away")
        with pytest.raises(OperationalError):
            ring.flush_usage()
        raw.execute("ALTER TABLE api_keys_away RENAME TO api_keys")
    finally:
        raw.close()

    ring.flush_usage()

    assert _key(db, tenant.ingestion_key).last_used_at is not None


def test_concurrent_authentication_and_revocation(db: MetaDB, tenant: NewAccount) -> None:
    ring = KeyRing(db)
    service_id = _key(db, tenant.service_key).id
    errors: list[BaseException] = []

    def hammer() -> None:
        try:
            for _ in range(200):
                ring.authenticate(tenant.ingestion_key, "ingestion")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    ring.revoke(tenant.account_id, service_id)
    for thread in threads:
        thread.join()
    ring.flush_usage()

    assert errors == []
    with pytest.raises(Forbidden):
        ring.authenticate(tenant.service_key, "service")
    assert _key(db, tenant.ingestion_key).last_used_at is not None
