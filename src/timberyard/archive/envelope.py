"""Client-side encryption of archive files: AES-256-GCM under a fresh data key per file, the
data key wrapped (RFC 3394 AES key wrap) by the account's archive key.

A sealed file is a header followed by the ciphertext and its 16-byte GCM tag:

    magic    4 bytes  b"TYAE"
    version  1 byte   1
    key id   1 byte length n, then n ASCII bytes   which account archive key wrapped the data key
    wrapped  40 bytes the 32-byte data key, AES-KW under that archive key
    nonce    12 bytes

The whole header is the GCM associated data, so changing any of it (another key id, another
wrapped key) fails authentication. Rotating the account key adds a key and makes it current;
old keys are kept, so old files still open.
"""

from __future__ import annotations

import os
import secrets
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from timberyard.core.errors import TimberyardError

MAGIC = b"TYAE"
VERSION = 1
KEY_BYTES = 32
WRAPPED_BYTES = 40
NONCE_BYTES = 12
TAG_BYTES = 16
MAX_HEADER_BYTES = 6 + 255 + WRAPPED_BYTES + NONCE_BYTES
PIECE_BYTES = 1 << 20
FAILED = "encrypted archive file failed authentication: altered, or sealed under another key"


class EnvelopeError(TimberyardError):
    """An archive file that cannot be opened: not sealed by us, an unknown key, or altered bytes."""


def new_key() -> tuple[str, bytes]:
    """A new account archive key and its id."""
    return secrets.token_hex(8), os.urandom(KEY_BYTES)


def seal(plain: bytes, key_id: str, key: bytes) -> bytes:
    data_key = os.urandom(KEY_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    name = key_id.encode("ascii")
    header = MAGIC + struct.pack("BB", VERSION, len(name)) + name + aes_key_wrap(key, data_key) + nonce
    return header + AESGCM(data_key).encrypt(nonce, plain, header)


def key_id_of(sealed: bytes) -> str:
    """The id of the archive key a sealed file needs."""
    if len(sealed) < 6 or sealed[:4] != MAGIC:
        raise EnvelopeError("not a Timberyard encrypted archive file (bad magic)")
    if sealed[4] != VERSION:
        raise EnvelopeError(f"unsupported archive envelope version {sealed[4]}")
    return sealed[6 : 6 + sealed[5]].decode("ascii", "replace")


def open_sealed(sealed: bytes, keys: dict[str, bytes]) -> bytes:
    """The plaintext of a sealed file, with whichever of `keys` (id → key) sealed it."""
    header_end, data_key, nonce = _open_header(sealed, len(sealed), keys)
    try:
        return AESGCM(data_key).decrypt(nonce, sealed[header_end:], sealed[:header_end])
    except InvalidTag:
        raise EnvelopeError(FAILED) from None


def open_sealed_file(source: BinaryIO, size: int, out: BinaryIO, keys: dict[str, bytes]) -> None:
    """`open_sealed` of a seekable file of `size` bytes, written to `out` a piece at a time, so a
    file of any size opens in bounded memory. `out` holds unauthenticated bytes until this
    returns: on an EnvelopeError the caller must discard it."""
    head = source.read(MAX_HEADER_BYTES)
    header_end, data_key, nonce = _open_header(head, size, keys)
    source.seek(size - TAG_BYTES)
    tag = source.read(TAG_BYTES)
    decryptor = Cipher(algorithms.AES(data_key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(head[:header_end])
    source.seek(header_end)
    left = size - TAG_BYTES - header_end
    while left:
        piece = source.read(min(PIECE_BYTES, left))
        if not piece:
            raise EnvelopeError("encrypted archive file is truncated")
        out.write(decryptor.update(piece))
        left -= len(piece)
    try:
        out.write(decryptor.finalize())
    except InvalidTag:
        raise EnvelopeError(FAILED) from None


def _open_header(head: bytes, size: int, keys: dict[str, bytes]) -> tuple[int, bytes, bytes]:
    """(where the ciphertext starts, the unwrapped data key, the nonce) of a sealed file that
    starts with `head` and is `size` bytes long."""
    key_id = key_id_of(head)
    if key_id not in keys:
        raise EnvelopeError(f"archive key {key_id!r} is not among this account's keys")
    start = 6 + head[5]
    header_end = start + WRAPPED_BYTES + NONCE_BYTES
    if size < header_end + TAG_BYTES or len(head) < header_end:
        raise EnvelopeError("encrypted archive file is truncated")
    wrapped, nonce = head[start : start + WRAPPED_BYTES], head[start + WRAPPED_BYTES : header_end]
    try:
        return header_end, aes_key_unwrap(keys[key_id], wrapped), nonce
    except InvalidUnwrap:
        raise EnvelopeError(FAILED) from None
