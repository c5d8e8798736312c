"""Encryption at rest for write-ahead-log frames: AES-256-GCM under one node key.

The WAL holds acknowledged lines, in the clear, until the store has them; on a stolen disk or
backup that is patient data. With a key configured every frame's payload is sealed with a fresh
random 96-bit nonce, and the associated data names where the frame lives (segment, byte offset,
seq), so a frame copied or moved to another place fails authentication instead of replaying.

Random nonces are safe for about 2^32 messages per key, and a busy node can write that many
frames within weeks. So frames are not sealed under the node key itself but under a subkey
derived (HKDF-SHA256) from it and a random salt, renewed every RENEW_AFTER frames and at every
start; the salt travels in the frame. Sealed body: salt 16 | nonce 12 | ciphertext | tag 16.

The key comes from the file named by `wal_encryption_key_file` or from TIMBERYARD_WAL_KEY (kept
out of Settings so it never shows up in a settings dump). Accepted encodings, checked in this
order: a file of exactly 32 raw bytes; 64 hexadecimal characters; base64 of 32 bytes (standard
or URL-safe alphabet). Surrounding whitespace and a trailing newline are ignored for the text
forms. An environment variable cannot carry arbitrary bytes, so it takes only the text forms.
"""

from __future__ import annotations

import base64
import logging
import os
import stat
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from timberyard.core.errors import ConfigError

log = logging.getLogger(__name__)

KEY_ENV = "TIMBERYARD_WAL_KEY"
KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12
TAG_BYTES = 16
OVERHEAD = SALT_BYTES + NONCE_BYTES + TAG_BYTES
RENEW_AFTER = 1 << 24  # frames per subkey: a nonce collision chance below 2^-48
_PLACE = struct.Struct("<4sQQQB")  # domain tag, segment first seq, frame offset, seq, flags


class WalCipher:
    """Seals and opens frame payloads; `place()` builds the associated data for one frame.
    Sealing happens on the WAL's one flusher thread; opening at start-up."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigError(f"a wal encryption key must be {KEY_BYTES} bytes, got {len(key)}")
        self._key = key
        self._salt = b""
        self._sealer: AESGCM | None = None
        self._sealed = 0
        self._openers: dict[bytes, AESGCM] = {}

    @staticmethod
    def place(segment: int, offset: int, seq: int, flags: int) -> bytes:
        return _PLACE.pack(b"TYWE", segment, offset, seq, flags)

    def seal(self, payload: bytes | memoryview, place: bytes) -> bytes:
        if self._sealer is None or self._sealed >= RENEW_AFTER:
            self._salt = os.urandom(SALT_BYTES)
            self._sealer = self._subkey(self._salt)
            self._sealed = 0
        self._sealed += 1
        nonce = os.urandom(NONCE_BYTES)
        return self._salt + nonce + self._sealer.encrypt(nonce, bytes(payload), place)

    def open(self, sealed: bytes | memoryview, place: bytes) -> bytes | None:
        """The plaintext, or None when the key is not the one that sealed it or the bytes were altered."""
        sealed = bytes(sealed)
        if len(sealed) < OVERHEAD:
            return None
        salt, nonce, ciphertext = sealed[:SALT_BYTES], sealed[SALT_BYTES : SALT_BYTES + NONCE_BYTES], sealed[SALT_BYTES + NONCE_BYTES :]
        if salt not in self._openers:
            self._openers[salt] = self._subkey(salt)
        try:
            return self._openers[salt].decrypt(nonce, ciphertext, place)
        except InvalidTag:
            return None

    def _subkey(self, salt: bytes) -> AESGCM:
        return AESGCM(HKDF(SHA256(), KEY_BYTES, salt, b"timberyard wal frame key v1").derive(self._key))


def load_cipher(key_file: str, env_value: str | None) -> WalCipher | None:
    """The node's WAL cipher from the key file or the environment value; None when neither is set."""
    if key_file and env_value:
        raise ConfigError(
            f"both wal_encryption_key_file and {KEY_ENV} are set; set one of them, so it is clear which key the WAL uses"
        )
    if key_file:
        return WalCipher(_key_from_file(Path(key_file).expanduser()))
    if env_value:
        key = _decode_text(env_value.encode())
        if key is None:
            raise ConfigError(f"{KEY_ENV} must be 64 hexadecimal characters or base64 of {KEY_BYTES} bytes")
        return WalCipher(key)
    return None


def _key_from_file(path: Path) -> bytes:
    try:
        data = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"cannot read wal_encryption_key_file {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the wal encryption key file is readable by other users; chmod 600 it", extra={"path": str(path)})
    if len(data) == KEY_BYTES:
        return data
    key = _decode_text(data)
    if key is None:
        raise ConfigError(
            f"wal_encryption_key_file {path} must hold exactly {KEY_BYTES} raw bytes, 64 hexadecimal characters "
            f"or base64 of {KEY_BYTES} bytes; it holds {len(data)} bytes that are none of these "
            "(make one with: head -c 32 /dev/urandom > FILE)"
        )
    return key


def _decode_text(data: bytes) -> bytes | None:
    text = data.strip()
    if len(text) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except ValueError:  # not ASCII, or not hexadecimal
            pass
    try:  # the URL-safe alphabet is mapped onto the standard one, then decoded strictly
        key = base64.b64decode(text.replace(b"-", b"+").replace(b"_", b"/"), validate=True)
    except ValueError:
        return None
    return key if len(key) == KEY_BYTES else None
