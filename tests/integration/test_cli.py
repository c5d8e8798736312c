"""The `timberyard` command line against a real running server (and a data directory it owns)."""

from __future__ import annotations

import collections
import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import timberyard
from servers import TIMBERYARD, Server, free_port, run_cli

APACHE_LOG = Path(__file__).resolve().parents[1] / "data" / "loghub-2k" / "Apache" / "Apache_2k.log"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def file_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def assert_clean_failure(result: subprocess.CompletedProcess[bytes], *needles: str) -> str:
    """Non-zero exit, a message on stderr that says what happened, and no traceback."""
    stderr = result.stderr.decode()
    assert result.returncode != 0, (result.returncode, stderr)
    assert "Traceback" not in stderr, stderr
    for needle in needles:
        assert needle in stderr, (needle, stderr)
    return stderr


def wait_for_host(server: Server, host: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    """The CLI's lines are acknowledged when it exits; the store has them shortly after."""
    deadline = time.monotonic() + timeout
    while True:
        exported = server.export(hosts=host)
        if len(exported) >= count or time.monotonic() > deadline:
            return exported
        time.sleep(0.1)


@pytest.fixture(scope="module")
def dead_url() -> Iterator[str]:
    """A loopback address where nothing listens: the port is bound but never listened on, so a
    connection is refused and no other process can take the port meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module", autouse=True)
def unreachable_ingest(tmp_path_factory: pytest.TempPathFactory, dead_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """`timberyard ingest` retries a refused connection with growing delays (about a minute in
    all) before it gives up. Started with the module so that wait overlaps the other tests."""
    source = tmp_path_factory.mktemp("unreachable") / "app.log"
    source.write_text("a line for nobody\n")
    process = subprocess.Popen(
        [*TIMBERYARD, "ingest", str(source), "--server", dead_url, "--key", "k" * 32, "--host", "h"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate()


# -- basics -------------------------------------------------------------------------------------


def test_version() -> None:
    result = run_cli("--version")
    assert result.stdout.decode().strip() == f"timberyard, version {timberyard.__version__}"


def test_init_refuses_an_initialised_data_dir(server: Server) -> None:
    result = run_cli("init", "--data-dir", str(server.data_dir), "--json", check=False)
    assert_clean_failure(result, "already initialised")
    assert result.stdout == b""
    # Nothing was touched: the existing keys still work.
    assert server.ingest([{"line": "after a refused init"}], params={"hostname": unique("init")}).status_code == 200


def test_init_prints_the_secrets_once_and_a_second_init_repeats_none(tmp_path: Path) -> None:
    created = json.loads(run_cli("init", "--data-dir", str(tmp_path / "fresh"), "--json").stdout)
    assert {"account", "owner_email", "owner_password", "ingestion_key", "service_key"} <= set(created)
    assert created["ingestion_key"] != created["service_key"]
    again = run_cli("init", "--data-dir", str(tmp_path / "fresh"), check=False)
    stderr = assert_clean_failure(again, "already initialised")
    assert created["ingestion_key"] not in stderr + again.stdout.decode()


def test_serve_refuses_a_data_dir_owned_by_a_running_server(server: Server) -> None:
    assert server.process is not None
    result = run_cli("serve", "--data-dir", str(server.data_dir), "--http", f"127.0.0.1:{free_port()}", check=False)
    assert_clean_failure(result, f"pid {server.process.pid}", str(server.data_dir))
    assert httpx.get(server.url + "/readyz", timeout=10).status_code == 200  # the owner is unharmed


# -- ingest -------------------------------------------------------------------------------------


def test_ingest_a_real_file(server: Server) -> None:
    expected = file_lines(APACHE_LOG)
    assert len(expected) > 1500
    host = unique("web-1")
    result = run_cli(
        "ingest", str(APACHE_LOG), "--app", "nginx", "--host", host, "--server", server.url, "--key", server.ingestion_key,
        "--batch-lines", "300", "--tags", "cli,apache", "--live",  # the file is from 2005: an import would keep none
    )
    assert f"sent {len(expected):,} lines" in result.stderr.decode()
    exported = wait_for_host(server, host, len(expected))
    assert collections.Counter(line["_line"] for line in exported) == collections.Counter(expected)
    assert {line["_app"] for line in exported} == {"nginx"}
    assert {tuple(line["_tag"]) for line in exported} == {("cli", "apache")}
    # Levels come from each line ("[error]", "[notice]"); the export filter agrees with the file.
    errors = server.export(hosts=host, levels="error")
    assert len(errors) == sum("[error]" in line for line in expected)
    assert len(server.export(hosts=host, levels="notice")) == sum("[notice]" in line for line in expected)


def test_an_imported_file_keeps_each_lines_time_and_says_what_it_did_not_keep(server: Server, tmp_path: Path) -> None:
    now = time.time()
    stamps = [time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - days * 86400)) for days in (3, 2, 400)]
    log = tmp_path / "app.log"
    log.write_text("".join(f"{stamp},123 INFO [main] App: event {n}\n" for n, stamp in enumerate(stamps)))
    host = unique("import")
    result = run_cli("ingest", str(log), "--host", host, "--server", server.url, "--key", server.ingestion_key)
    assert "1 lines are older than the account's retention" in result.stderr.decode()
    exported = wait_for_host(server, host, 2)
    assert [line["_ts"] for line in exported] == [int(now - days * 86400) * 1000 + 123 for days in (3, 2)]


def test_ingest_from_stdin(server: Server) -> None:
    lines = [f"stdin line {n} ünïcode ✓" for n in range(1200)]
    data = ("\n".join(lines) + "\n").encode()
    for args in (["-"], []):  # '-' and no FILES both read stdin
        host = unique("stdin")
        run_cli("ingest", *args, "--app", "piped", "--host", host, "--server", server.url, "--key", server.ingestion_key, input=data)
        exported = wait_for_host(server, host, len(lines))
        assert sorted(line["_line"] for line in exported) == sorted(lines)
        assert {line["_app"] for line in exported} == {"piped"}


def test_ingest_with_env_vars_instead_of_flags(server: Server, tmp_path: Path) -> None:
    source = tmp_path / "worker.log"
    lines = [f"2026-11-28 WARN env var line {n}" for n in range(50)]
    source.write_text("\n".join(lines) + "\n")
    host = unique("env")
    env = {"TIMBERYARD_URL": server.url, "TIMBERYARD_INGESTION_KEY": server.ingestion_key}
    run_cli("ingest", str(source), "--host", host, env=env)
    exported = wait_for_host(server, host, len(lines))
    assert sorted(line["_line"] for line in exported) == sorted(lines)
    assert {line["_app"] for line in exported} == {"worker.log"}  # the file's name by default
    assert {line["level"] for line in exported} == {"WARN"}


def test_ingest_without_a_key_says_so(server: Server, tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_text("x\n")
    env = {"TIMBERYARD_INGESTION_KEY": ""} if "TIMBERYARD_INGESTION_KEY" in os.environ else None
    result = run_cli("ingest", str(source), "--server", server.url, env=env, check=False)
    assert_clean_failure(result, "--key")


def test_ingest_of_a_missing_file_is_a_clear_error(server: Server, tmp_path: Path) -> None:
    missing = tmp_path / "no-such.log"
    result = run_cli("ingest", str(missing), "--server", server.url, "--key", server.ingestion_key, "--host", "h", check=False)
    assert_clean_failure(result, "no-such.log")


def test_keys_command_to_a_server_that_is_not_running(dead_url: str) -> None:
    result = run_cli("keys", "list", "--server", dead_url, "--key", "k" * 32, check=False)
    assert_clean_failure(result, "cannot reach")


# -- keys ---------------------------------------------------------------------------------------


def test_keys_create_list_revoke_and_the_revoked_key_is_refused(server: Server, tmp_path: Path) -> None:
    admin = ["--server", server.url, "--key", server.service_key]
    created = json.loads(run_cli("keys", "create", "--type", "ingestion", "--name", "cli-made", *admin).stdout)
    assert created["type"] == "ingestion" and created["name"] == "cli-made" and created["key"]

    listed = json.loads(run_cli("keys", "list", "--json", *admin).stdout)
    mine = [k for k in listed if k["id"] == created["id"]]
    assert len(mine) == 1 and mine[0]["active"] and mine[0]["revoked_at"] is None
    assert all("key" not in k for k in listed), "the list must not reveal secrets"

    source = tmp_path / "k.log"
    source.write_text("with the new key\n")
    host = unique("newkey")
    run_cli("ingest", str(source), "--host", host, "--server", server.url, "--key", created["key"])
    assert [line["_line"] for line in wait_for_host(server, host, 1)] == ["with the new key"]

    revoked = run_cli("keys", "revoke", created["id"], *admin)
    assert f"revoked {created['id']}" in revoked.stdout.decode()
    listed = json.loads(run_cli("keys", "list", "--json", *admin).stdout)
    assert [k["active"] for k in listed if k["id"] == created["id"]] == [False]

    assert server.ingest([{"line": "refused"}], key=created["key"]).status_code == 403
    refused = run_cli("ingest", str(source), "--host", host, "--server", server.url, "--key", created["key"], check=False)
    assert_clean_failure(refused, "403")


def test_keys_list_table_shows_whole_ids_at_80_columns(server: Server) -> None:
    """The table is for people in a terminal; the id column is the handle `keys revoke` takes,
    so a standard 80-column terminal must show it whole."""
    admin = ["--server", server.url, "--key", server.service_key]
    ids = [k["id"] for k in json.loads(run_cli("keys", "list", "--json", *admin).stdout)]
    table = run_cli("keys", "list", *admin, env={"COLUMNS": "80"}).stdout.decode()
    for key_id in ids:
        assert key_id in table, table


def test_keys_revoke_of_an_unknown_id_fails_cleanly(server: Server) -> None:
    result = run_cli("keys", "revoke", "ffffffffffff", "--server", server.url, "--key", server.service_key, check=False)
    assert_clean_failure(result, "404")


def test_keys_need_an_admin_service_key(server: Server) -> None:
    admin = ["--server", server.url, "--key", server.service_key]
    readonly = json.loads(run_cli("keys", "create", "--type", "service", "--role", "readonly", *admin).stdout)
    assert readonly["role"] == "readonly"
    result = run_cli("keys", "list", "--server", server.url, "--key", readonly["key"], check=False)
    assert_clean_failure(result, "403", "admin")
    result = run_cli("keys", "create", "--type", "ingestion", "--server", server.url, "--key", server.ingestion_key, check=False)
    assert_clean_failure(result, "403")
    # A read-only service key still reads.
    assert httpx.get(server.url + "/v1/export", params={"from": 0, "to": 1, "size": 1}, auth=(readonly["key"], ""), timeout=10).status_code == 200


# -- last, so its wait overlaps everything above --------------------------------------------------


def test_ingest_to_a_server_that_is_not_running(unreachable_ingest: subprocess.Popen[bytes]) -> None:
    _, stderr = unreachable_ingest.communicate(timeout=180)
    result = subprocess.CompletedProcess(unreachable_ingest.args, unreachable_ingest.returncode, b"", stderr)
    assert_clean_failure(result, "cannot reach")


def test_cli_search_and_export(server: Server, tmp_path: Path) -> None:
    host = f"cli-search-{uuid.uuid4().hex[:8]}"
    before = server.metric("timberyard_store_lines_total")
    lines = [{"line": f"{'ERROR' if n % 3 == 0 else 'INFO'} cli search line {n}"} for n in range(30)]
    assert server.ingest(lines, params={"hostname": host}).status_code == 200
    server.wait_stored(before + 30)
    key = ["--server", server.url, "--key", server.service_key]
    found = run_cli("search", f"host:{host} error", "--raw", "--asc", "--limit", "5", *key).stdout.decode().splitlines()
    assert found == [f"ERROR cli search line {n}" for n in (0, 3, 6, 9, 12)]
    everything = run_cli("search", f"host:{host}", "--json", *key).stdout.decode().splitlines()
    assert len(everything) == 30 and json.loads(everything[0])["line"] == "INFO cli search line 29"  # newest first
    target = tmp_path / "out.jsonl"
    run_cli("export", f"host:{host}", "--from", "1h", "-o", str(target), *key)
    exported = [json.loads(line)["_line"] for line in target.read_text().splitlines()]
    assert exported == [line["line"] for line in lines]
    bad = run_cli("search", "(unbalanced", *key, check=False)
    assert bad.returncode != 0 and b"Traceback" not in bad.stderr
    assert bad.stderr.decode().startswith("Error: the server answered 400:")


def test_cli_search_shows_control_characters_instead_of_obeying_them(server: Server) -> None:
    """CR/LF, ANSI escapes and HTML in log content come back exactly through the API and
    --json/--raw, and escaped in the human-readable listing."""
    host = f"cli-escape-{uuid.uuid4().hex[:8]}"
    hostile = "\x1b[2J\x1b]0;pwned\x07<script>alert(1)</script>\rFAKE ok\nsecond"
    before = server.metric("timberyard_store_lines_total")
    assert server.ingest([{"line": hostile}], params={"hostname": host}).status_code == 200
    server.wait_stored(before + 1)
    key = ["--server", server.url, "--key", server.service_key]
    assert json.loads(run_cli("search", f"host:{host}", "--json", *key).stdout)["line"] == hostile
    shown = run_cli("search", f"host:{host}", *key).stdout.decode()
    assert "\x1b" not in shown and "\r" not in shown and "\x07" not in shown
    assert "\\x1b[2J\\x1b]0;pwned\\x07<script>alert(1)</script>\\rFAKE ok\n    second" in shown


def test_accounts_made_on_the_command_line_are_in_their_audit_trail(server: Server) -> None:
    """`init` and `accounts create` write to the metadata database directly; the audit trail
    still says who made the account (the OS user, as `cli:NAME`)."""
    made = json.loads(run_cli("accounts", "create", f"audited-{uuid.uuid4().hex[:6]}", "--data-dir", str(server.data_dir), "--json").stdout)
    for key, name in ((server.service_key, server.credentials["account_name"]), (made["service_key"], made["account_name"])):
        response = httpx.get(server.url + "/api/v1/audit", params={"q": "action:account.create", "from": 0}, auth=(key, ""), timeout=10)
        assert response.status_code == 200, response.text
        [entry] = response.json()["entries"]
        assert entry["target"] == f"account {name}" and entry["actor_name"].startswith("cli:")


# -- errors that teach ----------------------------------------------------------------------------


def test_a_missing_key_names_its_environment_variable(server: Server, tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_text("x\n")
    env = {name: "" for name in ("TIMBERYARD_SERVICE_KEY", "TIMBERYARD_INGESTION_KEY")}
    for args, variable, what in (
        (["search", "x"], "TIMBERYARD_SERVICE_KEY", "a service key"),
        (["keys", "list"], "TIMBERYARD_SERVICE_KEY", "an admin service key"),
        (["ingest", str(source)], "TIMBERYARD_INGESTION_KEY", "an ingestion key"),
    ):
        result = run_cli(*args, "--server", server.url, env=env, check=False)
        assert_clean_failure(result, "Missing option '--key'.", f"Give {what} with --key or the environment variable {variable}")


def test_an_ingestion_key_used_to_read_says_which_key_reads(server: Server) -> None:
    result = run_cli("search", "x", "--server", server.url, "--key", server.ingestion_key, check=False)
    assert_clean_failure(result, "403", "this is an ingestion key: it sends lines but cannot read them; read with a service key")


def test_an_empty_search_says_which_range_it_searched(server: Server) -> None:
    key = ["--server", server.url, "--key", server.service_key]
    result = run_cli("search", f"host:{unique('nobody')}", "--from", "2026-11-28T10:00:00Z", "--to", "2026-11-28T11:00:00Z", *key)
    assert result.stdout == b""  # a pipe gets nothing; the person reads why on stderr
    assert result.stderr.decode() == (
        "no lines between 2026-11-28T10:00:00.000Z and 2026-11-28T11:00:00.000Z; widen the range with --from/--to\n"
    )


def test_search_from_since_an_expression(server: Server) -> None:
    host = unique("since")
    before = server.metric("timberyard_store_lines_total")
    assert server.ingest([{"line": "within the last 15 minutes"}], params={"hostname": host}).status_code == 200
    server.wait_stored(before + 1)
    found = run_cli("search", f"host:{host}", "--from", "since 15m", "--raw", "--server", server.url, "--key", server.service_key)
    assert found.stdout.decode() == "within the last 15 minutes\n"


# -- tables and accounts ----------------------------------------------------------------------------


def test_keys_list_is_not_cut_in_a_pipe_and_shows_expiry(server: Server) -> None:
    """Piped (or in a file) the table is as wide as its content, whatever COLUMNS says; a rotated
    key shows when its grace period ends."""
    admin = ["--server", server.url, "--key", server.service_key]
    made = json.loads(run_cli("keys", "create", "--type", "ingestion", "--name", "a rather long name for a shipping key", *admin).stdout)
    rotated = json.loads(run_cli("keys", "rotate", made["id"], "--grace", "1h", *admin).stdout)
    listed = {k["id"]: k for k in json.loads(run_cli("keys", "list", "--json", *admin).stdout)}
    table = run_cli("keys", "list", *admin, env={"COLUMNS": "40"}).stdout.decode().splitlines()
    assert "expires" in table[1]
    [old] = [row for row in table if made["id"] in row]
    for value in (made["id"], "a rather long name for a shipping key", listed[made["id"]]["created_at"], rotated["old"]["expires_at"]):
        assert value in old, (value, old)
    assert "…" not in old.replace(listed[made["id"]]["prefix"] + "…", "")  # only the key's own prefix is abbreviated


def test_users_default_to_the_first_account_after_accounts_create(server: Server) -> None:
    data = ["--data-dir", str(server.data_dir)]
    other = f"second-{uuid.uuid4().hex[:6]}"
    run_cli("accounts", "create", other, *data, "--json")
    email = f"{unique('ann')}@example.org"
    added = run_cli("users", "add", email, "--role", "readonly", "--password-stdin", *data, input=b"correct horse battery staple 42\n")
    assert added.stderr.decode().startswith(f"account {server.credentials['account_name']} (the first of ")
    listed = json.loads(run_cli("users", "list", "--json", "--account", server.credentials["account_name"], *data).stdout)
    assert email in [user["email"] for user in listed]
    in_other = run_cli("users", "add", f"x-{email}", "--role", "readonly", "--password-stdin", *data, env={"TIMBERYARD_ACCOUNT": other},
                       input=b"correct horse battery staple 42\n")
    assert in_other.stderr == b""
    assert [user["email"] for user in json.loads(run_cli("users", "list", "--json", "--account", other, *data).stdout)] == [f"x-{email}"]
