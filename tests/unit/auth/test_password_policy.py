from __future__ import annotations

import pytest

from timberyard.auth.password_policy import MAX_CHARS, MIN_CHARS, check_password
from timberyard.core.errors import BadRequest
from timberyard.meta.database import MetaDB
from timberyard.meta.info import NewAccount


def test_twelve_characters_is_the_least_length() -> None:
    assert check_password("x7#kq2!vmz9p") == "x7#kq2!vmz9p"
    with pytest.raises(BadRequest, match=f"at least {MIN_CHARS} characters \\(it has 11\\)"):
        check_password("x7#kq2!vmz9")


def test_length_counts_code_points_not_bytes() -> None:
    assert check_password("ü" * 6 + "ø" * 6)  # 12 characters, 24 UTF-8 bytes
    with pytest.raises(BadRequest, match="it has 11"):
        check_password("😀" * 11)  # 44 bytes, still 11 characters


def test_more_than_128_characters_is_refused() -> None:
    assert check_password("a quiet river " * 9 + "xy")  # 128
    with pytest.raises(BadRequest, match=f"at most {MAX_CHARS} characters \\(it has 129\\)"):
        check_password("a quiet river " * 9 + "xyz")


@pytest.mark.parametrize("common", ["qwerty123456", "QWERTY123456", "1qaz2wsx3edc", "FinalFantasy"])
def test_common_passwords_are_refused_whatever_their_case(common: str) -> None:
    with pytest.raises(BadRequest, match="most common passwords"):
        check_password(common)


@pytest.mark.parametrize("passphrase", ["plum kettle orbit ladder", "alllowercaseletters", "ordinary words only"])
def test_long_passphrases_pass_without_any_composition_rule(passphrase: str) -> None:
    assert check_password(passphrase) == passphrase


def test_the_users_own_email_and_the_product_name_are_refused() -> None:
    with pytest.raises(BadRequest, match="'margaret'"):
        check_password("Margaret-1984-spring", email="margaret@example.org")
    with pytest.raises(BadRequest, match="'timberyard'"):
        check_password("my timberyard login")
    assert check_password("Margaret-1984-spring", email="ann@example.org")


def test_a_password_that_is_not_text_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="must be a string"):
        check_password(123456789012)


def test_adding_a_user_applies_the_policy(db: MetaDB, tenant: NewAccount) -> None:
    with pytest.raises(BadRequest, match="most common"):
        db.add_user(tenant.account_id, "ann@example.com", "qwerty123456", "member")
    assert db.add_user(tenant.account_id, "ann@example.com", "plum kettle orbit ladder", "member").email == "ann@example.com"
