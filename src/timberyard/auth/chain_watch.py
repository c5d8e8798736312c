"""The node checks its own audit trail: every hour it verifies the recent entries and digests of
each account, and a problem it has not reported yet becomes a `security.audit_chain_failed` event
(which security alerts send to the account's owners). An edited, deleted or forged entry is
then known within the hour rather than at the next audit. The full history is verified on demand
(`timberyard audit verify`, the audit report).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from timberyard.auth.audit import SYSTEM_ACCOUNT, AuditEvent, AuditTrail
from timberyard.meta import audit as store
from timberyard.meta.database import MetaDB

CHECK_S = 3600
LOOKBACK = timedelta(days=2)
MAX_LISTED = 10  # problems named in one event; the count says how many there were
ACTION = "security.audit_chain_failed"


class ChainWatch:
    """`check` runs from the node's chores; `now` is for tests."""

    def __init__(self, meta: MetaDB, trail: AuditTrail, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.meta, self.trail, self.now = meta, trail, now
        self._reported: dict[str, tuple[str, ...]] = {}  # account: the problems last reported
        self._lock = threading.Lock()

    def check(self) -> int:
        """Verify each account's last LOOKBACK; returns how many accounts were reported."""
        now = self.now()
        reported = 0
        with self._lock:
            for account in self.meta.transact(store.account_ids, write=False):
                if account == SYSTEM_ACCOUNT:
                    continue
                problems = self.trail.verify(account, now - LOOKBACK, now).problems
                if not problems:
                    self._reported.pop(account, None)
                elif problems != self._reported.get(account):
                    self._reported[account] = problems
                    self.trail.record(AuditEvent(
                        account_id=account, action=ACTION, outcome="failure", actor_name="audit chain check",
                        target=f"{len(problems)} problem{'s' if len(problems) != 1 else ''}",
                        details={"problems": list(problems[:MAX_LISTED]), "since": (now - LOOKBACK).isoformat()},
                    ))
                    reported += 1
        return reported
