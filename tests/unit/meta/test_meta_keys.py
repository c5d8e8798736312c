from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from timberyard.core.errors import BadRequest, NotFound
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo


def test_create_ingestion_key(db: MetaDB, account: AccountInfo) -> None:
    key, secret = db.create_key(account.id, "ingestion", name=" shipper ")
    assert re.fullmatch(r"[0-9a-f]{32}", secret)
    assert re.fullmatch(r"[0-9a-f]{12}", key.id)
    assert (key.account_id, key.type, key.role) == (account.id, "ingestion", None)
    assert key.name == "shipper"
    assert key.prefix == secret[:6]
    assert key.active and key.revoked_at is None and key.last_used_at is None


def test_service_keys_are_readonly_unless_a_role_is_given(db: MetaDB, account: AccountInfo) -> None:
    plain, _ = db.create_key(account.id, "service")
    admin, _ = db.create_key(account.id, "service", role="admin")
    assert (plain.role, admin.role) == ("readonly", "admin")


@pytest.mark.parametrize(
    ("type", "role"),
    [("agent", None), ("service", "superuser"), ("service", "owner"), ("ingestion", "admin")],
)
def test_bad_type_or_role_is_a_bad_request(
    db: MetaDB, account: AccountInfo, type: str, role: str | None
) -> None:
    with pytest.raises(BadRequest):
        db.create_key(account.id, type, role=role)
    assert db.list_keys(account.id) == []


def test_key_for_unknown_account_is_not_found(db: MetaDB) -> None:
    with pytest.raises(NotFound):
        db.create_key("0" * 32, "ingestion")


def test_list_keys_with_and_without_revoked(db: MetaDB, account: AccountInfo) -> None:
    first, _ = db.create_key(account.id, "ingestion")
    second, _ = db.create_key(account.id, "service")
    revoked = db.revoke_key(account.id, first.id)
    assert db.list_keys(account.id) == [revoked, second]
    assert db.list_keys(account.id, include_revoked=False) == [second]


def test_revoke_is_idempotent(db: MetaDB, account: AccountInfo) -> None:
    key, _ = db.create_key(account.id, "ingestion")
    revoked = db.revoke_key(account.id, key.id)
    assert not revoked.active and revoked.revoked_at is not None
    assert db.revoke_key(account.id, key.id) == revoked


def test_revoking_another_accounts_key_is_not_found(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    key, secret = db.create_key(other.id, "ingestion")
    with pytest.raises(NotFound) as raised:
        db.revoke_key(account.id, key.id)
    with pytest.raises(NotFound) as unknown:
        db.revoke_key(account.id, "0" * 12)
    assert str(raised.value).replace(key.id, "ID") == str(unknown.value).replace("0" * 12, "ID")
    assert db.find_key_by_secret(secret) == key


def test_find_key_by_secret_includes_revoked_keys(db: MetaDB, account: AccountInfo) -> None:
    key, secret = db.create_key(account.id, "service")
    assert db.find_key_by_secret(secret) == key
    db.revoke_key(account.id, key.id)
    found = db.find_key_by_secret(secret)
    assert found is not None and not found.active
    assert db.find_key_by_secret("f" * 32) is None
    assert db.find_key_by_secret("") is None


def test_secrets_are_never_stored_in_plain_text(db: MetaDB, db_path: Path) -> None:
    result = db.initialise()
    _, extra = db.create_key(result.account_id, "service", name="ci")
    secrets = [result.ingestion_key, result.service_key, extra, result.owner_password]
    raw = sqlite3.connect(db_path)
    try:
        listing = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [name for (name,) in listing]
        cells = [
            str(cell)
            for table in tables
            for row in raw.execute(f'SELECT * FROM "{table}"')
            for cell in row
        ]
    finally:
        raw.close()
    files = [path.read_bytes() for path in db_path.parent.iterdir()]  # database, WAL, shm
    assert "api_keys" in tables and cells and len(files) >= 2
    for secret in secrets:
        assert not any(secret in cell for cell in cells)
        assert not any(secret.encode() in content for content in files)


def test_record_key_use_moves_last_used_forward_only(db: MetaDB, account: AccountInfo) -> None:
    one, _ = db.create_key(account.id, "ingestion")
    two, _ = db.create_key(account.id, "ingestion")
    later = datetime(2030, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    db.record_key_use({one.id: later, two.id: later, "missing": later})
    db.record_key_use({one.id: later - timedelta(hours=1)})
    used = {k.id: k.last_used_at for k in db.list_keys(account.id)}
    assert used == {one.id: later, two.id: later}
    db.record_key_use({})


def test_key_to_dict_is_json_safe_and_has_no_hash(db: MetaDB, account: AccountInfo) -> None:
    key, secret = db.create_key(account.id, "service", name="ci")
    db.record_key_use({key.id: datetime(2030, 1, 1, tzinfo=UTC)})
    data = db.revoke_key(account.id, key.id).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["last_used_at"] == "2030-01-01T00:00:00.000Z"
    assert data["active"] is False and str(data["revoked_at"]).endswith("Z")
    assert not any("hash" in name for name in data)
    assert secret not in json.dumps(data)
