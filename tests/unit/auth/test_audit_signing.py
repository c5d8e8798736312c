"""The audit signing key on a real file system: created once, privately, atomically."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from timberyard.auth import signing
from timberyard.core.errors import ConfigError


def test_the_key_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / signing.KEY_FILE
    created = signing.load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    again = signing.load_or_create_signing_key(path)
    assert signing.key_id(again.public_key()) == signing.key_id(created.public_key())
    assert [p.name for p in path.parent.iterdir()] == [signing.KEY_FILE]  # no temporary file left


def test_processes_starting_together_end_up_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / signing.KEY_FILE
    ids: list[str] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        barrier.wait()
        ids.append(signing.key_id(signing.load_or_create_signing_key(path).public_key()))

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 6 and len(set(ids)) == 1
    assert ids[0] == signing.key_id(signing.load_public_key(path))


def test_an_exported_public_key_verifies_signatures(tmp_path: Path) -> None:
    key = signing.load_or_create_signing_key(tmp_path / signing.KEY_FILE)
    exported = tmp_path / "audit-public.pem"
    exported.write_text(signing.public_key_pem(key))
    public = signing.load_public_key(exported)
    digest = "ab" * 32
    signature = signing.sign(key, digest)
    assert signing.signature_valid(public, digest, signature)
    assert not signing.signature_valid(public, "cd" * 32, signature)
    assert not signing.signature_valid(public, digest, "not base64!")
    assert not signing.signature_valid(Ed25519PrivateKey.generate().public_key(), digest, signature)
    assert len(signing.key_id(public)) == 64


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello", "is not a PEM public key"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "is not an unencrypted PEM private key"),
    ],
)
def test_files_that_are_not_keys_are_refused_clearly(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        signing.load_public_key(path)


def test_a_missing_public_key_file_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read key file .*nowhere.pem"):
        signing.load_public_key(tmp_path / "nowhere.pem")


def test_a_key_of_another_type_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / signing.KEY_FILE
    other = ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ConfigError, match="not an Ed25519 private key"):
        signing.load_or_create_signing_key(path)
    public = tmp_path / "public.pem"
    public.write_bytes(other.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(ConfigError, match="not an Ed25519 public key"):
        signing.load_public_key(public)
