"""Settings sealed at rest: AES-256-GCM under a 32-byte node key, a fresh nonce each time, the
account id as associated data, so a sealed value moved to another account fails to open. Alert
channel configurations and archive credentials are stored this way: a stolen database or backup
does not give away webhook tokens, SMTP passwords or storage keys."""

from __future__ import annotations

import base64
import os
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class Sealer:
    """Seals and opens JSON settings under one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, account_id: str, config: dict[str, Any]) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, orjson.dumps(config), account_id.encode())).decode()

    def open(self, account_id: str, sealed: str) -> dict[str, Any]:
        raw = base64.b64decode(sealed)
        return orjson.loads(self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], account_id.encode()))
