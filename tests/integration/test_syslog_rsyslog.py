"""Real rsyslog (Debian's rsyslog, rsyslog-gnutls and rsyslog-relp, installed by scripts/test)
forwarding to a node: UDP, TCP with octet counting and an RFC 5424 template, TLS with a client
certificate, and RELP; then the node restarted, gracefully and with kill -9, while rsyslog sends
sequence-numbered messages over RELP, and every message counted. The same restart over plain
TCP is measured too: docs/syslog.md quotes what it loses."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from integration.test_syslog import SyslogNode, make_pki, start_syslog_node, trusting
from servers import free_port

pytestmark = pytest.mark.skipif(shutil.which("rsyslogd") is None, reason="rsyslog is installed by scripts/test")


class Rsyslog:
    """An rsyslogd of our own (foreground, its own config and work directory) that takes lines on
    a TCP port and forwards them with `action`."""

    def __init__(self, directory: Path, action: str, modules: str = "", globals: str = "") -> None:
        self.directory = directory
        self.port = free_port()
        self.config = directory / "rsyslog.conf"
        self.config.write_text(
            f'global(workDirectory="{directory}" {globals})\n'
            'module(load="imtcp")\n'
            f"{modules}\n"
            f'input(type="imtcp" port="{self.port}" address="127.0.0.1" ruleset="forward")\n'
            f'ruleset(name="forward") {{\n  {action}\n}}\n'
        )
        self.log = directory / "rsyslogd.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["rsyslogd", "-n", "-f", str(self.config), "-i", str(self.directory / "rsyslogd.pid")], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 20
        while True:
            assert self.process.poll() is None, self.log.read_text()
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.1)

    def send(self, lines: list[str], per_second: float | None = None) -> None:
        """Newline-framed lines into rsyslog's input, optionally at a steady pace."""
        with socket.create_connection(("127.0.0.1", self.port)) as client:
            if per_second is None:
                client.sendall("".join(line + "\n" for line in lines).encode())
                return
            started = time.monotonic()
            for index in range(0, len(lines), 100):
                client.sendall("".join(line + "\n" for line in lines[index : index + 100]).encode())
                time.sleep(max(0.0, started + (index + 100) / per_second - time.monotonic()))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyslogNode]:
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    with trusting(pki.ca):
        running = start_syslog_node(
            tmp_path_factory.mktemp("syslog"),
            pki,
            TIMBERYARD_SYSLOG_ACCOUNT="default",
            TIMBERYARD_SYSLOG_TLS_CLIENT_CA=str(pki.ca),
            TIMBERYARD_SYSLOG_TLS_CLIENT_ACCOUNTS="fw01.example.org=certs",
        )
        yield running
        if running.server.process is not None:
            running.server.stop()


@pytest.fixture
def rsyslog(tmp_path: Path) -> Iterator[Any]:
    started: list[Rsyslog] = []

    def start(action: str, **options: str) -> Rsyslog:
        instance = Rsyslog(tmp_path, action, **options)
        instance.start()
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()


def lines_from(app: str, count: int, start: int = 0) -> list[str]:
    return [f"<14>Jun 14 11:59:59 rs-host {app}[{index}]: message {index:06d}" for index in range(start, start + count)]


def export_all(node: SyslogNode, query: str, account: str = "default") -> list[dict[str, Any]]:
    key = node.server.service_key if account == "default" else node.accounts[account]["service_key"]
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"from": 0, "to": 9_999_999_999_999, "size": 10_000, "query": query}
    while True:
        response = httpx.get(node.server.url + "/v2/export", params=params, auth=(key, ""), timeout=60)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(page["lines"])
        if not page["pagination_id"]:
            return found
        params["pagination_id"] = page["pagination_id"]


def wait_count(
    node: SyslogNode, query: str, count: int, timeout: float = 60, account: str = "default", settled_s: float | None = None,
) -> list[dict[str, Any]]:
    """The lines `query` finds once there are `count`, or when `timeout` passes, or (with
    `settled_s`) when their number has not changed for that long: for a sender that may never
    deliver them all."""
    deadline = time.monotonic() + timeout
    last, changed = -1, time.monotonic()
    while True:
        node.server.wait_stored(0, timeout=timeout)
        found = export_all(node, query, account)
        now = time.monotonic()
        if len(found) != last:
            last, changed = len(found), now
        if len(found) >= count or now > deadline or (settled_s is not None and now - changed >= settled_s):
            return found
        time.sleep(0.5)


def numbers(found: list[dict[str, Any]]) -> Counter[int]:
    return Counter(int(line["_line"].rsplit(" ", 1)[1]) for line in found)


# -- each transport ------------------------------------------------------------------------------


def test_rsyslog_over_udp(node: SyslogNode, rsyslog: Any) -> None:
    app = f"u{uuid.uuid4().hex[:8]}"
    sender = rsyslog(f'action(type="omfwd" target="127.0.0.1" port="{node.ports["udp"]}" protocol="udp")')
    sender.send(lines_from(app, 200), per_second=2000)
    found = wait_count(node, f"app:{app}", 200)
    assert sorted(numbers(found)) == list(range(200))
    assert {(line["_host"], line["_app"], line["level"]) for line in found} == {("rs-host", app, "INFO")}


def test_rsyslog_over_tcp_with_octet_counting_and_rfc5424(node: SyslogNode, rsyslog: Any) -> None:
    app = f"t{uuid.uuid4().hex[:8]}"
    sender = rsyslog(
        f'action(type="omfwd" target="127.0.0.1" port="{node.ports["tcp"]}" protocol="tcp" '
        'tcp_framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")'
    )
    sender.send(lines_from(app, 500))
    found = wait_count(node, f"app:{app}", 500)
    assert sorted(numbers(found)) == list(range(500))
    assert found[0]["_host"] == "rs-host" and found[0]["syslog"]["facility"] == "user"
    assert {line["syslog"]["pid"] for line in found} == set(range(500))  # PROCID, from the tag's [pid]


def test_rsyslog_over_tls_with_a_client_certificate(node: SyslogNode, rsyslog: Any) -> None:
    app = f"s{uuid.uuid4().hex[:8]}"
    cert, key = node.pki.client("fw01.example.org")
    sender = rsyslog(
        f'action(type="omfwd" target="127.0.0.1" port="{node.ports["tls"]}" protocol="tcp" tcp_framing="octet-counted" '
        'template="RSYSLOG_SyslogProtocol23Format" StreamDriver="gtls" StreamDriverMode="1" StreamDriverAuthMode="x509/certvalid")',
        globals=f'DefaultNetstreamDriverCAFile="{node.pki.ca}" DefaultNetstreamDriverCertFile="{cert}" DefaultNetstreamDriverKeyFile="{key}"',
    )
    sender.send(lines_from(app, 300))
    found = wait_count(node, f"app:{app}", 300, account="certs")  # the certificate's account
    assert sorted(numbers(found)) == list(range(300))
    assert export_all(node, f"app:{app}") == []


def test_rsyslog_over_relp(node: SyslogNode, rsyslog: Any) -> None:
    app = f"r{uuid.uuid4().hex[:8]}"
    sender = rsyslog(
        f'action(type="omrelp" target="127.0.0.1" port="{node.ports["relp"]}" template="RSYSLOG_SyslogProtocol23Format")',
        modules='module(load="omrelp")',
    )
    sender.send(lines_from(app, 1000))
    found = wait_count(node, f"app:{app}", 1000)
    assert sorted(numbers(found)) == list(range(1000))
    assert {line["ingester"] for line in node.search(f"app:{app}")} == {"relp"}


def test_rsyslog_over_relp_with_tls_and_a_client_certificate(node: SyslogNode, rsyslog: Any) -> None:
    app = f"q{uuid.uuid4().hex[:8]}"
    cert, key = node.pki.client("fw01.example.org")
    sender = rsyslog(
        f'action(type="omrelp" target="127.0.0.1" port="{node.ports["relp_tls"]}" template="RSYSLOG_SyslogProtocol23Format" '
        f'tls="on" tls.caCert="{node.pki.ca}" tls.myCert="{cert}" tls.myPrivKey="{key}" tls.authMode="certvalid")',
        modules='module(load="omrelp")',
    )
    sender.send(lines_from(app, 1000))
    found = wait_count(node, f"app:{app}", 1000, account="certs")  # the certificate's account
    assert sorted(numbers(found)) == list(range(1000))
    assert export_all(node, f"app:{app}") == []
    assert {line["ingester"] for line in node.search(f"app:{app}", account="certs")} == {"relp-tls"}


# -- restarts -------------------------------------------------------------------------------------

RESTART_MESSAGES = 20_000
RESTART_RATE = 2_000  # per second: 10 s of sending, with two restarts in the middle


def send_through_restarts(node: SyslogNode, sender: Rsyslog, app: str) -> None:
    """Send RESTART_MESSAGES at RESTART_RATE while the node is restarted gracefully (SIGTERM) at
    about 3 s and killed (kill -9) at about 6 s, each time started again at once."""
    sending = threading.Thread(target=sender.send, args=(lines_from(app, RESTART_MESSAGES), RESTART_RATE))
    sending.start()
    try:
        time.sleep(3)
        assert node.server.stop() == 0
        node.server.start()
        time.sleep(3)
        node.server.kill()
        node.server.start()
    finally:
        sending.join()


def test_relp_loses_nothing_when_the_node_restarts_or_is_killed(node: SyslogNode, rsyslog: Any) -> None:
    app = f"k{uuid.uuid4().hex[:8]}"
    sender = rsyslog(
        f'action(type="omrelp" target="127.0.0.1" port="{node.ports["relp"]}" template="RSYSLOG_SyslogProtocol23Format" '
        'queue.type="LinkedList" queue.size="200000" action.resumeRetryCount="-1" action.resumeInterval="1")',
        modules='module(load="omrelp")',
    )
    send_through_restarts(node, sender, app)
    found = wait_count(node, f"app:{app}", RESTART_MESSAGES, timeout=180)
    received = numbers(found)
    lost = sorted(set(range(RESTART_MESSAGES)) - set(received))
    duplicates = sum(count - 1 for count in received.values())
    print(f"RELP through a graceful restart and a kill -9: {len(lost)} lost, {duplicates} duplicates of {RESTART_MESSAGES}")
    assert lost == []


def test_plain_tcp_across_the_same_restarts_is_measured(node: SyslogNode, rsyslog: Any) -> None:
    """Plain TCP cannot promise what RELP does: this measures what it loses (docs/syslog.md)."""
    app = f"p{uuid.uuid4().hex[:8]}"
    sender = rsyslog(
        f'action(type="omfwd" target="127.0.0.1" port="{node.ports["tcp"]}" protocol="tcp" tcp_framing="octet-counted" '
        'template="RSYSLOG_SyslogProtocol23Format" queue.type="LinkedList" queue.size="200000" '
        'action.resumeRetryCount="-1" action.resumeInterval="1")'
    )
    send_through_restarts(node, sender, app)
    # rsyslog retries a suspended action every second or two; 8 s without a new line is done.
    found = wait_count(node, f"app:{app}", RESTART_MESSAGES, timeout=60, settled_s=8)
    received = numbers(found)
    lost = RESTART_MESSAGES - len(received)
    print(f"TCP through a graceful restart and a kill -9: {lost} lost, {sum(received.values()) - len(received)} duplicates of {RESTART_MESSAGES}")
    assert lost < RESTART_MESSAGES // 4  # far from all: only what was in flight at each restart
