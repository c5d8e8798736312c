"""`KeyRing`: checks the API key of every request without a database query per request.

Keys found valid are cached for `cache_ttl_s`, so a key revoked by another process (the CLI)
stops working within that time; a key revoked through this ring stops at once. Misses are
never cached, so a key created elsewhere works on its first request. Last use is counted in
memory and written in one transaction by `flush_usage`, which the server calls periodically.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from timberyard.core.errors import Forbidden, MissingCredentials
from timberyard.meta.api_keys import hash_secret
from timberyard.meta.database import MetaDB
from timberyard.meta.info import KeyInfo

FORBIDDEN_MESSAGE = "Account not found or inactive"


class KeyRing:
    """Thread-safe: called from asyncio handlers and from worker threads alike."""

    def __init__(self, db: MetaDB, cache_ttl_s: float = 10.0) -> None:
        self._db = db
        self._ttl = cache_ttl_s
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[KeyInfo, float]] = {}  # secret hash -> (key, expiry)
        self._uses: dict[str, float] = {}  # key id -> epoch seconds of the latest use
        self._revocations = 0  # bumped by revoke(), so a lookup racing it is not cached

    def authenticate(self, secret: str | None, required_type: str) -> KeyInfo:
        """The active key of type `required_type` with this secret.

        MissingCredentials when no secret is given; Forbidden (with one message for every
        case, so a caller learns nothing about other keys) when it is unknown, revoked or
        of the wrong type.
        """
        if not secret:
            raise MissingCredentials("Missing Credentials")
        digest = hash_secret(secret)
        now = time.monotonic()
        with self._lock:
            entry = self._cache.get(digest)
            revocations = self._revocations
        if entry is None or entry[1] <= now:
            entry = self._lookup(secret, digest, now, revocations)
        key = entry[0]
        if key.type != required_type:
            raise Forbidden(FORBIDDEN_MESSAGE)
        with self._lock:
            self._uses[key.id] = time.time()
        return key

    def revoke(self, account_id: str, key_id: str) -> KeyInfo:
        """Revoke through the database and stop accepting the key here immediately."""
        key = self._db.revoke_key(account_id, key_id)
        with self._lock:
            self._revocations += 1
            for digest in [d for d, (cached, _) in self._cache.items() if cached.id == key_id]:
                del self._cache[digest]
        return key

    def flush_usage(self) -> None:
        """Write the last-use times gathered since the previous flush (kept if it fails)."""
        with self._lock:
            uses, self._uses = self._uses, {}
        if not uses:
            return
        try:
            self._db.record_key_use(
                {key_id: datetime.fromtimestamp(t, UTC) for key_id, t in uses.items()}
            )
        except BaseException:
            with self._lock:
                for key_id, t in uses.items():
                    self._uses[key_id] = max(t, self._uses.get(key_id, t))
            raise

    def _lookup(
        self, secret: str, digest: str, now: float, revocations: int
    ) -> tuple[KeyInfo, float]:
        key = self._db.find_key_by_secret(secret)
        if key is None or not key.active:
            with self._lock:
                self._cache.pop(digest, None)
            raise Forbidden(FORBIDDEN_MESSAGE)
        entry = (key, now + self._ttl)
        with self._lock:
            if self._revocations == revocations:
                self._cache[digest] = entry
        return entry
