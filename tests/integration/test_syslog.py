"""Syslog listeners on a real node, driven by util-linux `logger` and by raw sockets: RFC 5424 and
3164 over UDP and TCP in both framings, a byte-at-a-time sender, oversized and garbage frames,
keys and default accounts, TLS with client certificates, a stalled TLS handshake, thousands of
idle connections, and the counters that say what happened. (Real rsyslog: test_syslog_rsyslog.py.)"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import resource
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from servers import OPERATOR, Server, free_port, run_cli

MAX_LINE_BYTES = 2048
FRAME_LIMIT = MAX_LINE_BYTES + 4096  # what a listener reads whole (ingest/syslog/decode.py)


# -- certificates --------------------------------------------------------------------------------


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    directory: Path
    _ca_key: Any
    _ca_cert: Any

    def client(self, name: str) -> tuple[Path, Path]:
        """A client certificate with common name `name`, signed by the CA."""
        return _issue(self.directory, name, self._ca_key, self._ca_cert, client=True)


def make_pki(directory: Path) -> Pki:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "timberyard test CA")])
    now = dt.datetime.now(dt.UTC)
    ca = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1)).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    ca_path = directory / "ca.crt"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert, cert_key = _issue(directory, "127.0.0.1", key, ca, client=False)
    return Pki(ca_path, cert, cert_key, directory, key, ca)


def _issue(directory: Path, name: str, ca_key: Any, ca: Any, *, client: bool) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
    )
    if not client:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(name))]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


# -- a node with every listener -------------------------------------------------------------------


@dataclass
class SyslogNode:
    server: Server
    ports: dict[str, int]
    accounts: dict[str, dict[str, str]]  # account name -> its keys from `accounts create --json`
    pki: Pki

    def search(self, query: str, account: str = "default", **params: Any) -> list[dict[str, Any]]:
        key = self.server.service_key if account == "default" else self.accounts[account]["service_key"]
        response = httpx.get(
            self.server.url + "/api/v1/search",
            params={"q": query, "from": "0", "to": str(int(time.time() * 1000) + 86_400_000), "limit": 1000, **params},
            auth=(key, ""),
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return list(response.json()["lines"])

    def wait_lines(self, query: str, count: int, account: str = "default", timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.search(query, account)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def metric(self, name: str, **labels: str) -> float:
        text = httpx.get(self.server.url + "/metrics", headers=OPERATOR, timeout=10).text
        wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
        for line in text.splitlines():
            if line.startswith(wanted + " "):
                return float(line.split()[-1])
        return 0.0


def start_syslog_node(directory: Path, pki: Pki, **env: str) -> SyslogNode:
    ports = {name: free_port() for name in ("udp", "tcp", "tls", "relp", "relp_tls")}
    server = Server(
        directory / "node",
        env={"TIMBERYARD_BATCH_MAX_WAIT_MS": "100", **env},
        serve_args=(
            "--syslog-udp", f"127.0.0.1:{ports['udp']}", "--syslog-tcp", f"127.0.0.1:{ports['tcp']}",
            "--syslog-tls", f"127.0.0.1:{ports['tls']}", "--relp", f"127.0.0.1:{ports['relp']}",
            "--relp-tls", f"127.0.0.1:{ports['relp_tls']}",
            "--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key),
        ),
        tls_ca=pki.ca,
    )
    server.init()
    accounts = {}
    for name in ("network", "certs"):
        created = run_cli("accounts", "create", name, "--data-dir", str(server.data_dir), "--json")
        accounts[name] = json.loads(created.stdout)
    server.start()
    return SyslogNode(server, ports, accounts, pki)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyslogNode]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    with trusting(pki.ca):
        running = start_syslog_node(
            tmp_path_factory.mktemp("syslog"),
            pki,
            TIMBERYARD_MAX_LINE_BYTES=str(MAX_LINE_BYTES),
            TIMBERYARD_SYSLOG_ACCOUNT="udp=default,tcp=default,tls=default",  # RELP has none: a key or nothing
            TIMBERYARD_SYSLOG_TLS_CLIENT_CA=str(pki.ca),
            TIMBERYARD_SYSLOG_TLS_CLIENT_ACCOUNTS="fw01.example.org=certs",
        )
        yield running
        running.server.stop()


@contextlib.contextmanager
def trusting(ca: Path) -> Iterator[None]:
    """The syslog TLS listener presents the node's certificate, so the node serves HTTPS: let
    httpx (and the helpers of servers.py) trust the test CA, as the README tells users to."""
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(ca)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = previous


def tag() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def send_tcp(port: int, data: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(data)


def counted(*messages: bytes) -> bytes:
    return b"".join(b"%d %s" % (len(message), message) for message in messages)


def logger(node: SyslogNode, *args: str) -> None:
    subprocess.run(["logger", "--server", "127.0.0.1", *args], check=True, timeout=30)


# -- logger ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transport", "framing", "protocol"),
    [("--tcp", "--octet-count", "--rfc5424"), ("--tcp", None, "--rfc5424"), ("--tcp", None, "--rfc3164"), ("--udp", None, "--rfc5424"), ("--udp", None, "--rfc3164")],
)
def test_util_linux_logger_over_tcp_and_udp(node: SyslogNode, transport: str, framing: str | None, protocol: str) -> None:
    app = tag()
    port = node.ports["tcp" if transport == "--tcp" else "udp"]
    extra = ["--msgid", "ORDER", "--sd-id", "order@32473", "--sd-param", 'id="81"'] if protocol == "--rfc5424" else []
    logger(node, "--port", str(port), transport, *([framing] if framing else []), protocol, "-p", "local3.err", "-t", app, *extra, "payment failed for order 81")
    (line,) = node.wait_lines(f"app:{app}", 1)
    assert line["line"] == "payment failed for order 81"
    assert line["level"] == "ERROR" and line["host"] == socket.gethostname()
    assert line["ingester"] == ("syslog-tcp" if transport == "--tcp" else "syslog-udp")
    assert line["fields"]["syslog"]["facility"] == "local3"
    if protocol == "--rfc5424":
        assert line["fields"]["syslog"]["msgid"] == "ORDER" and line["fields"]["id"] == 81


# -- what a sender may do ---------------------------------------------------------------------


@pytest.mark.parametrize("octet_counted", [True, False])
def test_a_byte_at_a_time_sender(node: SyslogNode, octet_counted: bool) -> None:
    app = tag()
    messages = [f"<14>1 2025-06-14T11:59:59Z byte-host {app} - - - slow message {index}".encode() for index in range(3)]
    data = counted(*messages) if octet_counted else b"".join(message + b"\n" for message in messages)
    with socket.create_connection(("127.0.0.1", node.ports["tcp"])) as client:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for index in range(len(data)):
            client.send(data[index : index + 1])
    found = node.wait_lines(f"app:{app}", 3)
    assert sorted(line["line"] for line in found) == [f"slow message {index}" for index in range(3)]


def test_oversized_messages_are_cut_marked_and_counted(node: SyslogNode) -> None:
    app = tag()
    before = node.metric("timberyard_syslog_truncated_total", ingester="syslog-tcp")
    huge = f"<14>1 2025-06-14T11:59:59Z big-host {app} - - - ".encode() + b"A" * 50_000
    send_tcp(node.ports["tcp"], counted(huge, f"<14>1 2025-06-14T11:59:59Z big-host {app} - - - after".encode()))
    send_tcp(node.ports["tcp"], f"<14>1 2025-06-14T11:59:59Z big-host {app} - - - ".encode() + b"B" * 50_000 + b"\n")
    found = {line["line"][:1]: line["line"] for line in node.wait_lines(f"app:{app}", 3)}
    assert found["a"] == "after"
    for letter in "AB":
        assert len(found[letter].encode()) <= MAX_LINE_BYTES
        assert found[letter].endswith(" bytes]") and "[timberyard: truncated " in found[letter]
    assert node.metric("timberyard_syslog_truncated_total", ingester="syslog-tcp") == before + 2


def test_garbage_in_an_octet_counted_stream_is_kept_and_counted(node: SyslogNode) -> None:
    app = tag()
    errors = node.metric("timberyard_syslog_framing_errors_total", ingester="syslog-tcp")
    unparsed = node.metric("timberyard_syslog_unparsed_total", ingester="syslog-tcp")
    first = f"<14>1 2025-06-14T11:59:59Z g-host {app} - - - before the garbage".encode()
    then = f"<14>1 2025-06-14T11:59:59Z g-host {app} - - - after the garbage".encode()
    send_tcp(node.ports["tcp"], counted(first) + f"GARBAGE {app} \x00\xff\xfe not a count\n".encode("latin-1") + counted(then))
    assert {line["line"] for line in node.wait_lines(f"app:{app}", 2)} == {"before the garbage", "after the garbage"}
    (garbage,) = node.wait_lines(f"GARBAGE {app}", 1)
    assert garbage["host"] == "127.0.0.1" and garbage["line"].startswith(f"GARBAGE {app}")
    assert node.metric("timberyard_syslog_framing_errors_total", ingester="syslog-tcp") == errors + 1
    assert node.metric("timberyard_syslog_unparsed_total", ingester="syslog-tcp") == unparsed + 1


# -- accounts --------------------------------------------------------------------------------


def sd_message(app: str, key: str, text: str, tags: str = "") -> bytes:
    extra = f' tags="{tags}"' if tags else ""
    return f'<14>1 2025-06-14T11:59:59Z key-host {app} - - [logdna@48950 key="{key}"{extra}] {text}'.encode()


def test_the_key_in_structured_data_chooses_the_account_and_a_wrong_key_is_refused(node: SyslogNode) -> None:
    app = tag()
    refused = node.metric("timberyard_syslog_refused_total", ingester="syslog-tcp", reason="wrong_key")
    network_key = node.accounts["network"]["ingestion_key"]
    send_tcp(node.ports["tcp"], counted(
        sd_message(app, network_key, "to the network account", tags="core,dc1"),
        sd_message(app, "not-a-key", "refused"),
        f"<14>1 2025-06-14T11:59:59Z key-host {app} - - - no key: the default account".encode(),
    ))
    (line,) = node.wait_lines(f"app:{app}", 1, account="network")
    assert line["line"] == "to the network account" and line["tags"] == ["core", "dc1"]
    assert "not-a-key" not in json.dumps(line) and network_key not in json.dumps(line)
    assert [line["line"] for line in node.wait_lines(f"app:{app}", 1)] == ["no key: the default account"]
    time.sleep(0.5)
    assert node.search(f"refused app:{app}") == [] and node.search(f"refused app:{app}", account="network") == []
    assert node.metric("timberyard_syslog_refused_total", ingester="syslog-tcp", reason="wrong_key") == refused + 1


def test_tls_client_certificates_map_to_accounts(node: SyslogNode) -> None:
    app = tag()
    mapped_cert, mapped_key = node.pki.client("fw01.example.org")
    other_cert, other_key = node.pki.client("laptop.example.org")
    for cert, key, text in ((mapped_cert, mapped_key, "from fw01"), (other_cert, other_key, "from a laptop"), (None, None, "no certificate")):
        context = ssl.create_default_context(cafile=str(node.pki.ca))
        if cert is not None:
            context.load_cert_chain(cert, key)
        with socket.create_connection(("127.0.0.1", node.ports["tls"])) as raw, context.wrap_socket(raw, server_hostname="127.0.0.1") as client:
            assert client.version() in ("TLSv1.2", "TLSv1.3")
            client.sendall(counted(f"<14>1 2025-06-14T11:59:59Z tls-host {app} - - - {text}".encode()))
    assert [line["line"] for line in node.wait_lines(f"app:{app}", 1, account="certs")] == ["from fw01"]
    assert sorted(line["line"] for line in node.wait_lines(f"app:{app}", 2)) == ["from a laptop", "no certificate"]
    assert all(line["ingester"] == "syslog-tls" for line in node.search(f"app:{app}"))


def test_a_certificate_from_another_ca_is_refused_at_the_handshake(node: SyslogNode, tmp_path: Path) -> None:
    stranger = make_pki(tmp_path)
    cert, key = stranger.client("fw01.example.org")
    context = ssl.create_default_context(cafile=str(node.pki.ca))
    context.load_cert_chain(cert, key)
    app = tag()
    answer = None
    try:
        with socket.create_connection(("127.0.0.1", node.ports["tls"])) as raw, context.wrap_socket(raw, server_hostname="127.0.0.1") as client:
            client.sendall(counted(f"<14>1 2025-06-14T11:59:59Z h {app} - - - from a stranger".encode()))
            client.settimeout(10)
            answer = client.recv(1)  # TLS 1.3 tells the client of the refusal on its first read
    except (ssl.SSLError, ConnectionError):
        pass
    assert answer in (None, b"")
    time.sleep(1)
    assert node.search(f"app:{app}") == [] and node.search(f"app:{app}", account="certs") == []


RELP_OFFER = b"relp_version=0\nrelp_software=test\ncommands=syslog"


def relp_session(client: socket.socket, message: bytes) -> bytes:
    """Open a RELP session, send one `syslog` frame, close, and return every answer."""
    client.sendall(b"1 open %d %s\n2 syslog %d %s\n3 close 0\n" % (len(RELP_OFFER), RELP_OFFER, len(message), message))
    answers = b""
    while not answers.endswith(b"3 rsp 0\n"):
        chunk = client.recv(4096)
        assert chunk, answers
        answers += chunk
    return answers


def test_relp_without_a_key_or_a_default_account_is_answered_and_refused(node: SyslogNode) -> None:
    refused = node.metric("timberyard_syslog_refused_total", ingester="relp", reason="no_account")
    with socket.create_connection(("127.0.0.1", node.ports["relp"])) as client:
        answers = relp_session(client, b"<14>1 2025-06-14T11:59:59Z relp-host app - - - nobody's")
    assert b"\n2 rsp 6 200 OK\n" in answers
    assert node.metric("timberyard_syslog_refused_total", ingester="relp", reason="no_account") == refused + 1


def test_relp_over_tls_acknowledges_and_maps_the_client_certificate(node: SyslogNode) -> None:
    app = tag()
    cert, key = node.pki.client("fw01.example.org")
    context = ssl.create_default_context(cafile=str(node.pki.ca))
    context.load_cert_chain(cert, key)
    message = f"<14>1 2025-06-14T11:59:59Z relp-host {app} - - - over RELP and TLS".encode()
    with socket.create_connection(("127.0.0.1", node.ports["relp_tls"])) as raw, context.wrap_socket(raw, server_hostname="127.0.0.1") as client:
        answers = relp_session(client, message)
    assert b"\n2 rsp 6 200 OK\n" in answers
    [line] = node.wait_lines(f"app:{app}", 1, account="certs")  # the certificate's account
    assert (line["line"], line["ingester"]) == ("over RELP and TLS", "relp-tls")


def test_relp_over_tls_refuses_a_plain_session(node: SyslogNode) -> None:
    with socket.create_connection(("127.0.0.1", node.ports["relp_tls"])) as client:
        client.sendall(b"1 open %d %s\n" % (len(RELP_OFFER), RELP_OFFER))
        client.settimeout(15)
        try:
            answer = client.recv(4096)
        except ConnectionError:
            answer = b""
    assert b"rsp" not in answer  # no RELP without the handshake: the node closes, or answers with a TLS alert


# -- peers that hold on ---------------------------------------------------------------------------


def test_a_stalled_tls_handshake_is_aborted_and_holds_nobody_up(node: SyslogNode) -> None:
    with socket.create_connection(("127.0.0.1", node.ports["tls"])) as stalled:
        stalled.sendall(b"\x16\x03\x01")  # the start of a ClientHello, and then nothing
        app = tag()
        send_tcp(node.ports["tcp"], counted(f"<14>1 2025-06-14T11:59:59Z h {app} - - - meanwhile".encode()))
        assert len(node.wait_lines(f"app:{app}", 1)) == 1
        stalled.settimeout(20)
        started = time.monotonic()
        assert stalled.recv(100) == b""  # closed by the node
        assert time.monotonic() - started < 15


def test_thousands_of_idle_connections(node: SyslogNode) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    process = psutil.Process(node.server.process.pid)  # type: ignore[union-attr]
    rss = process.memory_info().rss
    idle = []
    try:
        for _ in range(2000):
            idle.append(socket.create_connection(("127.0.0.1", node.ports["tcp"])))
        deadline = time.monotonic() + 20
        while node.metric("timberyard_syslog_open_connections") < 2000:
            assert time.monotonic() < deadline, node.metric("timberyard_syslog_open_connections")
            time.sleep(0.2)
        app = tag()
        send_tcp(node.ports["tcp"], counted(f"<14>1 2025-06-14T11:59:59Z h {app} - - - still served".encode()))
        assert len(node.wait_lines(f"app:{app}", 1)) == 1
        assert process.memory_info().rss - rss < 200 * 1024 * 1024
    finally:
        for connection in idle:
            connection.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# -- UDP -----------------------------------------------------------------------------------------


def test_udp_messages_are_stored_and_every_loss_is_counted(node: SyslogNode) -> None:
    app = tag()
    received = node.metric("timberyard_syslog_messages_total", ingester="syslog-udp")
    lost = node.metric("timberyard_syslog_udp_socket_drops") + node.metric("timberyard_syslog_dropped_total", ingester="syslog-udp", reason="queue_full")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        for index in range(2000):
            client.sendto(f"<14>Jun 14 11:59:59 udp-host {app}[{index}]: datagram {index}".encode(), ("127.0.0.1", node.ports["udp"]))
            if index % 100 == 0:
                time.sleep(0.005)
    deadline = time.monotonic() + 30
    while True:
        arrived = node.metric("timberyard_syslog_messages_total", ingester="syslog-udp") - received
        dropped = node.metric("timberyard_syslog_udp_socket_drops") + node.metric("timberyard_syslog_dropped_total", ingester="syslog-udp", reason="queue_full") - lost
        if arrived + dropped >= 2000 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert arrived + dropped == 2000  # every datagram is either stored or counted as lost
    node.server.wait_stored(0)
    assert len(node.server.export(query=f"app:{app}")) == arrived
