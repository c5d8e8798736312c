"""`KeyRing`: checks the API key of every request without a database query per request.

Keys found valid are cached for `cache_ttl_s`, so a key revoked by another process (the CLI)
stops working within that time; a key revoked or rotated through this ring is looked up again
at once. A rotated key's cache entry never outlives its `expires_at`. Misses are
never cached, so a key created elsewhere works on its first request. Last use is counted in
memory and written in one transaction by `flush_usage`, which the server calls periodically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from timberyard.core.errors import Forbidden, MissingCredentials
from timberyard.meta.api_keys import DEFAULT_ROTATION_GRACE_S, hash_secret
from timberyard.meta.database import MetaDB
from timberyard.meta.info import KeyInfo, RotatedKey
from timberyard.meta.models import utcnow

FORBIDDEN_MESSAGE = "Account not found or inactive"
WRONG_TYPE_MESSAGES = {
    "ingestion": "this is an ingestion key: it sends lines but cannot read them; read with a service key",
    "service": "this is a service key: it reads but cannot send lines; send with an ingestion key",
}


class KeyRing:
    """Thread-safe: called from asyncio handlers and from worker threads alike. `now` (the wall
    clock: expiry, rotation, last use) and `monotonic` (cache lifetimes) are for tests."""

    def __init__(
        self,
        db: MetaDB,
        cache_ttl_s: float = 10.0,
        now: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._ttl = cache_ttl_s
        self._now = now
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[KeyInfo, float]] = {}  # secret hash -> (key, expiry)
        self._uses: dict[str, float] = {}  # key id -> epoch seconds of the latest use
        self._invalidations = 0  # bumped by revoke() and rotate(), so a lookup racing them is not cached

    def authenticate(self, secret: str | None, required_type: str) -> KeyInfo:
        """The active key of type `required_type` with this secret.

        MissingCredentials when no secret is given; Forbidden when it is unknown, revoked, or
        rotated and past its grace period (one message for all, so a caller learns nothing
        about other keys), or when it is a working key of the other type: then the message says
        which key to use, since whoever holds the secret may know what it is.
        """
        if not secret:
            raise MissingCredentials("Missing Credentials")
        digest = hash_secret(secret)
        now = self._monotonic()
        with self._lock:
            entry = self._cache.get(digest)
            invalidations = self._invalidations
        if entry is None or entry[1] <= now:
            entry = self._lookup(secret, digest, now, invalidations)
        key = entry[0]
        if key.type != required_type:
            raise Forbidden(WRONG_TYPE_MESSAGES[key.type])
        with self._lock:
            self._uses[key.id] = self._now().timestamp()
        return key

    def revoke(self, account_id: str, key_id: str) -> KeyInfo:
        """Revoke through the database and stop accepting the key here immediately."""
        key = self._db.revoke_key(account_id, key_id)
        self._forget(key_id)
        return key

    def rotate(self, account_id: str, key_id: str, grace_s: int = DEFAULT_ROTATION_GRACE_S) -> RotatedKey:
        """Rotate through the database; the old key's new expiry applies here immediately."""
        rotated = self._db.rotate_key(account_id, key_id, grace_s, self._now())
        self._forget(key_id)
        return rotated

    def _forget(self, key_id: str) -> None:
        with self._lock:
            self._invalidations += 1
            for digest in [d for d, (cached, _) in self._cache.items() if cached.id == key_id]:
                del self._cache[digest]

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
        self, secret: str, digest: str, now: float, invalidations: int
    ) -> tuple[KeyInfo, float]:
        key = self._db.find_key_by_secret(secret)
        wall = self._now()
        if key is None or not key.usable_at(wall):
            with self._lock:
                self._cache.pop(digest, None)
            raise Forbidden(FORBIDDEN_MESSAGE)
        ttl = self._ttl
        if key.expires_at is not None:
            ttl = min(ttl, (key.expires_at - wall).total_seconds())
        entry = (key, now + ttl)
        with self._lock:
            if self._invalidations == invalidations:
                self._cache[digest] = entry
        return entry
