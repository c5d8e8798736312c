"""From framed syslog messages to the pipeline's batches (ingest.syslog.decode, accounts, tls,
drains): accounts LogDNA's way, the sender's address, cut messages, and the drains' mappings;
then through the pipeline's stages, as a listener's lines go."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from unit.ingest.conftest import MS, column, fields_of, run

from timberyard.core.errors import BadRequest, ConfigError, Forbidden
from timberyard.ingest.batch import LineBatch
from timberyard.ingest.stages import Context
from timberyard.ingest.syslog.accounts import (
    NO_ACCOUNT,
    WRONG_KEY,
    DefaultAccounts,
    KeyAccounts,
    parse_account_names,
)
from timberyard.ingest.syslog.decode import Decoded, Origin, Received, decode
from timberyard.ingest.syslog.drains import (
    CLOUD_FOUNDRY,
    HEROKU,
    DrainRequest,
    RecentFrames,
    decode_drain,
)
from timberyard.ingest.syslog.framing import Frames
from timberyard.ingest.syslog.tls import ClientCertificates, parse_rules
from timberyard.meta.info import AccountInfo

KEYS = {"KEY-A": "account-a", "KEY-B": "account-b"}


class Keys:
    """The node's key ring, reduced to what decoding asks of it; counts lookups."""

    def __init__(self) -> None:
        self.lookups = 0

    def resolver(self) -> Keys:
        return self

    def account(self, key: str) -> str | None:
        self.lookups += 1
        return KEYS.get(key)


def decode_one(messages: list[bytes], account: str | None = "default", peers: Any = "192.0.2.10", **frames: Any) -> Decoded:
    read = Received(Frames(messages, **frames), peers, Origin("syslog-tcp", account))
    return decode([read], Keys(), 1000, MS)[0]  # type: ignore[arg-type]


def keyed(key: str, text: str = "hello") -> bytes:
    return f'<13>1 2024-03-01T11:00:00Z web01 app - - [logdna@48950 key="{key}"] {text}'.encode()


def lines(batch: LineBatch) -> list[str]:
    return batch.column("line").to_pylist()


# -- accounts ---------------------------------------------------------------------------------


def test_a_key_in_the_message_wins_over_the_default_account() -> None:
    decoded = decode_one([keyed("KEY-A", "a"), b"<13>no key", keyed("KEY-B", "b")])
    assert {batch.account: lines(batch) for batch in decoded.batches} == {"account-a": ["a"], "default": ["no key"], "account-b": ["b"]}


def test_a_wrong_key_is_refused_never_stored_in_the_default_account() -> None:
    decoded = decode_one([keyed("NOT-A-KEY", "secret stuff"), b"<13>fine"])
    assert [(batch.account, lines(batch)) for batch in decoded.batches] == [("default", ["fine"])]
    assert decoded.refused == {WRONG_KEY: 1}


def test_without_a_key_or_a_default_account_messages_are_refused() -> None:
    decoded = decode_one([b"<13>one", keyed("KEY-A", "two"), b"three"], account=None)
    assert [(batch.account, lines(batch)) for batch in decoded.batches] == [("account-a", ["two"])]
    assert decoded.refused == {NO_ACCOUNT: 2}


def test_a_key_is_looked_up_once_per_batch() -> None:
    class KeyRing:
        calls = 0

        def authenticate(self, secret: str, kind: str) -> Any:
            KeyRing.calls += 1
            if secret != "KEY-A" or kind != "ingestion":
                raise Forbidden("Account not found or inactive")
            return SimpleNamespace(account_id="account-a")

    read = Received(Frames([keyed("KEY-A")] * 50 + [keyed("NOPE")] * 50), "192.0.2.10", Origin("relp", None))
    decoded = decode([read], KeyAccounts(KeyRing()), 1000, MS)[0]  # type: ignore[arg-type]
    assert KeyRing.calls == 2
    assert [(batch.account, len(batch)) for batch in decoded.batches] == [("account-a", 50)] and decoded.refused == {WRONG_KEY: 50}


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("", {}),
        ("network", {"udp": "network", "tcp": "network", "tls": "network", "relp": "network", "relp-tls": "network"}),
        ("udp=network, tls=servers", {"udp": "network", "tls": "servers"}),
    ],
)
def test_the_default_account_setting(value: str, names: dict[str, str]) -> None:
    assert parse_account_names(value) == names


@pytest.mark.parametrize("value", ["udp=", "http=x", "udp=a,network", "=x"])
def test_a_default_account_setting_that_cannot_be_read_says_how_to_write_it(value: str) -> None:
    with pytest.raises(ConfigError, match="TRANSPORT=ACCOUNT"):
        parse_account_names(value)


def test_a_default_account_that_does_not_exist_stops_the_node() -> None:
    accounts = [AccountInfo("id-1", "network", 30, dt.datetime.now(dt.UTC))]
    assert DefaultAccounts.parse("udp=network", accounts).of("udp") == "id-1"
    with pytest.raises(ConfigError, match="timberyard accounts create servers"):
        DefaultAccounts.parse("tls=servers", accounts)


# -- what the wire adds ----------------------------------------------------------------------


def test_the_senders_address_is_the_host_of_messages_naming_none_and_every_messages_ip() -> None:
    decoded = decode_one([b"<13>Jun 14 11:59:59 app: no host", b"<13>1 - web02 app - - - named", b"raw"], peers=["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    batch = decoded.batches[0]
    assert batch.column("host").to_pylist() == ["10.0.0.1", "web02", "10.0.0.3"]
    assert batch.column("ip").to_pylist() == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert decoded.unparsed == 1


def test_bytes_that_are_not_utf8_are_kept_escaped_and_their_neighbours_untouched() -> None:
    decoded = decode_one([b"<13>1 - web01 app - - - caf\xe9 latin-1", "<13>1 - web01 app - - - café".encode()])
    assert lines(decoded.batches[0]) == ["caf\\xe9 latin-1", "café"]


def test_a_message_cut_in_framing_is_marked_within_max_line_bytes() -> None:
    long = b"<13>1 2024-03-01T11:00:00Z web01 app - - - " + "é".encode() * 600  # 1,243 bytes, cut at 1,000
    decoded = decode_one([long[:1000], b"<13>short"], truncated={0: len(long)})
    line = lines(decoded.batches[0])[0]
    assert len(line.encode()) <= 1000 and line.endswith(" bytes]") and "[timberyard: truncated " in line
    removed = int(line.rsplit("truncated ", 1)[1].split()[0])
    assert len(line.encode()) - len(line[line.index(" [timberyard"):].encode()) + removed == len(long) - len(b"<13>1 2024-03-01T11:00:00Z web01 app - - - ")
    assert decoded.batches[0].problems.counts == {"truncated_lines": 1} and decoded.truncated == 1


def test_reads_decoded_together_come_apart_in_order() -> None:
    reads = [
        Received(Frames([b"<13>a1", b"<13>a2"]), "10.0.0.1", Origin("syslog-tcp", "default")),
        Received(Frames([]), "10.0.0.2", Origin("syslog-tcp", "default")),
        Received(Frames([keyed("KEY-A", "b1"), b"<13>b2"]), "10.0.0.3", Origin("syslog-tls", "tls-account")),
    ]
    first, empty, third = decode(reads, Keys(), 1000, MS)  # type: ignore[arg-type]
    assert [(b.account, b.ingester, lines(b)) for b in first.batches] == [("default", "syslog-tcp", ["a1", "a2"])]
    assert empty.batches == [] and empty.messages == 0
    assert [(b.account, b.ingester, lines(b)) for b in third.batches] == [("account-a", "syslog-tls", ["b1"]), ("tls-account", "syslog-tls", ["b2"])]


def test_syslog_lines_go_through_the_pipelines_stages(context: Callable[..., Context], account: str) -> None:
    """The message's own text is then parsed like any line: an nginx line sent through syslog
    has its request fields, the header's level and time stand, and the facility is a field."""
    message = b'<30>Mar  1 11:00:00 web01 nginx: 10.0.0.1 - - [01/Mar/2024:11:00:00 +0000] "GET /x HTTP/1.1" 503 12 "-" "curl/8"'
    batch = decode_one([message, b"<11>1 2024-03-01T11:30:00Z web01 app - - - {\"msg\": \"boom\", \"status\": 500}"], account=account).batches[0]
    record = run(batch, context())
    assert column(record, "app") == ["nginx", "app"] and column(record, "level") == ["INFO", "ERROR"]
    assert column(record, "format") == ["combined", "json"]
    fields = fields_of(record)
    assert fields[0]["status"] == 503 and fields[0]["syslog"] == {"facility": "daemon"}
    assert fields[1]["status"] == 500 and column(record, "ingester") == ["syslog-tcp", "syslog-tcp"]
    assert record.column("ts").cast(pa.int64()).to_pylist() == [MS - 3_600_000, MS - 1_800_000]


# -- TLS client certificates -------------------------------------------------------------------


def certificate(name: str, alternative: str | None = None) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
    )
    if alternative:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(alternative)]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


class Peer:
    """A TLS transport as asyncio gives it, presenting `der`."""

    def __init__(self, der: bytes | None) -> None:
        self.der = der

    def get_extra_info(self, name: str) -> Any:
        return self if name == "ssl_object" else None

    def getpeercert(self, binary_form: bool) -> bytes | None:
        return self.der


def test_client_certificates_map_to_accounts_by_name_wildcard_or_fingerprint() -> None:
    audit = certificate("audit-box")
    fingerprint = "sha256:" + ":".join(f"{b:02X}" for b in x509.load_der_x509_certificate(audit).fingerprint(hashes.SHA256()))
    rules = ClientCertificates.parse(
        f"fw01.example.org=network,*.dc1.example.org=servers,{fingerprint}=audit",
        {"network": "id-network", "servers": "id-servers", "audit": "id-audit"},
    )
    assert rules.account_of(Peer(certificate("fw01.example.org"))) == "id-network"  # type: ignore[arg-type]
    assert rules.account_of(Peer(certificate("x", alternative="web7.dc1.example.org"))) == "id-servers"  # type: ignore[arg-type]
    assert rules.account_of(Peer(audit)) == "id-audit"  # type: ignore[arg-type]
    assert rules.account_of(Peer(certificate("dc1.example.org"))) is None  # type: ignore[arg-type]
    assert rules.account_of(Peer(None)) is None  # type: ignore[arg-type]


def test_client_certificate_rules_that_cannot_be_read_or_name_no_account() -> None:
    with pytest.raises(ConfigError, match="PATTERN=ACCOUNT"):
        parse_rules("fw01.example.org")
    with pytest.raises(ConfigError, match="timberyard accounts create nope"):
        ClientCertificates.parse("fw01=nope", {})


# -- drains ---------------------------------------------------------------------------------


def logplex(*messages: bytes) -> bytes:
    return b"".join(b"%d %s" % (len(message), message) for message in messages)


HEROKU_BODY = logplex(
    b"<190>1 2024-03-01T11:00:00.123456+00:00 host app web.1 - level=error msg=\"payment failed\"",
    b"<158>1 2024-03-01T11:00:01+00:00 host heroku router - at=info method=GET path=\"/\" status=200",
)


def test_heroku_lines_are_the_apps_with_the_dyno_as_host() -> None:
    request = DrainRequest(HEROKU, "acct", "shop", "d.9173ea1f", 2)
    decoded = decode_drain(HEROKU_BODY, "203.0.113.1", request, Keys(), 1000, MS)  # type: ignore[arg-type]
    batch = decoded.batches[0]
    assert batch.column("host").to_pylist() == ["web.1", "router"] and batch.column("app").to_pylist() == ["shop", "shop"]
    assert batch.column("level").to_pylist() == ["", ""]  # Logplex's PRI says nothing; the text will
    assert [fields for _, fields in batch.meta] == [
        {"syslog.facility": "local7", "heroku.app": "shop", "heroku.source": "app", "heroku.dyno": "web.1"},
        {"syslog.facility": "local3", "heroku.app": "shop", "heroku.source": "heroku", "heroku.dyno": "router"},
    ]
    assert lines(batch) == ['level=error msg="payment failed"', 'at=info method=GET path="/" status=200']


def test_a_logplex_count_that_disagrees_with_the_body_is_refused() -> None:
    request = DrainRequest(HEROKU, "acct", "", "", 3)
    with pytest.raises(BadRequest, match="Logplex-Msg-Count says 3 messages but the body holds 2"):
        decode_drain(HEROKU_BODY, "203.0.113.1", request, Keys(), 1000, MS)  # type: ignore[arg-type]


def test_cloud_foundry_lines_take_the_apps_name_from_its_tags() -> None:
    body = (
        b'<14>1 2024-03-01T11:00:00.123456+00:00 org.dev.myapp 6f5e-guid [APP/PROC/WEB/0] - [tags@47450 app_name="myapp" space_name="dev"] hello\n'
        b"<11>1 2024-03-01T11:00:01.000000+00:00 org.dev.myapp 6f5e-guid [APP/PROC/WEB/0] -  no tags\n"
    )
    request = DrainRequest(CLOUD_FOUNDRY, "acct", "", "", None)
    batch = decode_drain(body, "203.0.113.1", request, Keys(), 1000, MS).batches[0]  # type: ignore[arg-type]
    assert batch.column("app").to_pylist() == ["myapp", "6f5e-guid"]
    assert batch.column("host").to_pylist() == ["org.dev.myapp", "org.dev.myapp"]
    assert batch.column("level").to_pylist() == ["INFO", "ERROR"] and lines(batch) == ["hello", "no tags"]


def test_recent_frames_forget_the_oldest() -> None:
    recent = RecentFrames(size=2)
    for frame in ("a", "b", "c"):
        recent.add(("acct", frame))
    assert ("acct", "a") not in recent and ("acct", "c") in recent and ("other", "c") not in recent
