"""`timberyard users ...` on a data directory, alone and beside a running server."""

from __future__ import annotations

import getpass
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servers import Server, run_cli, start_server

from timberyard.auth.audit import AuditTrail
from timberyard.meta.audit import AuditEntryInfo
from timberyard.meta.database import MetaDB

PASSWORD = "plum kettle orbit ladder"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    run_cli("init", "--data-dir", str(tmp_path), "--json")
    return tmp_path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("users-cli"))
    yield running
    running.stop()


def users(data_dir: Path, *args: str, password: str | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    stdin = None if password is None else f"{password}\n".encode()
    return run_cli("users", *args, "--data-dir", str(data_dir), input=stdin, check=check)


def listed(data_dir: Path) -> dict[str, dict[str, Any]]:
    return {u["email"]: u for u in json.loads(users(data_dir, "list", "--json").stdout)}


def failure(result: subprocess.CompletedProcess[bytes]) -> str:
    """Exit status 1 and one line on stderr saying what is wrong, no traceback."""
    stderr = result.stderr.decode().strip()
    assert result.returncode == 1, (result.returncode, stderr)
    assert "Traceback" not in stderr and len(stderr.splitlines()) == 1, stderr
    return stderr


def audit_entries(data_dir: Path, action: str) -> list[AuditEntryInfo]:
    with MetaDB.open(f"sqlite:///{data_dir / 'metadata.sqlite3'}") as meta:
        account = meta.list_accounts()[0].id
        return [e for e in AuditTrail(meta, None).entries(account, limit=1000) if e.action == action]


def test_add_reads_the_password_from_stdin_and_lists_the_user(data_dir: Path) -> None:
    result = users(data_dir, "add", "Ann@Example.com", "--role", "admin", "--password-stdin", password=PASSWORD)
    assert result.stdout.decode().strip() == "added ann@example.com as admin"
    found = listed(data_dir)
    assert found["ann@example.com"]["role"] == "admin" and found["ann@example.com"]["disabled"] is False
    assert found["owner@localhost"]["role"] == "owner"
    assert {u["account_name"] for u in found.values()} == {"default"}
    table = users(data_dir, "list").stdout.decode()
    assert "ann@example.com" in table and "admin" in table
    [entry] = audit_entries(data_dir, "user.create")
    assert (entry.actor_type, entry.actor_name) == ("system", f"cli:{getpass.getuser()}")
    assert entry.details == {"email": "ann@example.com", "role": "admin"}


def test_add_asks_for_the_password_twice(data_dir: Path) -> None:
    result = run_cli("users", "add", "bob@example.com", "--role", "member", "--data-dir", str(data_dir),
                     input=f"{PASSWORD}\n{PASSWORD}\n".encode())
    assert PASSWORD not in result.stdout.decode()
    assert listed(data_dir)["bob@example.com"]["role"] == "member"
    mismatch = run_cli("users", "add", "cy@example.com", "--role", "member", "--data-dir", str(data_dir),
                       input=f"{PASSWORD}\n{PASSWORD}x\n".encode(), check=False)
    assert mismatch.returncode != 0 and "do not match" in (mismatch.stdout + mismatch.stderr).decode()
    assert "cy@example.com" not in listed(data_dir)


def test_bad_additions_fail_with_one_clear_line(data_dir: Path) -> None:
    assert "at least 12 characters" in failure(users(data_dir, "add", "a@example.com", "--role", "member", "--password-stdin", password="short", check=False))
    assert "most common passwords" in failure(users(data_dir, "add", "a@example.com", "--role", "member", "--password-stdin", password="qwerty123456", check=False))
    assert "already has an owner" in failure(users(data_dir, "add", "b@example.com", "--role", "owner", "--password-stdin", password=PASSWORD, check=False))
    assert "already exists" in failure(users(data_dir, "add", "OWNER@localhost", "--role", "member", "--password-stdin", password=PASSWORD, check=False))
    assert "not an email" in failure(users(data_dir, "add", "nobody", "--role", "member", "--password-stdin", password=PASSWORD, check=False))
    assert "no account named 'nope'" in failure(users(data_dir, "add", "c@example.com", "--role", "member", "--account", "nope", "--password-stdin", password=PASSWORD, check=False))
    assert set(listed(data_dir)) == {"owner@localhost"}


def test_with_several_accounts_the_first_is_the_default_and_is_named(data_dir: Path) -> None:
    run_cli("accounts", "create", "second", "--data-dir", str(data_dir))
    added = users(data_dir, "add", "c@example.com", "--role", "member", "--password-stdin", password=PASSWORD)
    assert added.stderr.decode() == "account default (the first of 2; --account or TIMBERYARD_ACCOUNT names another: second)\n"
    assert listed(data_dir)["c@example.com"]["account_name"] == "default"
    assert "no account named 'third'" in failure(
        users(data_dir, "add", "e@example.com", "--role", "member", "--account", "third", "--password-stdin", password=PASSWORD, check=False)
    )
    users(data_dir, "add", "d@example.com", "--role", "owner", "--account", "second", "--password-stdin", password=PASSWORD)
    assert listed(data_dir)["d@example.com"] | {"role": "owner", "account_name": "second"} == listed(data_dir)["d@example.com"]


def test_set_role_changes_roles_and_transfers_ownership(data_dir: Path) -> None:
    users(data_dir, "add", "ann@example.com", "--role", "member", "--password-stdin", password=PASSWORD)
    assert users(data_dir, "set-role", "ann@example.com", "readonly").stdout.decode().strip() == "ann@example.com is readonly"
    assert "transfer ownership first" in failure(users(data_dir, "set-role", "owner@localhost", "member", check=False))
    assert "no user has the email" in failure(users(data_dir, "set-role", "zed@example.com", "member", check=False))
    users(data_dir, "set-role", "ann@example.com", "owner")
    roles = {email: u["role"] for email, u in listed(data_dir).items()}
    assert roles == {"owner@localhost": "admin", "ann@example.com": "owner"}
    assert [e.details for e in audit_entries(data_dir, "user.role")] == [{"email": "ann@example.com", "from": "member", "to": "readonly"}]
    assert [e.details for e in audit_entries(data_dir, "owner.transfer")] == [{"from": "owner@localhost", "to": "ann@example.com"}]


def test_disable_beside_a_running_server_ends_the_users_sessions_at_once(node: Server) -> None:
    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    users(node.data_dir, "add", email, "--role", "member", "--password-stdin", password=PASSWORD)
    with httpx.Client(base_url=node.url, timeout=30) as browser:
        assert browser.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
        assert browser.get("/api/v1/auth/me").status_code == 200
        assert users(node.data_dir, "disable", email).stdout.decode().strip() == f"{email} is disabled"
        ended = browser.get("/api/v1/auth/me")
        assert ended.status_code == 401 and ended.json()["code"] == "SessionEnded"
        refused = browser.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert refused.status_code == 401 and refused.json()["code"] == "LoginFailed"
        users(node.data_dir, "enable", email)
        assert browser.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).status_code == 200
    assert [e.details for e in audit_entries(node.data_dir, "user.disable")] == [{"email": email}]
