"""`LoginGuard`: signing in, with throttling and log-in monitoring (HIPAA 164.308(a)(5)(ii)(C)).

Every attempt is recorded (meta/logins.py). Wrong guesses slow the next attempts down, per
email and per client address: the first `FREE_FAILURES_*` in `WINDOW` cost nothing, then each
further attempt waits 2, 4, 8 ... seconds after the latest failure, up to `MAX_DELAY_S`; an
attempt during the wait is refused (429 with Retry-After) before its password is checked.

So that an attacker guessing one person's password cannot lock that person out, a successful
sign-in gives the browser a device cookie (OWASP's "device cookies"): an HMAC, under a key
kept in the data directory, over the email and a random nonce. An attempt that carries a
valid device cookie for its email is slowed only by failures made with that same cookie.

Many refused attempts for one email (`ALERT_EMAIL_FAILURES`) or from one address
(`ALERT_IP_FAILURES`) within `WINDOW` raise a `SecurityAlert`, at most once per window per
email or address; the web layer writes it to the audit trail as `security.login_failures`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from timberyard.auth import passwords
from timberyard.auth.totp import Enrolment, TotpVerifier
from timberyard.core.errors import BadRequest, ConfigError
from timberyard.core.files import create_once
from timberyard.meta import logins, users
from timberyard.meta.database import MetaDB
from timberyard.meta.info import UserInfo
from timberyard.meta.logins import CHECKING, FAILURES, REAUTHENTICATED
from timberyard.meta.models import utcnow

KEY_FILE = "login.key"
WINDOW = timedelta(minutes=15)
FREE_FAILURES_PER_EMAIL = 5
FREE_FAILURES_PER_IP = 10  # several people may share an address (an office behind NAT)
MAX_DELAY_S = 900
ALERT_EMAIL_FAILURES = 10
ALERT_IP_FAILURES = 20
DEVICE_COOKIE = "timberyard_device"
DEVICE_MAX_AGE_S = 180 * 24 * 3600
TWO_FACTOR_ROLES = ("owner", "admin")
_DEVICE_PURPOSE = b"timberyard device cookie\0"
_MAX_DEVICES_TRACKED = 10_000


@dataclass(frozen=True, slots=True)
class SecurityAlert:
    """Repeated failures for one email (`kind` "email") or from one address ("ip")."""

    kind: str
    value: str
    account_id: str  # the email's account when it has one, else "" (the system's audit chain)
    failures: int

    def details(self) -> dict[str, object]:
        return {self.kind: self.value, "failures": self.failures, "window_s": int(WINDOW.total_seconds())}


@dataclass(frozen=True, slots=True)
class Attempt:
    """How one sign-in attempt ended. `outcome` is a meta.logins outcome."""

    outcome: str
    email: str
    user: UserInfo | None = None
    retry_after: int = 0
    alerts: tuple[SecurityAlert, ...] = ()
    enrolment: Enrolment | None = field(default=None, repr=False)

    @property
    def account_id(self) -> str:
        return self.user.account_id if self.user else ""


def load_or_create_key(path: Path) -> bytes:
    """The 32-byte secret at `path`, created (mode 0600, atomically: concurrent starts agree on
    one key) if missing."""
    if not path.exists():
        create_once(path, secrets.token_bytes(32))
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes()
    if len(key) != 32:
        raise ConfigError(f"{path} is not a sign-in key (expected 32 bytes); delete it to make a new one")
    return key


def normalise_typed_email(email: str) -> str:
    """The email as typed, trimmed and lowercased, for lookup and for the attempts record
    (not validated: a malformed email is just an unknown user)."""
    return email.strip().lower()[: logins.MAX_EMAIL_CHARS]


class LoginGuard:
    """Thread-safe. `key` signs device cookies and enrolment tokens; `now` is for tests."""

    KEEP = timedelta(days=7)  # attempts older than this no longer throttle or alert

    def __init__(self, db: MetaDB, key: bytes, now: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._key = key
        self._now = now
        self.totp = TotpVerifier(key, now=lambda: now().timestamp())
        self._lock = threading.Lock()
        self._device_failures: dict[str, list[datetime]] = {}  # device nonce -> failure times
        self._alerted: dict[tuple[str, str], datetime] = {}  # (kind, value) -> last alert

    def prune(self) -> int:
        """Delete the attempts older than `KEEP`; the node calls this daily."""
        with self._db.writing() as session:
            return logins.delete_before(session, self._now() - self.KEEP)

    def sign_in(
        self,
        email: str,
        password: str,
        *,
        ip: str,
        user_agent: str,
        totp_code: str | None = None,
        enrolment_token: str | None = None,
        device_cookie: str | None = None,
    ) -> Attempt:
        """Check one attempt and record it. Never raises for wrong credentials: the outcome
        says what happened, and the caller answers every failure the same way."""
        email = normalise_typed_email(email)
        now = self._now()
        device = self._device_nonce(device_cookie, email, now)
        with self._db.reading() as session:
            credentials = users.find_credentials(session, email)
        user = credentials.user if credentials else None
        attempt_id, retry_after = self._begin(email, ip, user_agent, user, device, now)
        enrolment = None
        if retry_after:
            outcome = "throttled"
        elif credentials is None:
            passwords.verify_nobody(password)
            outcome = "unknown_user"
        elif not passwords.verify_password(credentials.password_hash, password):
            outcome = "bad_password"
        elif credentials.user.disabled:
            outcome = "disabled"
        elif credentials.totp_secret is not None:
            if not totp_code:
                outcome = "totp_required"
            elif self.totp.verify(credentials.user.id, credentials.totp_secret, totp_code):
                outcome = "success"
            else:
                outcome = "bad_totp"
        elif credentials.require_two_factor and credentials.user.role in TWO_FACTOR_ROLES:
            outcome, enrolment = self._enrol_at_sign_in(credentials.user, totp_code, enrolment_token)
        else:
            outcome = "success"
        if outcome == "success" and credentials and passwords.needs_rehash(credentials.password_hash):
            new_hash = passwords.hash_password(password)
            with self._db.writing() as session:
                users.set_password_hash(session, credentials.user.id, new_hash)
        alerts = self._finish(attempt_id, email, outcome, ip, user, device, now)
        return Attempt(outcome, email, user, retry_after, alerts, enrolment)

    def reauthenticate(
        self, user: UserInfo, password: str, *, ip: str, user_agent: str, device_cookie: str | None = None
    ) -> Attempt:
        """Check a signed-in user's password again before a sensitive change. Throttled and
        recorded like signing in: outcome `reauthenticated`, `bad_password` or `throttled`."""
        now = self._now()
        device = self._device_nonce(device_cookie, user.email, now)
        attempt_id, retry_after = self._begin(user.email, ip, user_agent, user, device, now)
        if retry_after:
            outcome = "throttled"
        else:
            with self._db.reading() as session:
                credentials = users.find_credentials(session, user.email)
            right = credentials is not None and passwords.verify_password(credentials.password_hash, password)
            outcome = REAUTHENTICATED if right else "bad_password"
        alerts = self._finish(attempt_id, user.email, outcome, ip, user, device, now)
        return Attempt(outcome, user.email, user, retry_after, alerts)

    def device_cookie(self, email: str) -> str:
        """A new device cookie value for a browser that just signed in as `email`."""
        nonce = secrets.token_urlsafe(16)
        issued = str(int(self._now().timestamp()))
        return f"{nonce}.{issued}.{self._device_mac(email, nonce, issued)}"

    def _device_nonce(self, cookie: str | None, email: str, now: datetime) -> str | None:
        """The nonce of a valid, unexpired device cookie issued for `email`, else None."""
        if not cookie:
            return None
        nonce, _, rest = cookie.partition(".")
        issued, _, mac = rest.partition(".")
        if not issued.isdigit() or not hmac.compare_digest(mac.encode(), self._device_mac(email, nonce, issued).encode()):
            return None
        if int(issued) + DEVICE_MAX_AGE_S < now.timestamp():
            return None
        return nonce

    def _device_mac(self, email: str, nonce: str, issued: str) -> str:
        message = _DEVICE_PURPOSE + f"{normalise_typed_email(email)}\0{nonce}\0{issued}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _enrol_at_sign_in(self, user: UserInfo, code: str | None, token: str | None) -> tuple[str, Enrolment | None]:
        """The account demands a second factor this user lacks: hand out a new secret, or
        store the one a previous answer handed out once `code` proves the user has it."""
        if not token:
            return "enrolment_required", self.totp.start_enrolment(user.id, user.email)
        try:
            secret = self.totp.finish_enrolment(token, user.id, code)
        except BadRequest:
            return "bad_totp", None
        self._db.set_totp_secret(user.id, secret)
        return "success", None

    def _begin(
        self, email: str, ip: str, user_agent: str, user: UserInfo | None, device: str | None, now: datetime
    ) -> tuple[int, int]:
        """Decide whether the attempt must wait, and record it as `checking` (or `throttled`)
        in the same transaction, so attempts made at the same time count each other."""
        retry_after = self._reserve_device(device, now) if device is not None else 0
        with self._db.writing() as session:
            if device is None:
                by_email = logins.count_failures(session, now - WINDOW, email=email)
                by_ip = logins.count_failures(session, now - WINDOW, ip=ip)
                retry_after = max(
                    _wait(by_email.failures, by_email.last_failure_at, FREE_FAILURES_PER_EMAIL, now),
                    _wait(by_ip.failures, by_ip.last_failure_at, FREE_FAILURES_PER_IP, now),
                )
            attempt_id = logins.record_attempt(
                session, at=now, email=email, outcome="throttled" if retry_after else CHECKING, ip=ip,
                user_agent=user_agent, account_id=user.account_id if user else None, user_id=user.id if user else None,
            )
        return attempt_id, retry_after

    def _finish(
        self, attempt_id: int, email: str, outcome: str, ip: str, user: UserInfo | None, device: str | None, now: datetime
    ) -> tuple[SecurityAlert, ...]:
        """Give the attempt its outcome; the alerts it raises."""
        if device is not None and outcome not in (*FAILURES, "throttled"):
            self._release_device(device, now)
        with self._db.writing() as session:
            if outcome != "throttled":
                logins.set_outcome(session, attempt_id, outcome)
            if outcome not in (*FAILURES, "throttled"):
                return ()
            by_email = logins.count_failures(session, now - WINDOW, email=email)
            by_ip = logins.count_failures(session, now - WINDOW, ip=ip)
        alerts = []
        if by_email.refused >= ALERT_EMAIL_FAILURES and self._first_alert("email", email, now):
            alerts.append(SecurityAlert("email", email, user.account_id if user else "", by_email.refused))
        if by_ip.refused >= ALERT_IP_FAILURES and self._first_alert("ip", ip, now):
            alerts.append(SecurityAlert("ip", ip, "", by_ip.refused))
        return tuple(alerts)

    def _reserve_device(self, device: str, now: datetime) -> int:
        """Seconds this device must wait; if none, count the attempt as a failure until
        `_release_device` says it was not one (so parallel attempts count each other)."""
        with self._lock:
            recent = [t for t in self._device_failures.pop(device, []) if t > now - WINDOW]
            wait = _wait(len(recent), recent[-1] if recent else None, FREE_FAILURES_PER_EMAIL, now)
            if not wait:
                recent.append(now)
            if len(self._device_failures) >= _MAX_DEVICES_TRACKED:
                self._device_failures.pop(next(iter(self._device_failures)))
            self._device_failures[device] = recent
        return wait

    def _release_device(self, device: str, now: datetime) -> None:
        with self._lock:
            recent = self._device_failures.get(device, [])
            if now in recent:
                recent.remove(now)

    def _first_alert(self, kind: str, value: str, now: datetime) -> bool:
        """True when no alert for this email or address was raised within the window."""
        with self._lock:
            last = self._alerted.get((kind, value))
            if last is not None and last > now - WINDOW:
                return False
            for stale in [k for k, t in self._alerted.items() if t <= now - WINDOW]:
                del self._alerted[stale]
            self._alerted[(kind, value)] = now
            return True


def _wait(failures: int, last_failure: datetime | None, free: int, now: datetime) -> int:
    """Seconds still to wait after `failures` recent failures, the latest at `last_failure`."""
    if failures < free or last_failure is None:
        return 0
    delay = min(2 ** min(failures - free + 1, 10), MAX_DELAY_S)
    remaining = (last_failure + timedelta(seconds=delay) - now).total_seconds()
    return math.ceil(remaining) if remaining > 0 else 0
