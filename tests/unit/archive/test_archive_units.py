"""Archive building blocks on a real local directory: names (JSON and Parquet), settings, the
encryption envelope, the signed digest chain as `verify` checks it (modified, deleted, added
files, forged and broken chains), and reading a Parquet file back for restore."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from timberyard.archive import digest, envelope, layout, parquet
from timberyard.archive.config import SET, merged, public
from timberyard.archive.destination import open_destination
from timberyard.archive.localdir import LocalDirectory
from timberyard.archive.parquet import ParquetHourFile
from timberyard.archive.staging import ArchiveReadError
from timberyard.archive.verify import verify
from timberyard.auth.signing import sign
from timberyard.core.errors import BadRequest
from timberyard.core.outbound import OutboundPolicy, OutboundRefused

HOUR = 1_764_932_400_000  # 2025-12-05T11:00Z


def test_names_follow_mezmos_layout_and_parse_back() -> None:
    assert layout.data_key("acct1", HOUR, 0, False) == "year=2025/month=12/day=05/acct1.2025-12-05.1100.json.gz"
    assert layout.data_key("acct1", HOUR, 2, True) == "year=2025/month=12/day=05/acct1.2025-12-05.1100.2.json.gz.enc"
    assert layout.digest_key("acct1", HOUR, 1) == "digests/year=2025/month=12/day=05/acct1.2025-12-05.1100.1.digest.json"
    assert layout.parse_data_key(layout.data_key("acct1", HOUR, 2, True)) == layout.DataKey("acct1", HOUR, 2, True, "json")
    assert layout.parse_digest_key(layout.digest_key("acct1", HOUR, 0)) == ("acct1", HOUR, 0)
    assert layout.hour_of(HOUR + 3_599_999) == HOUR and layout.hour_of(HOUR + 3_600_000) == HOUR + 3_600_000
    assert layout.day_prefixes(HOUR, HOUR + 86_400_000) == ["year=2025/month=12/day=05/", "year=2025/month=12/day=06/"]


def test_parquet_names_share_the_hours_numbering_and_parse_back_with_their_format() -> None:
    assert layout.data_key("acct1", HOUR, 0, False, "parquet") == "year=2025/month=12/day=05/acct1.2025-12-05.1100.parquet"
    assert layout.data_key("acct1", HOUR, 3, True, "parquet") == "year=2025/month=12/day=05/acct1.2025-12-05.1100.3.parquet.enc"
    assert layout.parse_data_key("year=2025/month=12/day=05/acct1.2025-12-05.1100.parquet") == layout.DataKey("acct1", HOUR, 0, False, "parquet")
    assert layout.parse_data_key("year=2025/month=12/day=05/acct1.2025-12-05.1100.3.parquet.enc") == layout.DataKey("acct1", HOUR, 3, True, "parquet")
    for other in ("year=2025/month=12/day=05/acct1.2025-12-05.1100.parquet.gz", "year=2025/month=12/day=05/acct1.2025-12-05.1100.json",
                  "year=2025/month=12/day=05/acct1.2025-12-05.1100.enc.parquet"):
        assert layout.parse_data_key(other) is None


def test_envelope_round_trip_rotation_and_tamper_detection() -> None:
    old_id, old = envelope.new_key()
    new_id, new = envelope.new_key()
    plain = gzip.compress(b'{"_line": "patient admitted"}\n')
    sealed_old, sealed_new = envelope.seal(plain, old_id, old), envelope.seal(plain, new_id, new)
    keys = {old_id: old, new_id: new}
    assert sealed_old[:4] == envelope.MAGIC and b"patient" not in sealed_old
    assert envelope.open_sealed(sealed_old, keys) == plain == envelope.open_sealed(sealed_new, keys)
    flipped = bytearray(sealed_new)
    flipped[-20] ^= 1
    with pytest.raises(envelope.EnvelopeError, match="failed authentication"):
        envelope.open_sealed(bytes(flipped), keys)
    with pytest.raises(envelope.EnvelopeError, match="not among"):
        envelope.open_sealed(sealed_old, {new_id: new})
    with pytest.raises(envelope.EnvelopeError, match="bad magic"):
        envelope.open_sealed(plain, keys)


def test_settings_keep_credentials_and_never_show_them() -> None:
    _, first, _ = merged(None, {"destination": {"type": "s3", "bucket": "acme-logs", "secret_access_key": "hunter2-secret"}})
    _, second, _ = merged(first, {"destination": {"type": "s3", "bucket": "acme-logs", "secret_access_key": SET, "region": "eu-west-1"}})
    assert second["destination"]["secret_access_key"] == "hunter2-secret"
    assert "hunter2" not in str(public(second)) and public(second)["destination"]["secret_access_key"] == SET
    for body, field in [({"destination": {"type": "local", "path": "../etc"}}, "destination.path"),
                        ({"destination": {"type": "ftp"}}, "destination.type"), ({"format": "csv"}, "format"),
                        ({"format": None}, "format"),
                        ({"colour": 1}, "colour"), ({"destination": {"type": "s3", "bucket": "Bad_Bucket"}}, "destination.bucket")]:
        with pytest.raises(BadRequest) as raised:
            merged(None, body)
        assert raised.value.fields["field"] == field


def test_format_is_json_or_parquet_and_a_change_keeps_the_rest() -> None:
    _, first, _ = merged(None, {"destination": {"type": "local", "path": "acme"}, "encryption": True})
    assert first["format"] == "json"
    _, second, _ = merged(first, {"format": "parquet"})
    assert second == {**first, "format": "parquet"}
    with pytest.raises(BadRequest, match="\"json\".*\"parquet\"") as raised:
        merged(second, {"format": "Parquet"})
    assert raised.value.fields["field"] == "format"


def test_azure_settings_are_checked_and_keep_their_key_but_not_another_types() -> None:
    azure = {"type": "azure", "account_url": "https://acme.blob.core.windows.net", "container": "logs", "account_name": "acme",
             "account_key": "c2VjcmV0LWtleQ=="}
    _, first, _ = merged(None, {"destination": azure})
    _, second, _ = merged(first, {"destination": {**azure, "account_key": SET, "prefix": "tenant-a"}})
    assert second["destination"]["account_key"] == azure["account_key"] and second["destination"]["prefix"] == "tenant-a"
    assert public(second)["destination"]["account_key"] == SET
    _, moved, _ = merged(second, {"destination": {"type": "s3", "bucket": "acme-logs", "secret_access_key": SET}})
    assert "secret_access_key" not in moved["destination"] and "account_key" not in moved["destination"]
    for change, field in [({"container": "Logs_1"}, "destination.container"), ({"account_url": "acme"}, "destination.account_url"),
                          ({"account_name": "Acme-Corp"}, "destination.account_name"), ({"bucket": "x"}, "destination.bucket")]:
        with pytest.raises(BadRequest) as raised:
            merged(None, {"destination": {**azure, **change}})
        assert raised.value.fields["field"] == field


@pytest.mark.parametrize(("destination", "field"), [
    ({"type": "s3", "bucket": "logs", "endpoint_url": "http://127.0.0.1:9000"}, "destination.endpoint_url"),
    ({"type": "s3", "bucket": "logs", "endpoint_url": "http://169.254.169.254/latest"}, "destination.endpoint_url"),
    ({"type": "azure", "account_url": "http://[::ffff:10.0.0.7]:10000/acme", "container": "logs", "account_name": "acme"},
     "destination.account_url"),
])
def test_an_endpoint_inside_the_network_is_refused_unless_the_operator_allows_it(
    tmp_path: Path, destination: dict[str, str], field: str,
) -> None:
    with pytest.raises(OutboundRefused, match="alerts_outbound_allow") as refused:
        open_destination(destination, tmp_path, OutboundPolicy())
    assert refused.value.fields["field"] == field
    allowed = OutboundPolicy.parse("127.0.0.1,169.254.0.0/16,10.0.0.0/8")
    assert open_destination(destination, tmp_path, allowed).describe()  # built, not yet connected
    assert open_destination({"type": "local", "path": "acme"}, tmp_path, OutboundPolicy()).describe()


class Delivery:
    """Deliver files and digests into a real directory the way the exporter does."""

    def __init__(self, root: Path) -> None:
        self.dest = LocalDirectory(root)
        self.key = Ed25519PrivateKey.generate()
        self.link = digest.ChainLink()
        self.sequence = 0

    def deliver(self, hour: int, n: int, lines: list[bytes], at_ms: int, digest_n: int = 0) -> str:
        data = gzip.compress(b"\n".join(lines) + b"\n")
        key = layout.data_key("a1", hour, n, False)
        self.dest.put(key, data)
        self.sequence += 1
        files = [digest.DeliveredFile(key, digest.sha256(data), len(lines), len(data), hour)]
        body, signature = digest.build(self.key, "a1", self.sequence, at_ms, 0, 1, files, self.link)
        dkey = layout.digest_key("a1", layout.hour_of(at_ms), digest_n)
        self.dest.put(dkey, body)
        self.link = digest.ChainLink(dkey, digest.sha256(body), signature)
        return key


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Delivery, list[str]]:
    delivery = Delivery(tmp_path)
    keys = [delivery.deliver(HOUR + h * 3_600_000, 0, [b'{"_line": "x%d"}' % h], HOUR + (h + 1) * 3_600_000 + 60_000) for h in range(3)]
    keys.append(delivery.deliver(HOUR, 1, [b'{"_line": "late"}'], HOUR + 4 * 3_600_000, digest_n=1))
    return delivery, keys


def _check(delivery: Delivery) -> list[str]:
    report = verify(delivery.dest, "a1", HOUR, HOUR + 6 * 3_600_000, [delivery.key.public_key()])
    assert report.digests == 4 and report.files >= 3
    return report.problems


def test_an_intact_archive_verifies_and_silent_hours_are_named(archive: tuple[Delivery, list[str]]) -> None:
    delivery, _ = archive
    report = verify(delivery.dest, "a1", HOUR, HOUR + 6 * 3_600_000, [delivery.key.public_key()])
    assert report.ok, report.problems
    assert report.notes and "2025-12-05T11:00Z" in report.notes[0] and "2025-12-05T16:00Z" in report.notes[0]


def test_modified_deleted_and_added_files_are_reported(archive: tuple[Delivery, list[str]]) -> None:
    delivery, keys = archive
    (delivery.dest.root / keys[0]).write_bytes(gzip.compress(b'{"_line": "edited"}\n'))
    (delivery.dest.root / keys[1]).unlink()
    added = layout.data_key("a1", HOUR + 2 * 3_600_000, 5, False)
    delivery.dest.put(added, gzip.compress(b'{"_line": "planted"}\n'))
    problems = _check(delivery)
    assert any(p.startswith("modified: " + keys[0]) for p in problems), problems
    assert any(p.startswith("deleted: " + keys[1]) for p in problems), problems
    assert any(p.startswith("added: " + added) for p in problems), problems


def test_a_forged_digest_and_a_deleted_digest_are_reported(archive: tuple[Delivery, list[str]]) -> None:
    delivery, keys = archive
    forger = Ed25519PrivateKey.generate()
    # The attacker rewrites the first file and re-signs its digest with their own key, claiming the node's key id.
    first_digest = layout.digest_key("a1", HOUR + 3_600_000, 0)
    body, _ = digest.read(delivery.dest.get(first_digest))
    forged_data = gzip.compress(b'{"_line": "rewritten"}\n')
    delivery.dest.put(keys[0], forged_data)
    body["files"][0]["sha256"] = digest.sha256(forged_data)
    forged = orjson.dumps({"digest": body, "signature": sign(forger, digest.body_hash(body))}, option=orjson.OPT_SORT_KEYS)
    delivery.dest.put(first_digest, forged)
    (delivery.dest.root / layout.digest_key("a1", HOUR + 3 * 3_600_000, 0)).unlink()
    problems = verify(delivery.dest, "a1", HOUR, HOUR + 6 * 3_600_000, [delivery.key.public_key()]).problems
    assert any(p.startswith("forged: digest " + first_digest) for p in problems), problems
    assert any("broken chain" in p and "missing" in p for p in problems), problems
    assert any("does not name" in p for p in problems), problems  # the forged digest's hash no longer matches its successor


def test_restore_reads_a_parquet_file_as_export_lines_and_refuses_anything_else(tmp_path: Path) -> None:
    file = ParquetHourFile()
    maps = pa.map_(pa.string(), pa.string())
    file.add(pa.table({
        "_ts": pa.array([HOUR + 1, HOUR + 2], pa.timestamp("ms", tz="UTC")), "_host": ["h", "h"], "_app": ["a", "a"],
        "_line": ["one", "two"], "level": ["INFO", "ERROR"], "_file": ["", ""], "_tag": [["t"], []], "_lid": ["7", "8"],
        "_ip": ["", ""], "_mac": ["", ""], "_env": ["prod", None], "_label": pa.array([[("k", "v")], []], maps),
        "_annotation": pa.array([[], []], maps), "_template": ["9", None], "_meta": ['{"n":{"m":1}}', None],
        "bucket": [HOUR, HOUR],  # columns beyond the schema (the page's own) are left out of the file
    }))
    path = tmp_path / "000000.parquet"
    path.write_bytes(file.finish())
    lines = list(parquet.read_lines(path, "key", 1))
    assert lines[0] == {"_ts": HOUR + 1, "_host": "h", "_app": "a", "_line": "one", "level": "INFO", "_file": "", "_tag": ["t"],
                        "_lid": "7", "_ip": "", "_mac": "", "_env": "prod", "_label": {"k": "v"}, "_annotation": {},
                        "_template": "9", "_meta": {"n": {"m": 1}}}
    assert lines[1]["_meta"] is None and "_env" not in lines[1] and lines[1]["_tag"] == []
    path.write_bytes(gzip.compress(b'{"_line": "not parquet"}\n'))
    with pytest.raises(ArchiveReadError, match="archived file key is unreadable"):
        list(parquet.read_lines(path, "key", 1))
