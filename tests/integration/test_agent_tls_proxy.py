"""The agent reaches an HTTPS node through an HTTP proxy (HTTPS_PROXY, a CONNECT tunnel) and
trusts the node's private certificate through `ca_file`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import select
import socket
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agents import Agent, arrived
from servers import Server


def private_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "timberyard private CA node")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "node.crt", directory / "node.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


class ConnectProxy(threading.Thread):
    """A minimal HTTP CONNECT proxy that records the tunnels it opened."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tunnels: list[str] = []

    def run(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.tunnel, args=(client,), daemon=True).start()

    def tunnel(self, client: socket.socket) -> None:
        with client:
            request = b""
            while b"\r\n\r\n" not in request:
                request += client.recv(4096)
            target = request.split()[1].decode()
            self.tunnels.append(target)
            host, port = target.rsplit(":", 1)
            with socket.create_connection((host, int(port))) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                while True:
                    ready, _, _ = select.select([client, upstream], [], [], 30)
                    if not ready:
                        return
                    for source in ready:
                        data = source.recv(65536)
                        if not data:
                            return
                        (upstream if source is client else client).sendall(data)

    def close(self) -> None:
        self.listener.close()


def test_https_through_a_proxy_with_a_private_ca(tmp_path: Path) -> None:
    cert, key = private_certificate(tmp_path)
    node = Server(tmp_path / "node", serve_args=("--tls-cert", str(cert), "--tls-key", str(key)), tls_ca=cert)
    node.init()
    node.start()
    proxy = ConnectProxy()
    proxy.start()
    path = tmp_path / "app.log"
    path.write_text("".join(f"proxied seq={n:09d}\n" for n in range(100)))
    agent = Agent(node, tmp_path / "agent", {"files": [str(path)], "lookback": "start", "ca_file": str(cert)},
                  env={"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}", "NO_PROXY": "", "no_proxy": ""}).start()
    try:
        assert len(arrived(node, "proxied", expect=100, timeout=20)) == 100, agent.output()
        assert proxy.tunnels and proxy.tunnels[0] == f"127.0.0.1:{node.port}"
    finally:
        agent.stop()
        proxy.close()
        node.stop()
