"""What a new password must be: long enough, not absurdly long, and not a common password.

NIST SP 800-63B and OWASP ASVS V6 agree that length and a check against passwords attackers
try first protect people; composition rules (a digit, a symbol, an upper-case letter) do not,
so there are none. Length counts Unicode code points, so every script and any spaces count
the same. The common passwords are zxcvbn's frequency list (the most used passwords of real
leaks), compared case-insensitively, so the list stays maintained upstream, not in our tree.
"""

from __future__ import annotations

from functools import cache

from timberyard.core.errors import BadRequest

MIN_CHARS = 12
MAX_CHARS = 128  # argon2 hashes any length; the cap only stops megabyte "passwords"
PRODUCT_WORD = "timberyard"
MIN_CONTEXT_CHARS = 4  # shorter email names ("al") are too likely in innocent passphrases


def check_password(password: object, email: str | None = None) -> str:
    """`password` if it may be set; BadRequest saying exactly what is wrong otherwise.

    `email` is the account's sign-in name: a password containing it (or its local part, or
    the product's name) is the first thing a targeted attacker tries.
    """
    if not isinstance(password, str):
        raise BadRequest("password must be a string")
    length = len(password)
    if length < MIN_CHARS:
        raise BadRequest(
            f"password must have at least {MIN_CHARS} characters (it has {length}); "
            "a few unrelated words make a long password that is easy to remember"
        )
    if length > MAX_CHARS:
        raise BadRequest(f"password must have at most {MAX_CHARS} characters (it has {length})")
    folded = password.casefold()
    if folded in _common_passwords():
        raise BadRequest("this password is one of the most common passwords; choose another")
    for word in _context_words(email):
        if word in folded:
            raise BadRequest(f"password must not contain {word!r}; choose another")
    return password


def _context_words(email: str | None) -> list[str]:
    words = [PRODUCT_WORD]
    if email:
        local = email.casefold().partition("@")[0]
        words += [email.casefold(), local] if len(local) >= MIN_CONTEXT_CHARS else [email.casefold()]
    return words


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.casefold() for p in FREQUENCY_LISTS["passwords"])
