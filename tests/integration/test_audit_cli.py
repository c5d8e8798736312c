"""`timberyard audit` on the data directory of a real running server: verify, report and the
public key, read beside the server, and verify failing (exit 1, naming the place) on tampering."""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from servers import Server, run_cli
from timberyard.auth import signing
from timberyard.auth.audit import AuditEvent, AuditTrail
from timberyard.meta.audit import AuditEntryInfo
from timberyard.meta.database import MetaDB


@pytest.fixture(scope="module")
def meta(server: Server) -> Iterator[MetaDB]:
    """The server's metadata database, opened as a second process would (the CLI does)."""
    with MetaDB.open(f"sqlite:///{server.data_dir / 'metadata.sqlite3'}") as db:
        yield db


@pytest.fixture
def account(server: Server, meta: MetaDB) -> tuple[str, str, list[AuditEntryInfo]]:
    """A new account with 30 audited events over the last few hours, sealed with the server's
    own key: (name, id, entries)."""
    name = f"audit-{uuid.uuid4().hex[:8]}"
    # Made in-process, not with `accounts create` (which audits the creation at the current time):
    # the entries below are back-dated, and a chain's times never go backwards.
    account_id = meta.create_account_with_keys(name).to_json_dict()["account"]
    trail = AuditTrail(meta, signing.load_or_create_signing_key(server.data_dir / signing.KEY_FILE))
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    entries = [
        trail.record(AuditEvent(account_id, "search" if n % 3 else "export", actor_type="user", actor_name="alice@example.com",
                                query=f"app:web{n}", ip="10.0.0.7", at=start + timedelta(minutes=5 * n)))
        for n in range(30)
    ]  # fmt: skip
    trail.seal()
    return name, account_id, entries


def data_dir(server: Server) -> list[str]:
    return ["--data-dir", str(server.data_dir)]


def test_verify_passes_beside_the_running_server(server: Server, account: tuple[str, str, list[AuditEntryInfo]]) -> None:
    name, _, _ = account
    result = run_cli("audit", "verify", *data_dir(server), "--account", name)
    assert result.stdout.decode().splitlines()[-1] == "audit trail intact: 30 entries and 3 signed digests verified"
    everything = run_cli("audit", "verify", *data_dir(server), "--from", "1d")
    assert everything.stdout.decode().startswith(("audit trail intact", "note: "))
    assert server.process is not None and server.process.poll() is None


def test_verify_fails_naming_each_tampered_place(server: Server, account: tuple[str, str, list[AuditEntryInfo]]) -> None:
    name, account_id, entries = account
    with sqlite3.connect(server.data_dir / "metadata.sqlite3") as connection:
        connection.execute("UPDATE audit_entries SET query = 'nothing to see' WHERE id = ?", (entries[6].id,))
        connection.execute("DELETE FROM audit_entries WHERE id = ?", (entries[20].id,))
    result = run_cli("audit", "verify", *data_dir(server), "--account", name, check=False)
    assert result.returncode == 1
    lines = result.stdout.decode().splitlines()
    assert f"problem: account {account_id}: entry seq 7 (id {entries[6].id}): its hash does not match its contents (edited)" in lines
    assert f"problem: account {account_id}: entry seq 21 is missing between id {entries[19].id} and id {entries[21].id} (deleted)" in lines
    assert "audit trail FAILED verification" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    everything = run_cli("audit", "verify", *data_dir(server), check=False)  # every account: still caught
    assert everything.returncode == 1 and f"entry seq 7 (id {entries[6].id})" in everything.stdout.decode()


def test_an_auditor_verifies_with_only_the_public_key(server: Server, account: tuple[str, str, list[AuditEntryInfo]], tmp_path: Path) -> None:
    name, _, _ = account
    pem = run_cli("audit", "public-key", *data_dir(server)).stdout.decode()
    assert pem.startswith("-----BEGIN PUBLIC KEY-----") and "PRIVATE" not in pem
    exported = tmp_path / "audit-public.pem"
    exported.write_text(pem)
    assert run_cli("audit", "verify", *data_dir(server), "--account", name, "--public-key", str(exported)).returncode == 0
    stranger = tmp_path / "stranger.pem"
    stranger.write_text(signing.public_key_pem(Ed25519PrivateKey.generate()))
    result = run_cli("audit", "verify", *data_dir(server), "--account", name, "--public-key", str(stranger), check=False)
    assert result.returncode == 1
    assert result.stdout.decode().count("which is not a trusted key") == 3


def test_report_writes_html_and_csv(server: Server, account: tuple[str, str, list[AuditEntryInfo]], tmp_path: Path) -> None:
    name, account_id, _ = account
    page = tmp_path / "report.html"
    result = run_cli("audit", "report", *data_dir(server), "--account", name, "--from", "1d", "--format", "html", "-o", str(page))
    assert result.stderr.decode().strip() == f"wrote {page}"
    html = page.read_text()
    assert "<h1>Audit report</h1>" in html and f"<b>{account_id}</b>" in html
    assert "<td>alice@example.com</td><td>search</td><td>20</td>" in html
    assert "Verified: 30 entries and 3 signed digests intact." in html
    table = run_cli("audit", "report", *data_dir(server), "--account", name, "--from", "yesterday", "--to", "now", "--format", "csv")
    rows = table.stdout.decode().splitlines()
    assert rows[0] == "section,at,account,actor,action,outcome,target,query,ip,count,details"
    assert sum(row.startswith("export,") for row in rows) == 10


def test_bad_input_is_a_clear_error(server: Server, tmp_path: Path) -> None:
    unknown = run_cli("audit", "verify", *data_dir(server), "--account", "no-such-account", check=False)
    assert unknown.returncode == 1 and "no account named 'no-such-account'" in unknown.stderr.decode()
    bad_time = run_cli("audit", "report", *data_dir(server), "--from", "the day after never", check=False)
    assert bad_time.returncode == 1 and "Traceback" not in bad_time.stderr.decode()
    empty = run_cli("audit", "verify", "--data-dir", str(tmp_path / "nothing"), check=False)
    assert empty.returncode == 1 and "no metadata database at" in empty.stderr.decode()
    assert not (tmp_path / "nothing").exists()
    no_key = run_cli("audit", "public-key", "--data-dir", str(tmp_path), check=False)
    assert no_key.returncode == 1 and "no audit signing key at" in no_key.stderr.decode()


def test_the_server_seals_and_applies_retention_when_it_starts(tmp_path: Path) -> None:
    """Events recorded while no server ran (the CLI writes some): the node's first maintenance
    round signs their hours and deletes those past `audit_retention_days`, and all verifies."""
    node = Server(tmp_path / "node", env={"TIMBERYARD_AUDIT_RETENTION_DAYS": "1"})
    node.init()
    now = datetime.now(UTC)
    with MetaDB.open(f"sqlite:///{node.data_dir / 'metadata.sqlite3'}") as db:
        trail = AuditTrail(db, None)
        for at in (now - timedelta(days=3), now - timedelta(days=3, minutes=-5), now - timedelta(hours=3)):
            trail.record(AuditEvent("acct-offline", "key.create", actor_type="system", at=at))
    node.start()
    try:
        deadline = time.monotonic() + 30
        with MetaDB.open(f"sqlite:///{node.data_dir / 'metadata.sqlite3'}") as db:
            while (remaining := AuditTrail(db, None).entries("acct-offline"))[0].action != "audit.purge":
                assert time.monotonic() < deadline, "the server neither sealed nor purged the trail"
                time.sleep(0.2)
        assert [e.action for e in remaining] == ["audit.purge", "key.create"]
        assert remaining[0].details["entries_deleted"] == 2
        result = run_cli("audit", "verify", *data_dir(node))
        assert "signed digests verified" in result.stdout.decode() and " 0 signed digests" not in result.stdout.decode()
        assert signing.KEY_FILE in {p.name for p in node.data_dir.iterdir()}
        assert (node.data_dir / signing.KEY_FILE).stat().st_mode & 0o077 == 0
    finally:
        node.stop()
