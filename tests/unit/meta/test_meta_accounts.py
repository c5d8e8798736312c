from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from timberyard.core.errors import BadRequest, Conflict
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo
from timberyard.meta.models import User

HEX32 = re.compile(r"[0-9a-f]{32}")


def test_initialise_creates_account_owner_and_one_key_of_each_type(db: MetaDB) -> None:
    assert not db.is_initialised()

    result = db.initialise()

    assert db.is_initialised()
    assert result.to_json_dict() == {
        "account": result.account_id,
        "account_name": "default",
        "owner_email": "owner@localhost",
        "owner_password": result.owner_password,
        "ingestion_key": result.ingestion_key,
        "service_key": result.service_key,
    }
    assert HEX32.fullmatch(result.account_id)
    assert HEX32.fullmatch(result.ingestion_key) and HEX32.fullmatch(result.service_key)
    assert len(result.owner_password) >= 24
    keys = {k.type: k for k in db.list_keys(result.account_id)}
    assert keys["ingestion"].role is None
    assert keys["service"].role == "admin"
    owner = db.verify_password("owner@localhost", result.owner_password)
    assert owner is not None and owner.role == "owner" and owner.account_id == result.account_id


def test_initialise_takes_the_account_name_and_owner_email(db: MetaDB) -> None:
    result = db.initialise(account_name="hospital", owner_email="Ops@Example.org")
    assert result.account == "hospital"
    assert result.owner_email == "ops@example.org"
    assert db.verify_password("ops@example.org", result.owner_password) is not None


def test_initialise_refuses_the_second_time(db: MetaDB) -> None:
    first = db.initialise()
    with pytest.raises(Conflict, match="already initialised"):
        db.initialise(account_name="other")
    assert [a.id for a in db.list_accounts()] == [first.account_id]


def test_initialise_refuses_when_any_account_exists(db: MetaDB, account: AccountInfo) -> None:
    with pytest.raises(Conflict):
        db.initialise()


def test_results_keep_secrets_out_of_repr(db: MetaDB) -> None:
    result = db.initialise()
    new = db.create_account_with_keys("second")
    for secret in (result.owner_password, result.ingestion_key, result.service_key):
        assert secret not in repr(result)
    assert new.service_key not in repr(new) and new.ingestion_key not in repr(new)


def test_create_get_and_list_accounts(db: MetaDB) -> None:
    acme = db.create_account("  acme ")
    zeta = db.create_account("zeta")
    assert acme.name == "acme" and acme.retention_days == 30
    assert db.get_account(acme.id) == acme
    assert db.get_account("0" * 32) is None
    assert db.list_accounts() == [acme, zeta]
    assert acme.to_dict()["created_at"].endswith("Z")


def test_duplicate_account_name_is_a_conflict(db: MetaDB, account: AccountInfo) -> None:
    with pytest.raises(Conflict, match="acme"):
        db.create_account("acme")
    assert db.list_accounts() == [account]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_account_name_must_be_sensible(db: MetaDB, name: str) -> None:
    with pytest.raises(BadRequest):
        db.create_account(name)


def test_create_account_with_keys_makes_keys_but_no_user(db: MetaDB) -> None:
    new = db.create_account_with_keys("tenant")
    assert new.to_json_dict() == {
        "account": new.account_id,
        "account_name": "tenant",
        "ingestion_key": new.ingestion_key,
        "service_key": new.service_key,
    }
    keys = {(k.type, k.role) for k in db.list_keys(new.account_id)}
    assert keys == {("ingestion", None), ("service", "admin")}
    assert db.find_key_by_secret(new.ingestion_key) is not None
    assert db.find_key_by_secret(new.service_key) is not None
    with Session(db.engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
