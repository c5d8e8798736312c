"""WAL encryption at rest: sealed frames round-trip, keep no plaintext on disk, refuse the wrong
key or no key, detect altered or moved frames, and still cut a torn tail after a crash."""

from __future__ import annotations

import base64
import os
import struct
import threading
import zlib
from pathlib import Path

import pytest

from timberyard.core.errors import ConfigError, Overloaded
from timberyard.store.wal import BATCH_START, FRAME, MAGIC, WalDamaged, WalRecord, WriteAheadLog
from timberyard.store import wal_crypto
from timberyard.store.wal_crypto import KEY_BYTES, SALT_BYTES, WalCipher, load_cipher

KEY = bytes(range(KEY_BYTES))
OTHER_KEY = bytes(reversed(range(KEY_BYTES)))
SECRET_LINE = b"patient=Jane Doe mrn=0012345 diagnosis=confidential"


class Sink:
    def __init__(self) -> None:
        self.records: list[WalRecord] = []
        self.lock = threading.Lock()

    def __call__(self, records: list[WalRecord]) -> None:
        with self.lock:
            self.records.extend(records)


def make_wal(path: Path, key: bytes | None = KEY, **kwargs: int) -> WriteAheadLog:
    options = {"segment_bytes": 1 << 20, "max_pending_bytes": 1 << 30, **kwargs}
    return WriteAheadLog(path, on_durable=Sink(), cipher=WalCipher(key) if key else None, **options)


def write(path: Path, batches: list[list[bytes]], key: bytes | None = KEY, **kwargs: int) -> None:
    """Open, append each batch as one group commit (one write and fsync), close."""
    wal = make_wal(path, key, **kwargs)
    wal.open()
    wal.start()
    for batch in batches:
        with wal._lock:  # the flusher waits for this lock to take the queue: the batch goes as one
            futures = [wal.submit(p) for p in batch]
        for future in futures:
            future.result(timeout=10)
    wal.close()


def replayed(path: Path, key: bytes | None = KEY) -> list[bytes]:
    return [bytes(r.payload) for r in make_wal(path, key).open()]


def frames(segment: Path) -> list[tuple[int, int]]:
    """(offset, size) of each frame in a segment."""
    data = segment.read_bytes()
    found, offset = [], 0
    while offset < len(data):
        length = FRAME.unpack_from(data, offset)[2]
        found.append((offset, FRAME.size + length))
        offset += FRAME.size + length
    return found


def fix_crc(data: bytearray, offset: int) -> None:
    """What an attacker who knows the format does: recompute the (unkeyed) checksum."""
    magic, seq, length, _ = FRAME.unpack_from(data, offset)
    body = bytes(data[offset + FRAME.size : offset + FRAME.size + length])
    FRAME.pack_into(data, offset, magic, seq, length, zlib.crc32(body, zlib.crc32(seq.to_bytes(8, "little"))))


def test_sealed_records_round_trip_and_no_plaintext_reaches_the_disk(tmp_path: Path) -> None:
    payloads = [SECRET_LINE + f" #{i}".encode() for i in range(50)]
    write(tmp_path, [payloads[:25], payloads[25:]])
    segment = next(tmp_path.glob("*.wal"))
    on_disk = segment.read_bytes()
    assert b"Jane Doe" not in on_disk and b"diagnosis" not in on_disk
    assert replayed(tmp_path) == payloads
    assert make_wal(tmp_path).open()[0].seq == 1


def test_the_same_payload_seals_differently_each_time(tmp_path: Path) -> None:
    write(tmp_path, [[SECRET_LINE, SECRET_LINE]])
    segment = next(tmp_path.glob("*.wal"))
    data = segment.read_bytes()
    (a, a_size), (b, b_size) = frames(segment)
    assert data[a + FRAME.size + 1 : a + a_size] != data[b + FRAME.size + 1 : b + b_size]  # fresh nonce per frame


def test_a_wrong_key_is_a_clear_start_up_error(tmp_path: Path) -> None:
    write(tmp_path, [[SECRET_LINE]])
    with pytest.raises(ConfigError, match="key does not decrypt segment .* start the node with the key the log was written with"):
        make_wal(tmp_path, OTHER_KEY).open()
    assert replayed(tmp_path) == [SECRET_LINE]  # the refused start changed nothing


def test_no_key_for_an_encrypted_log_is_a_clear_start_up_error(tmp_path: Path) -> None:
    write(tmp_path, [[SECRET_LINE]])
    with pytest.raises(ConfigError, match="encrypted and no key is configured.*TIMBERYARD_WAL_KEY"):
        make_wal(tmp_path, None).open()


def test_the_key_is_needed_only_while_the_store_lacks_records(tmp_path: Path) -> None:
    wal = make_wal(tmp_path)
    wal.open()
    wal.start()
    wal.submit(SECRET_LINE).result(timeout=10)
    wal.mark_committed(1)
    wal.close()
    # Encryption turned off after a clean drain: the committed sealed record is never read again.
    write(tmp_path, [[b"plain after"]], key=None)
    assert replayed(tmp_path, None) == [b"plain after"]


def test_a_plaintext_log_from_before_encryption_still_replays(tmp_path: Path) -> None:
    write(tmp_path, [[b"old one", b"old two"]], key=None)
    write(tmp_path, [[SECRET_LINE]])  # the node restarted with a key: old records replay, new ones are sealed
    assert replayed(tmp_path) == [b"old one", b"old two", SECRET_LINE]
    assert b"Jane Doe" not in next(tmp_path.glob("*.wal")).read_bytes()


def test_a_plaintext_record_after_sealed_ones_is_refused(tmp_path: Path) -> None:
    write(tmp_path, [[SECRET_LINE]])
    segment = next(tmp_path.glob("*.wal"))
    forged = b"injected line"
    with segment.open("ab") as handle:
        handle.write(FRAME.pack(MAGIC, 2, len(forged), zlib.crc32(forged, zlib.crc32((2).to_bytes(8, "little")))) + forged)
    with pytest.raises(WalDamaged, match="plaintext record \\(seq 2\\) after encrypted ones"):
        make_wal(tmp_path).open()


def test_an_altered_ciphertext_byte_with_a_fixed_checksum_fails_authentication(tmp_path: Path) -> None:
    write(tmp_path, [[b"one", b"two", b"three"]])
    segment = next(tmp_path.glob("*.wal"))
    data = bytearray(segment.read_bytes())
    offset, size = frames(segment)[1]
    data[offset + size - 1] ^= 0x01
    fix_crc(data, offset)
    segment.write_bytes(bytes(data))
    with pytest.raises(WalDamaged, match=f"record seq 2 at byte {offset} .* fails authentication"):
        make_wal(tmp_path).open()


def test_an_altered_byte_before_a_later_group_commit_is_refused_not_cut(tmp_path: Path) -> None:
    write(tmp_path, [[b"first"], [b"second"], [b"third"]])
    segment = next(tmp_path.glob("*.wal"))
    data = bytearray(segment.read_bytes())
    offset, size = frames(segment)[1]
    data[offset + size - 1] ^= 0x01  # checksum left wrong: looks like a torn write, but acknowledged data follows
    segment.write_bytes(bytes(data))
    with pytest.raises(WalDamaged, match=f"damaged at byte {offset}, before records of a later group commit"):
        make_wal(tmp_path).open()
    assert segment.read_bytes() == bytes(data)  # nothing was cut off


def test_damage_in_the_last_group_commit_is_a_torn_tail(tmp_path: Path) -> None:
    write(tmp_path, [[b"first"], [b"second", b"third"]])  # the last commit: "second" and "third" share an fsync
    segment = next(tmp_path.glob("*.wal"))
    data = bytearray(segment.read_bytes())
    (_, _), (offset, _), (third, _) = frames(segment)
    assert data[offset + FRAME.size] & BATCH_START and not data[third + FRAME.size] & BATCH_START
    data[offset + FRAME.size + 5] ^= 0x01  # power loss can persist a commit's pages in any order
    segment.write_bytes(bytes(data))
    assert replayed(tmp_path) == [b"first"]
    assert segment.stat().st_size == offset


def test_frames_swapped_into_other_places_fail_authentication(tmp_path: Path) -> None:
    write(tmp_path, [[b"aaaa"], [b"bbbb"], [b"cccc"]])
    segment = next(tmp_path.glob("*.wal"))
    data = segment.read_bytes()
    (a, a_size), (b, b_size), (c, c_size) = frames(segment)
    segment.write_bytes(data[a : a + a_size] + data[c : c + c_size] + data[b : b + b_size])
    with pytest.raises(WalDamaged, match="fails authentication: it was altered or moved"):
        make_wal(tmp_path).open()


def test_a_segment_copied_under_another_name_fails_authentication(tmp_path: Path) -> None:
    write(tmp_path, [[b"one"]], segment_bytes=10)
    write(tmp_path, [[b"two"]], segment_bytes=10)  # the second start rotates to a new segment
    first, second = sorted(tmp_path.glob("*.wal"))
    second.write_bytes(first.read_bytes())  # the same frame, same offset and seq, another segment
    with pytest.raises(WalDamaged, match=f"record seq 1 at byte 0 of wal segment {second} fails authentication"):
        make_wal(tmp_path).open()


def test_a_torn_tail_is_cut_and_later_appends_stay_readable(tmp_path: Path) -> None:
    write(tmp_path, [[b"first", b"second"]])
    segment = next(tmp_path.glob("*.wal"))
    intact = segment.stat().st_size
    with segment.open("ab") as handle:  # kill -9 in the middle of a write: a frame cut short
        handle.write(FRAME.pack(0x54595745, 3, 1000, 0) + os.urandom(40))
    assert replayed(tmp_path) == [b"first", b"second"]
    assert segment.stat().st_size == intact
    write(tmp_path, [[b"third"]])
    assert replayed(tmp_path) == [b"first", b"second", b"third"]


def test_debris_a_failed_write_could_not_remove_does_not_break_later_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import timberyard.store.wal as wal_module

    wal = make_wal(tmp_path)
    wal.open()
    wal.start()
    wal.submit(b"kept").result(timeout=10)

    def disk_full(fd: int, buffers: list[bytes]) -> None:
        os.write(fd, b"half a frame")
        raise OSError(28, "No space left on device")

    def cannot_truncate(fd: int, size: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(wal_module, "_write_all", disk_full)
    monkeypatch.setattr(os, "ftruncate", cannot_truncate)
    with pytest.raises(Overloaded):
        wal.submit(b"lost").result(timeout=10)
    monkeypatch.undo()
    wal.submit(b"after").result(timeout=10)  # goes to a fresh segment: offsets stay true
    wal.close()
    assert len(list(tmp_path.glob("*.wal"))) == 2
    assert replayed(tmp_path) == [b"kept", b"after"]


# -- keys ---------------------------------------------------------------------------------------


def cipher_opens(cipher: WalCipher | None, key: bytes) -> bool:
    place = WalCipher.place(1, 0, 1, 0)
    return cipher is not None and cipher.open(WalCipher(key).seal(b"x", place), place) == b"x"


@pytest.mark.parametrize(
    "content",
    [KEY, KEY.hex().encode() + b"\n", KEY.hex().upper().encode(), base64.b64encode(KEY) + b"\n", base64.urlsafe_b64encode(KEY)],
    ids=["raw", "hex", "HEX", "base64", "base64url"],
)
def test_a_key_file_may_hold_raw_hex_or_base64(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "wal.key"
    key_file.write_bytes(content)
    key_file.chmod(0o600)
    assert cipher_opens(load_cipher(str(key_file), None), KEY)


def test_the_environment_takes_hex_or_base64() -> None:
    assert cipher_opens(load_cipher("", KEY.hex()), KEY)
    assert cipher_opens(load_cipher("", base64.b64encode(KEY).decode()), KEY)
    assert load_cipher("", None) is None and load_cipher("", "") is None


@pytest.mark.parametrize("content", [b"", b"short", KEY + b"x", b"z" * 64, base64.b64encode(KEY[:16])])
def test_a_malformed_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    key_file = tmp_path / "wal.key"
    key_file.write_bytes(content)
    with pytest.raises(ConfigError, match=f"must hold exactly 32 raw bytes, 64 hexadecimal characters or base64 of 32 bytes; it holds {len(content)} bytes"):
        load_cipher(str(key_file), None)


def test_a_malformed_environment_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="TIMBERYARD_WAL_KEY must be 64 hexadecimal characters or base64"):
        load_cipher("", "correct horse battery staple")


def test_a_missing_key_file_and_two_keys_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read wal_encryption_key_file .*No such file"):
        load_cipher(str(tmp_path / "absent.key"), None)
    key_file = tmp_path / "wal.key"
    key_file.write_bytes(KEY)
    with pytest.raises(ConfigError, match="both wal_encryption_key_file and TIMBERYARD_WAL_KEY are set"):
        load_cipher(str(key_file), KEY.hex())


def test_sealed_frames_carry_the_place_they_were_written(tmp_path: Path) -> None:
    """The associated data is the frame's place: the same bytes do not open anywhere else."""
    cipher = WalCipher(KEY)
    sealed = cipher.seal(SECRET_LINE, WalCipher.place(1, 0, 1, 1))
    assert cipher.open(sealed, WalCipher.place(1, 0, 1, 1)) == SECRET_LINE
    for other in [(2, 0, 1, 1), (1, 24, 1, 1), (1, 0, 2, 1), (1, 0, 1, 0)]:
        assert cipher.open(sealed, WalCipher.place(*other)) is None
    assert struct.calcsize("<4sQQQB") == len(WalCipher.place(1, 0, 1, 1))


def test_frames_are_sealed_under_subkeys_that_are_renewed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Random nonces stay safe only for so many messages per key: the subkey changes every
    RENEW_AFTER frames and with every new cipher (every start), and old frames still open."""
    monkeypatch.setattr(wal_crypto, "RENEW_AFTER", 2)
    cipher = WalCipher(KEY)
    places = [WalCipher.place(1, n, n, 0) for n in range(3)]
    sealed = [cipher.seal(SECRET_LINE, place) for place in places]
    salts = [s[:SALT_BYTES] for s in sealed]
    assert salts[0] == salts[1] != salts[2]
    assert WalCipher(KEY).seal(SECRET_LINE, places[0])[:SALT_BYTES] not in salts
    reopened = WalCipher(KEY)
    assert [reopened.open(s, place) for s, place in zip(sealed, places, strict=True)] == [SECRET_LINE] * 3
    forged_salt = os.urandom(SALT_BYTES) + sealed[0][SALT_BYTES:]
    assert reopened.open(forged_salt, places[0]) is None
