from __future__ import annotations

import pyotp
import pytest

from timberyard.auth.totp import ENROLMENT_TTL_S, STEP_S, TotpVerifier
from timberyard.core.errors import BadRequest

KEY = b"k" * 32
START = 1_764_316_800.0  # a step boundary


class Clock:
    def __init__(self) -> None:
        self.now = START + 5

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(clock: Clock) -> TotpVerifier:
    return TotpVerifier(KEY, now=clock)


def code_at(secret: str, at: float) -> str:
    return pyotp.TOTP(secret, interval=STEP_S).at(at)


def test_the_current_code_is_accepted_and_a_wrong_one_is_not(verifier: TotpVerifier, clock: Clock) -> None:
    secret = pyotp.random_base32()
    right = code_at(secret, clock.now)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert not verifier.verify("u1", secret, wrong)
    assert verifier.verify("u1", secret, right)


def test_a_code_is_refused_the_second_time_within_its_window(verifier: TotpVerifier, clock: Clock) -> None:
    secret = pyotp.random_base32()
    code = code_at(secret, clock.now)
    assert verifier.verify("u1", secret, code)
    clock.now += STEP_S  # still inside the ±1-step window
    assert not verifier.verify("u1", secret, code)
    assert verifier.verify("u1", secret, code_at(secret, clock.now))


def test_an_older_code_is_refused_once_a_newer_one_was_used(verifier: TotpVerifier, clock: Clock) -> None:
    secret = pyotp.random_base32()
    older = code_at(secret, clock.now - STEP_S)
    assert verifier.verify("u1", secret, code_at(secret, clock.now))
    assert not verifier.verify("u1", secret, older)


def test_one_step_of_drift_either_way_is_accepted_two_are_not(verifier: TotpVerifier, clock: Clock) -> None:
    secret = pyotp.random_base32()
    assert not verifier.verify("u1", secret, code_at(secret, clock.now - 2 * STEP_S))
    assert not verifier.verify("u1", secret, code_at(secret, clock.now + 2 * STEP_S))
    assert verifier.verify("u1", secret, code_at(secret, clock.now - STEP_S))
    assert verifier.verify("u1", secret, code_at(secret, clock.now + STEP_S))


@pytest.mark.parametrize("malformed", ["", "12345", "1234567", "abcdef", None, 123456])
def test_malformed_codes_are_refused(verifier: TotpVerifier, malformed: object) -> None:
    assert not verifier.verify("u1", pyotp.random_base32(), malformed)


def test_codes_with_a_space_in_the_middle_are_read(verifier: TotpVerifier, clock: Clock) -> None:
    secret = pyotp.random_base32()
    code = code_at(secret, clock.now)
    assert verifier.verify("u1", secret, f"{code[:3]} {code[3:]}")


def test_enrolment_stores_the_secret_only_with_a_code_proving_the_app_has_it(verifier: TotpVerifier, clock: Clock) -> None:
    enrolment = verifier.start_enrolment("u1", "ann@example.com")
    assert enrolment.otpauth_uri.startswith("otpauth://totp/Timberyard:ann%40example.com?secret=")
    right = code_at(enrolment.secret, clock.now)
    with pytest.raises(BadRequest, match="does not match"):
        verifier.finish_enrolment(enrolment.token, "u1", f"{(int(right) + 1) % 1_000_000:06d}")
    assert verifier.finish_enrolment(enrolment.token, "u1", right) == enrolment.secret


def test_an_enrolment_token_is_only_good_for_its_user_and_its_secret(verifier: TotpVerifier, clock: Clock) -> None:
    enrolment = verifier.start_enrolment("u1", "ann@example.com")
    code = code_at(enrolment.secret, clock.now)
    with pytest.raises(BadRequest, match="not valid for you"):
        verifier.finish_enrolment(enrolment.token, "u2", code)
    chosen = pyotp.random_base32()
    user, expires, _secret, mac = enrolment.token.split(".")
    with pytest.raises(BadRequest, match="not valid for you"):
        verifier.finish_enrolment(f"{user}.{expires}.{chosen}.{mac}", "u1", code_at(chosen, clock.now))
    other_server = TotpVerifier(b"o" * 32, now=clock)
    with pytest.raises(BadRequest, match="not valid for you"):
        other_server.finish_enrolment(enrolment.token, "u1", code)


def test_an_enrolment_token_expires(verifier: TotpVerifier, clock: Clock) -> None:
    enrolment = verifier.start_enrolment("u1", "ann@example.com")
    clock.now += ENROLMENT_TTL_S + 1
    with pytest.raises(BadRequest, match="expired"):
        verifier.finish_enrolment(enrolment.token, "u1", code_at(enrolment.secret, clock.now))
