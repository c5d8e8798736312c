"""Password hashing with argon2id, the memory-hard hash OWASP recommends for passwords.

One hasher with argon2-cffi's defaults (RFC 9106 low-memory profile); stored hashes carry
their parameters, so raising the cost later only needs `needs_rehash` at the next sign-in.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; False for a wrong password or a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_nobody(password: str) -> None:
    """Spend the time of a real check: an unknown email must cost what a wrong password
    costs, or response times would tell which emails have accounts."""
    verify_password(_dummy_hash(), password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("timberyard-dummy-password")
