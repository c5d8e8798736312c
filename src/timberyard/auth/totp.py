"""Time-based one-time passwords (RFC 6238), the second factor, with replay protection.

Codes are six digits over 30-second steps; one step either side is accepted for clock drift
(RFC 6238 section 5.2). A code once accepted for a user is refused for the rest of its window,
as the RFC asks: the newest accepted step per user is remembered in memory, which covers one
node; a restart forgets it, which reopens a replay window of at most 90 seconds.

Enrolment stores nothing until the user proves their authenticator works: `start_enrolment`
returns the new secret with a signed, short-lived token carrying it, and `finish_enrolment`
takes the token back with a code from the authenticator. A secret the server did not make
(or made for someone else) is never accepted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyotp

from timberyard.core.errors import BadRequest

ISSUER = "Timberyard"
STEP_S = 30
DRIFT_STEPS = 1
ENROLMENT_TTL_S = 600
_CODE = re.compile(r"\d{6}")
_PURPOSE = b"timberyard totp enrolment\0"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What the user needs to set up an authenticator; the secret exists only here."""

    secret: str = field(repr=False)
    otpauth_uri: str = field(repr=False)
    token: str = field(repr=False)
    expires_at: int  # epoch seconds

    def to_dict(self) -> dict[str, object]:
        return {
            "secret": self.secret,
            "otpauth_uri": self.otpauth_uri,
            "enrolment": self.token,
            "expires_at": self.expires_at,
        }


class TotpVerifier:
    """Thread-safe. `key` signs enrolment tokens; `now` (epoch seconds) is for tests."""

    def __init__(self, key: bytes, now: Callable[[], float] = time.time) -> None:
        self._key = key
        self._now = now
        self._lock = threading.Lock()
        self._last_step: dict[str, int] = {}  # user id -> newest step accepted

    def start_enrolment(self, user_id: str, email: str) -> Enrolment:
        secret = pyotp.random_base32()
        expires = int(self._now()) + ENROLMENT_TTL_S
        payload = f"{user_id}.{expires}.{secret}"
        uri = pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=email, issuer_name=ISSUER)
        return Enrolment(secret=secret, otpauth_uri=uri, token=f"{payload}.{self._sign(payload)}", expires_at=expires)

    def finish_enrolment(self, token: object, user_id: str, code: object) -> str:
        """The secret of `token` once `code` proves the authenticator has it; BadRequest
        when the token is not one we issued to this user, has expired, or the code is wrong."""
        if not isinstance(token, str):
            raise BadRequest("enrolment must be the token from the enrolment step")
        payload, _, mac = token.rpartition(".")
        token_user, _, rest = payload.partition(".")
        expires, _, secret = rest.partition(".")
        if not hmac.compare_digest(mac.encode(), self._sign(payload).encode()) or token_user != user_id:
            raise BadRequest("enrolment token is not valid for you; start the enrolment again")
        if not expires.isdigit() or int(expires) < self._now():
            raise BadRequest("enrolment token has expired; start the enrolment again")
        if not self.verify(user_id, secret, code):
            raise BadRequest("that code does not match the new secret; check the authenticator's clock and try the next code")
        return secret

    def verify(self, user_id: str, secret: str, code: object) -> bool:
        """True for a current code of `secret` not yet used by `user_id`; uses it up."""
        if not isinstance(code, str):
            return False
        code = code.replace(" ", "")
        if not _CODE.fullmatch(code):
            return False
        totp = pyotp.TOTP(secret, interval=STEP_S)
        current = totp.timecode(self._now())
        matched = [
            step
            for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1)
            if hmac.compare_digest(totp.generate_otp(step), code)
        ]
        if not matched:
            return False
        with self._lock:
            if matched[-1] <= self._last_step.get(user_id, -1):
                return False  # replayed: this code (or a later one) was already accepted
            self._last_step[user_id] = matched[-1]
            self._forget_old(current)
        return True

    def _forget_old(self, current: int) -> None:
        if len(self._last_step) > 1000:
            for user_id in [u for u, step in self._last_step.items() if step < current - DRIFT_STEPS]:
                del self._last_step[user_id]

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, _PURPOSE + payload.encode(), hashlib.sha256).hexdigest()
