from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import update
from sqlalchemy.orm import Session

from timberyard.auth.passwords import needs_rehash
from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo
from timberyard.meta.models import User

PASSWORD = "correct horse battery"


def test_verify_password_right_wrong_and_unknown_email(db: MetaDB, account: AccountInfo) -> None:
    user = db.add_user(account.id, " Alice@Example.COM ", PASSWORD, "member")
    assert user.email == "alice@example.com"
    assert db.verify_password("ALICE@example.com", PASSWORD) == user
    assert db.verify_password("alice@example.com", PASSWORD + "!") is None
    assert db.verify_password("bob@example.com", PASSWORD) is None


def test_duplicate_email_is_a_conflict_across_accounts(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    db.add_user(account.id, "alice@example.com", PASSWORD, "member")
    with pytest.raises(Conflict):
        db.add_user(other.id, "ALICE@example.com", PASSWORD, "admin")


@pytest.mark.parametrize(
    ("email", "password", "role"),
    [
        ("not-an-email", PASSWORD, "member"),
        ("a b@example.com", PASSWORD, "member"),
        ("alice@example.com", "short", "member"),
        ("alice@example.com", PASSWORD, "root"),
    ],
)
def test_invalid_user_is_a_bad_request(
    db: MetaDB, account: AccountInfo, email: str, password: str, role: str
) -> None:
    with pytest.raises(BadRequest):
        db.add_user(account.id, email, password, role)


def test_user_for_unknown_account_is_not_found(db: MetaDB) -> None:
    with pytest.raises(NotFound):
        db.add_user("0" * 32, "alice@example.com", PASSWORD, "member")


def test_disabled_user_cannot_sign_in(db: MetaDB, account: AccountInfo) -> None:
    user = db.add_user(account.id, "alice@example.com", PASSWORD, "member")
    with Session(db.engine) as session, session.begin():
        session.execute(update(User).where(User.id == user.id).values(disabled=True))
    assert db.verify_password("alice@example.com", PASSWORD) is None


def test_weak_hash_is_upgraded_at_sign_in(db: MetaDB, account: AccountInfo) -> None:
    user = db.add_user(account.id, "alice@example.com", PASSWORD, "member")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with Session(db.engine) as session, session.begin():
        session.execute(update(User).where(User.id == user.id).values(password_hash=weak))

    assert db.verify_password("alice@example.com", PASSWORD) == user

    with Session(db.engine) as session:
        stored = session.get_one(User, user.id).password_hash
    assert stored != weak and not needs_rehash(stored)
