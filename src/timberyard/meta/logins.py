"""Sign-in attempts: every one is a row, the evidence for throttling and log-in monitoring.

Rows are counted per email and per client address over a recent window; both columns are
indexed together with the time, so a count reads only that window's rows. An attempt is
written as `checking` before its password is checked and gets its outcome after, so attempts
running at the same time count each other: a burst of parallel guesses is throttled like a
sequence. A row left `checking` (the server stopped mid-check) keeps counting as a failure.
Rows are kept for `LoginGuard.KEEP` (the audit trail keeps every sign-in for years), so a
flood of attempts cannot grow the table without end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from timberyard.meta.models import LoginAttempt

# Outcomes that are a wrong guess: they slow down the next attempts.
FAILURES = ("bad_password", "unknown_user", "disabled", "bad_totp")
CHECKING = "checking"  # the password is being checked: counted as a failure until it is known
# Outcomes that are neither a guess nor a sign-in: the password was right, a step remains.
PENDING = ("totp_required", "enrolment_required")
# A signed-in user confirmed their password before a sensitive change (a new password, ...).
REAUTHENTICATED = "reauthenticated"
OUTCOMES = ("success", *FAILURES, "throttled", *PENDING, REAUTHENTICATED, CHECKING)
MAX_EMAIL_CHARS = 254
MAX_IP_CHARS = 45
MAX_USER_AGENT_CHARS = 400


@dataclass(frozen=True, slots=True)
class FailureCount:
    """Attempts in a window: wrong guesses (and the latest), and those plus refused ones."""

    failures: int
    last_failure_at: datetime | None
    refused: int  # failures + throttled attempts: what monitoring counts


def record_attempt(
    session: Session,
    *,
    at: datetime,
    email: str,
    outcome: str,
    ip: str,
    user_agent: str,
    account_id: str | None = None,
    user_id: str | None = None,
) -> int:
    """Insert one attempt; its id."""
    _check_outcome(outcome)
    row = LoginAttempt(
        at=at,
        email=email[:MAX_EMAIL_CHARS],
        account_id=account_id,
        user_id=user_id,
        ip=ip[:MAX_IP_CHARS],
        user_agent=user_agent[:MAX_USER_AGENT_CHARS],
        outcome=outcome,
    )
    session.add(row)
    session.flush()
    return row.id


def set_outcome(session: Session, attempt_id: int, outcome: str) -> None:
    """Give a `checking` attempt its outcome."""
    _check_outcome(outcome)
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt_id).values(outcome=outcome))


def delete_before(session: Session, before: datetime) -> int:
    """Forget attempts older than `before`; returns how many went."""
    return session.execute(delete(LoginAttempt).where(LoginAttempt.at < before)).rowcount or 0


def count_failures(session: Session, since: datetime, *, email: str | None = None, ip: str | None = None) -> FailureCount:
    """Failures (attempts still `checking` included) since `since` for one email or one
    client address (give exactly one)."""
    if (email is None) == (ip is None):
        raise ValueError("count failures by email or by ip, not both or neither")
    match: ColumnElement[bool] = LoginAttempt.email == email if email is not None else LoginAttempt.ip == ip
    failed = LoginAttempt.outcome.in_((*FAILURES, CHECKING))
    refused = LoginAttempt.outcome.in_((*FAILURES, "throttled"))
    failures, last, refusals = session.execute(
        select(
            func.count().filter(failed),
            func.max(LoginAttempt.at).filter(failed),
            func.count().filter(refused),
        ).where(match, LoginAttempt.at >= since)
    ).one()
    return FailureCount(failures=int(failures), last_failure_at=last, refused=int(refusals))



def _check_outcome(outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown sign-in outcome {outcome!r}")
