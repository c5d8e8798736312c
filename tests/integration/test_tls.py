"""HTTPS on a real node: TLS 1.2+ with a self-signed certificate, HSTS and security headers, no
plain HTTP on the TLS port, clear start-up errors for bad TLS files, and a trusted proxy's
X-Forwarded-Proto honoured only from the proxy's address."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import select
import signal
import socket
import ssl
import subprocess
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from servers import TIMBERYARD, Server, free_port, run_cli, start_server

HSTS = "max-age=31536000; includeSubDomains"


def self_signed(directory: Path, name: str = "node") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "timberyard test node")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    certs = tmp_path_factory.mktemp("certs")
    cert, key = self_signed(certs)
    server = Server(tmp_path_factory.mktemp("node"), serve_args=("--tls-cert", str(cert), "--tls-key", str(key)), tls_ca=cert)
    server.init()
    server.start()
    yield server
    server.stop()


def test_the_node_serves_https_with_hsts_and_security_headers(tls_server: Server) -> None:
    with httpx.Client(verify=tls_server.verify) as client:
        with client.stream("GET", tls_server.url + "/healthz") as response:
            tls_version = response.extensions["network_stream"].get_extra_info("ssl_object").version()
            response.read()
        api = client.get(tls_server.url + "/api/v1/keys", auth=(tls_server.service_key, ""))
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert tls_version in ("TLSv1.2", "TLSv1.3")
    assert response.headers["strict-transport-security"] == HSTS
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert api.status_code == 200 and api.headers["cache-control"] == "no-store"
    assert api.headers["strict-transport-security"] == HSTS


def test_plain_http_to_the_tls_port_gets_no_answer(tls_server: Server) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{tls_server.port}/healthz", timeout=5)


def handshake(port: int, newest: ssl.TLSVersion) -> str:
    """Connect with a client offering TLS versions up to `newest`; return the version agreed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # naming TLS 1.0/1.1 at all is deprecated
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = newest
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client really offer the old versions
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, context.wrap_socket(raw) as tls:
        return str(tls.version())


def test_a_client_that_only_speaks_tls_1_1_is_refused(tls_server: Server) -> None:
    assert handshake(tls_server.port, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"  # the same client, one version newer, gets in
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        newest = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError) as refused:
        handshake(tls_server.port, newest)
    assert "NO_PROTOCOLS_AVAILABLE" not in str(refused.value)  # refused by the server, not by this client


def test_the_server_certificate_is_the_configured_one(tls_server: Server) -> None:
    assert tls_server.tls_ca is not None
    served = ssl.get_server_certificate(("127.0.0.1", tls_server.port))
    assert x509.load_pem_x509_certificate(served.encode()) == x509.load_pem_x509_certificate(tls_server.tls_ca.read_bytes())


def serve_fails(data_dir: Path, *args: str) -> str:
    """Run `timberyard serve` expecting it to refuse to start; return its error output."""
    result = run_cli("serve", "--data-dir", str(data_dir), "--http", f"127.0.0.1:{free_port()}", *args, check=False)
    assert result.returncode == 1, result.stderr.decode()[-2000:]
    assert not (data_dir / "store").exists(), "the store was opened before the TLS settings were checked"
    return result.stderr.decode()


def test_bad_tls_settings_stop_the_start_with_a_clear_error(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    _, other_key = self_signed(tmp_path, "other")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    data_dir = tmp_path / "node"
    assert "tls_cert and tls_key go together" in serve_fails(data_dir, "--tls-cert", str(cert))
    assert f"cannot read tls_key {tmp_path / 'absent.key'}: No such file" in serve_fails(
        data_dir, "--tls-cert", str(cert), "--tls-key", str(tmp_path / "absent.key")
    )
    assert f"tls_cert {garbage} is not a PEM certificate" in serve_fails(data_dir, "--tls-cert", str(garbage), "--tls-key", str(key))
    assert f"tls_key {cert} is not a PEM private key" in serve_fails(data_dir, "--tls-cert", str(cert), "--tls-key", str(cert))
    assert f"tls_key {other_key} does not belong to tls_cert {cert}" in serve_fails(
        data_dir, "--tls-cert", str(cert), "--tls-key", str(other_key)
    )


def test_forwarded_proto_counts_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    server = start_server(tmp_path, TIMBERYARD_FORWARDED_ALLOW_IPS="127.0.0.1")
    try:
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.1")) as proxy:
            through_proxy = proxy.get(server.url + "/healthz", headers=forwarded)
            direct = proxy.get(server.url + "/healthz")
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as stranger:
            spoofed = stranger.get(server.url + "/healthz", headers=forwarded)
    finally:
        server.stop()
    assert through_proxy.headers["strict-transport-security"] == HSTS  # the proxy terminated TLS
    assert "strict-transport-security" not in direct.headers
    assert spoofed.status_code == 200 and "strict-transport-security" not in spoofed.headers


def test_a_bad_proxy_list_stops_the_start(tmp_path: Path) -> None:
    result = run_cli("serve", "--data-dir", str(tmp_path), "--http", f"127.0.0.1:{free_port()}", check=False,
                     env={"TIMBERYARD_FORWARDED_ALLOW_IPS": "10.0.0.1/8, proxy.example"})
    assert result.returncode == 1
    assert "forwarded_allow_ips: '10.0.0.1/8' is not an IP address or CIDR network" in result.stderr.decode()


# -- the CLI's client with a private certificate ---------------------------------------------------


def test_cli_trusts_a_private_certificate_with_cacert_or_skips_the_check_with_insecure(tls_server: Server) -> None:
    assert tls_server.tls_ca is not None
    key = ["--server", tls_server.url, "--key", tls_server.service_key]
    refused = run_cli("keys", "list", "--json", *key, check=False)
    stderr = refused.stderr.decode()
    assert refused.returncode == 1 and "Traceback" not in stderr, stderr
    assert f"cannot trust {tls_server.url}: its certificate did not verify" in stderr and "--cacert FILE" in stderr, stderr
    for trust, env in ((["--cacert", str(tls_server.tls_ca)], None), (["--insecure"], None), ([], {"TIMBERYARD_CACERT": str(tls_server.tls_ca)})):
        listed = json.loads(run_cli("keys", "list", "--json", *key, *trust, env=env).stdout)
        assert any(k["type"] == "service" for k in listed)
    both = run_cli("keys", "list", *key, "--cacert", str(tls_server.tls_ca), "--insecure", check=False)
    assert both.returncode == 2 and "--cacert and --insecure contradict each other" in both.stderr.decode()


def test_cli_tail_over_https_with_cacert(tls_server: Server) -> None:
    refused = run_cli("tail", "--server", tls_server.url, "--key", tls_server.service_key, check=False)
    assert refused.returncode == 1 and "cannot trust" in refused.stderr.decode() and "Traceback" not in refused.stderr.decode()
    host = f"tls-tail-{uuid.uuid4().hex[:6]}"
    tail = subprocess.Popen(
        [*TIMBERYARD, "tail", f"host:{host}", "--json", "--server", tls_server.url, "--key", tls_server.service_key, "--cacert", str(tls_server.tls_ca)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # sent until the tail, connecting at first, shows one
            with httpx.Client(verify=tls_server.verify) as client:
                client.post(tls_server.url + "/logs/ingest", params={"hostname": host}, auth=(tls_server.ingestion_key, ""),
                            json={"lines": [{"line": "over https"}]})
            if select.select([tail.stdout], [], [], 1)[0]:
                break
        assert tail.stdout is not None
        assert json.loads(tail.stdout.readline())["line"] == "over https"
    finally:
        tail.send_signal(signal.SIGINT)
        tail.communicate(timeout=30)
    assert tail.returncode == 0


@pytest.mark.parametrize("trust", ["--cacert", "--insecure"])
def test_ingest_follow_trusts_a_private_certificate_too(tls_server: Server, tmp_path: Path, trust: str) -> None:
    assert tls_server.tls_ca is not None
    marker = f"followtls{uuid.uuid4().hex[:12]}"
    path = tmp_path / "app.log"
    path.write_text(f"{marker} sent over TLS\n")
    args = [trust, str(tls_server.tls_ca)] if trust == "--cacert" else [trust]
    follower = subprocess.Popen(
        [*TIMBERYARD, "ingest", "--follow", str(path), "--server", tls_server.url, "--key", tls_server.ingestion_key, *args],
        stderr=subprocess.PIPE,
    )
    found: list[dict[str, object]] = []
    try:
        deadline = time.monotonic() + 30
        while not found and time.monotonic() < deadline and follower.poll() is None:
            answer = httpx.get(
                tls_server.url + "/api/v1/search", params={"q": marker, "from": "0", "to": "9999999999999"},
                auth=(tls_server.service_key, ""), verify=tls_server.verify, timeout=10,
            )
            assert answer.status_code == 200, answer.text
            found = answer.json()["lines"]
            time.sleep(0.2)
    finally:
        follower.terminate()
        _, stderr = follower.communicate(timeout=20)
    assert [line["line"] for line in found] == [f"{marker} sent over TLS"], stderr.decode()
