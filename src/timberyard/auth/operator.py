"""The node operator's credential for GET /metrics.

Node-wide figures (every account's traffic, the WAL, the store) belong to whoever runs the
node, not to any one account, so no account's key can read them. Prometheus presents the
`metrics_token` setting as a bearer token instead; an account's key sees only its own figures.
An empty setting serves node-wide metrics to nobody over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac

from timberyard.core.errors import ConfigError

MIN_CHARS = 24


class OperatorToken:
    def __init__(self, token: str) -> None:
        if token and len(token) < MIN_CHARS:
            raise ConfigError(
                f"metrics_token must have at least {MIN_CHARS} characters (try: openssl rand -hex 24), got {len(token)}"
            )
        self._digest = hashlib.sha256(token.encode()).digest() if token else None

    def admits(self, authorization: str) -> bool:
        """True when an `Authorization` header value is `Bearer <the token>`."""
        scheme, _, presented = authorization.partition(" ")
        if self._digest is None or scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(hashlib.sha256(presented.strip().encode()).digest(), self._digest)
