"""Signed digests: the chain of custody of an account's archive, like CloudTrail's log-file
validation.

Every exporter run that delivers files (and at least one run per hour even when it delivers
none, so silence is visible) writes one digest object:

    {"digest": {"version": 1, "account": …, "sequence": n, "created_at": …,
                "range": {"after_id": …, "through_id": …},
                "files": [{"key", "sha256", "lines", "bytes", "hour"}, …],
                "previous_digest_key": …, "previous_digest_sha256": …, "previous_digest_signature": …,
                "public_key_id": …},
     "signature": base64 Ed25519 over the sha256 of the canonical (sorted-key orjson) "digest"}

`sha256` of a file is of the stored bytes (encrypted files included: checking needs no key);
`previous_digest_sha256` is of the previous digest object's stored bytes, signature included,
so deleting, reordering or editing a digest breaks the chain after it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from timberyard.auth.signing import key_id, sign, signature_valid

VERSION = 1


@dataclass(frozen=True)
class DeliveredFile:
    key: str
    sha256: str
    lines: int
    bytes: int
    hour_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "sha256": self.sha256, "lines": self.lines, "bytes": self.bytes, "hour": self.hour_ms}


@dataclass(frozen=True)
class ChainLink:
    """What the next digest must name: the previous digest's key, hash and signature."""

    key: str | None = None
    sha256: str | None = None
    signature: str | None = None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def body_hash(body: dict[str, Any]) -> str:
    return sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS))


def build(
    signer: Ed25519PrivateKey, account: str, sequence: int, created_ms: int, after_id: int, through_id: int,
    files: list[DeliveredFile], previous: ChainLink,
) -> tuple[bytes, str]:
    """The digest object's bytes and its signature."""
    body = {
        "version": VERSION, "account": account, "sequence": sequence, "created_at": created_ms,
        "range": {"after_id": after_id, "through_id": through_id},
        "files": [f.to_dict() for f in files],
        "previous_digest_key": previous.key, "previous_digest_sha256": previous.sha256,
        "previous_digest_signature": previous.signature,
        "public_key_id": key_id(signer.public_key()),
    }
    signature = sign(signer, body_hash(body))
    return orjson.dumps({"digest": body, "signature": signature}, option=orjson.OPT_SORT_KEYS), signature


def read(data: bytes) -> tuple[dict[str, Any], str]:
    """(body, signature) of a digest object; ValueError when it is not one."""
    parsed = orjson.loads(data)
    if not isinstance(parsed, dict) or not isinstance(parsed.get("digest"), dict) or not isinstance(parsed.get("signature"), str):
        raise ValueError("not a digest object")
    return parsed["digest"], parsed["signature"]


def signed_by(body: dict[str, Any], signature: str, keys: list[Ed25519PublicKey]) -> bool:
    digest_hash = body_hash(body)
    return any(key_id(k) == body.get("public_key_id") and signature_valid(k, digest_hash, signature) for k in keys)
