"""The Ed25519 key that signs the audit trail's hourly digests.

The private key lives in the data directory (`audit-signing.key`, PEM, mode 0600) and never
leaves it; the public key is exported (`timberyard audit public-key`) so an auditor can check
digests with nothing but it. A key is named by its id: the sha256 of its raw public bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from timberyard.core.errors import ConfigError
from timberyard.core.files import create_once

KEY_FILE = "audit-signing.key"


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """The private key at `path`, created first if there is none.

    Created atomically and never overwritten (core/files.py), so two processes starting at
    once end up with the same key and a crash never leaves half a key behind.
    """
    if path.exists():
        return _read_private_key(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    if not create_once(path, pem):
        return _read_private_key(path)  # another process made it first: use theirs
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The public key in a PEM file, which may hold the public key alone (what auditors get)
    or the private key (the data directory's own file)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path}: {exc.strerror}") from None
    if b"PRIVATE KEY" in data:
        return _read_private_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ConfigError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} holds a {type(key).__name__}, not an Ed25519 public key")
    return key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """sha256 hex of the raw public key: what each digest records as `public_key_id`."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(key: Ed25519PrivateKey, digest_hash: str) -> str:
    """Base64 signature of a hex sha256 (the 32 bytes it spells, not its text)."""
    return base64.b64encode(key.sign(bytes.fromhex(digest_hash))).decode()


def signature_valid(key: Ed25519PublicKey, digest_hash: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), bytes.fromhex(digest_hash))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"cannot read the audit signing key {path}: {exc.strerror}") from None
    except (ValueError, TypeError):
        raise ConfigError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key
