from __future__ import annotations

from argon2 import PasswordHasher

from timberyard.auth.passwords import (
    hash_password,
    needs_rehash,
    verify_nobody,
    verify_password,
)


def test_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    stored = hash_password("s3cret-password")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "s3cret-password")
    assert not verify_password(stored, "s3cret-passwore")
    assert not needs_rehash(stored)


def test_malformed_hash_never_verifies() -> None:
    assert not verify_password("not a hash", "anything")


def test_hash_with_weaker_parameters_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw")
    assert verify_password(weak, "pw")
    assert needs_rehash(weak)


def test_verify_nobody_returns_nothing() -> None:
    assert verify_nobody("anything") is None
