"""Ingest rules against a real server: the API (CRUD, 400s that name the problem, permissions,
audit, trying on samples), and what rules do to real traffic: custom fields searchable, lines
excluded or kept for live tail only, and redacted values found nowhere on disk, even after a
restart (the write-ahead log is grepped; the store's compressed parts are read back through
search and export)."""

from __future__ import annotations

import json
import random
import string
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from integration.test_tail import SseReader, wait_for
from servers import Server, run_cli

API = "/api/v1/rules"


def call(server: Server, method: str, path: str, key: str | None = None, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, server.url + path, auth=(key or server.service_key, ""), timeout=30, **kwargs)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def new_account(server: Server) -> dict[str, str]:
    """An account of its own (rules apply account-wide): its admin service key and ingestion key."""
    created = run_cli("accounts", "create", f"rules-{uuid.uuid4().hex[:8]}", "--data-dir", str(server.data_dir), "--json")
    return json.loads(created.stdout)  # type: ignore[no-any-return]


def search(server: Server, key: str, query: str) -> list[dict[str, Any]]:
    found = call(server, "GET", "/api/v1/search", key, params={"q": query, "from": 0, "to": int(time.time() * 1000) + 60_000, "limit": 10_000})
    return ok(found)["lines"]  # type: ignore[no-any-return]


def wait_searchable(server: Server, key: str, query: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = search(server, key, query)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


# -- the API ---------------------------------------------------------------------------------------


def test_rules_are_created_listed_changed_moved_and_deleted(server: Server) -> None:
    account = new_account(server)
    key = account["service_key"]
    first = ok(call(server, "POST", API, key, json={"kind": "exclude", "name": "probes", "query": "kube-probe"}), 201)
    second = ok(call(server, "POST", API, key, json={"kind": "exclude", "name": "debug", "query": "level:debug", "preserve_for_tail": True}), 201)
    parse = ok(call(server, "POST", API, key, json={"kind": "parse", "name": "shop", "scope": "app:shop", "grok": "%{IP:client} %{NUMBER:status:int}"}), 201)
    assert (first["position"], second["position"], parse["position"]) == (1, 2, 1)
    assert parse["grok"] == "%{IP:client} %{NUMBER:status:int}" and parse["regex"] is None and parse["lines_total"] == 0
    listed = ok(call(server, "GET", API, key))["rules"]
    assert [(r["kind"], r["name"]) for r in listed] == [("parse", "shop"), ("exclude", "probes"), ("exclude", "debug")]
    assert ok(call(server, "GET", f"{API}/{second['id']}", key))["query"] == "level:debug"
    moved = ok(call(server, "PATCH", f"{API}/{second['id']}", key, json={"position": 1, "enabled": False}))
    assert (moved["position"], moved["enabled"]) == (1, False)
    assert ok(call(server, "GET", f"{API}/{first['id']}", key))["position"] == 2
    deleted = ok(call(server, "DELETE", f"{API}/{second['id']}", key))
    assert deleted["name"] == "debug"
    assert call(server, "GET", f"{API}/{second['id']}", key).status_code == 404
    assert ok(call(server, "GET", f"{API}/{first['id']}", key))["position"] == 1
    assert call(server, "POST", API, key, json={"kind": "exclude", "name": "probes", "query": "x"}).status_code == 409
    # another account cannot see, change or delete them
    for method in ("GET", "PATCH", "DELETE"):
        assert call(server, method, f"{API}/{first['id']}", json={} if method == "PATCH" else None).status_code == 404


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "parse", "name": "x", "regex": "(?P<a>x"}, "regex", "regex: a ( has no matching )"),
        ({"kind": "parse", "name": "x", "regex": "(?P<a>x)\\1"}, "regex", "backreference"),
        ({"kind": "parse", "name": "x", "regex": "(?P<a>(x+)+)(?=y)"}, "regex", "lookahead"),
        ({"kind": "parse", "name": "x", "regex": "(?P<a>\\p{L}{1000})"}, "regex", "too large"),
        ({"kind": "parse", "name": "x", "grok": "%{IPADDR:client}"}, "grok", "unknown grok pattern %{IPADDR}"),
        ({"kind": "parse", "name": "x", "grok": "%{INT:n:integer}"}, "grok", "unknown type 'integer'"),
        ({"kind": "redact", "name": "x", "detectors": ["passport"]}, "detectors", "unknown detector 'passport'"),
        ({"kind": "exclude", "name": "x", "query": ""}, "query", "an exclusion needs a query"),
        ({"kind": "exclude", "name": "x", "query": "x", "scope": "y"}, None, "unknown fields: scope"),
        ({"kind": "retain", "name": "x", "query": "level:debug", "days": 0}, "days", "days must be a whole number from 1"),
        ({"kind": "nope", "name": "x"}, "kind", "kind must be one of"),
    ],
)
def test_bad_rules_get_a_400_naming_the_problem(server: Server, body: dict[str, Any], field: str | None, message: str) -> None:
    response = call(server, "POST", API, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert message in error["error"] and error["code"] == "InvalidRule" and error.get("field") == field


def test_a_scope_that_does_not_parse_is_a_400_with_its_position(server: Server) -> None:
    response = call(server, "POST", API, json={"kind": "exclude", "name": "x", "query": "app:nginx (level:error"})
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "QuerySyntaxError" and error["field"] == "query" and isinstance(error["position"], int)


def test_only_admins_and_the_owner_manage_rules(server: Server) -> None:
    made = ok(call(server, "POST", API, json={"kind": "exclude", "name": f"perm-{uuid.uuid4().hex[:6]}", "query": "never-matches-xyz"}), 201)
    for role in ("readonly", "member"):
        key = ok(call(server, "POST", "/api/v1/keys", json={"type": "service", "role": role}), 201)["key"]
        for method, path, body in [
            ("GET", API, None), ("POST", API, {"kind": "exclude", "name": "x", "query": "x"}), ("GET", f"{API}/{made['id']}", None),
            ("PATCH", f"{API}/{made['id']}", {"enabled": False}), ("DELETE", f"{API}/{made['id']}", None),
            ("POST", f"{API}/test", {"kind": "exclude", "query": "x", "samples": ["x"]}), ("GET", f"{API}/catalog", None),
        ]:
            response = call(server, method, path, key, json=body)
            assert response.status_code == 403, (role, method, path, response.text)
            assert "rules.manage" in response.json()["error"]
    assert ok(call(server, "GET", f"{API}/{made['id']}"))["enabled"] is True
    ok(call(server, "DELETE", f"{API}/{made['id']}"))


def test_retention_rules_are_the_owners(server: Server) -> None:
    rule = {"kind": "retain", "name": f"noise-{uuid.uuid4().hex[:6]}", "query": "level:debug", "days": 3}
    refused = call(server, "POST", API, json=rule)  # the service key is an admin's
    assert refused.status_code == 403 and refused.json()["code"] == "PermissionDenied"
    assert refused.json()["permission"] == "retention.manage" and "owner" in refused.json()["error"]
    with httpx.Client(base_url=server.url, timeout=30) as owner:
        login = owner.post("/api/v1/auth/login", json={"email": server.credentials["owner_email"], "password": server.credentials["owner_password"]})
        owner.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        made = ok(owner.post(API, json={**rule, "samples": [{"line": "cache warm", "level": "debug"}, "order placed"]}), 201)
        assert [line["retention_days"] for line in made["test"]["results"]] == [3, None]
        assert call(server, "PATCH", f"{API}/{made['id']}", json={"days": 1}).status_code == 403
        assert call(server, "DELETE", f"{API}/{made['id']}").status_code == 403
        ok(call(server, "GET", f"{API}/{made['id']}"))  # admins still read every rule
        ok(owner.delete(f"{API}/{made['id']}"))


def test_changes_are_audited_with_the_definition_but_never_samples(server: Server) -> None:
    sample = f"sample-{uuid.uuid4().hex}"
    made = ok(call(server, "POST", API, json={"kind": "redact", "name": f"audit-{uuid.uuid4().hex[:6]}", "patterns": ["PID-[0-9]{6}"], "samples": [sample]}), 201)
    assert made["test"]["results"][0]["line"] == sample
    ok(call(server, "PATCH", f"{API}/{made['id']}", json={"marker": "[PID]", "samples": [sample]}))
    ok(call(server, "POST", f"{API}/test", json={"kind": "redact", "patterns": ["x"], "samples": [sample]}))
    ok(call(server, "DELETE", f"{API}/{made['id']}"))
    trail = ok(call(server, "GET", "/api/v1/audit", params={"q": f"target:\"rule {made['id']}\""}))["entries"]
    actions = {entry["action"]: entry for entry in trail}
    assert set(actions) == {"rule.create", "rule.update", "rule.delete"}
    assert actions["rule.create"]["details"]["patterns"] == ["PID-[0-9]{6}"]
    assert actions["rule.update"]["details"]["changed"] == ["marker"] and actions["rule.update"]["details"]["marker"] == "[PID]"
    assert actions["rule.update"]["details"]["before"]["marker"] == "[REDACTED]"
    everything = call(server, "GET", "/api/v1/audit", params={"from": 0}).text
    assert sample not in everything
    assert_nowhere_on_disk(server, [sample])


def test_trying_a_rule_on_samples(server: Server) -> None:
    answer = ok(call(server, "POST", f"{API}/test", json={
        "kind": "parse", "scope": "app:shop", "grok": "%{IP:client} %{WORD:method} %{NUMBER:status:int}",
        "samples": [{"line": "10.0.0.9 GET 503", "app": "shop"}, {"line": "10.0.0.9 GET 503", "app": "web"}, "garbage"],
    }))
    assert [r["matched"] for r in answer["results"]] == [True, False, False]
    assert answer["results"][0]["extracted"] == {"client": "10.0.0.9", "method": "GET", "status": 503}
    assert ok(call(server, "GET", f"{API}/catalog"))["presets"][0]["name"] == "hipaa"


# -- rules on real traffic -------------------------------------------------------------------------


def test_custom_parse_rule_fields_are_searchable(server: Server) -> None:
    account = new_account(server)
    key, ingestion = account["service_key"], account["ingestion_key"]
    ok(call(server, "POST", API, key, json={
        "kind": "parse", "name": "shop access", "scope": "app:shop",
        "grok": "^%{IP:client} %{WORD:method} %{URIPATH:path} %{NUMBER:status:int} %{NUMBER:ms:float}",
    }), 201)
    lines = [{"line": f"10.9.8.{n} GET /cart/{n} {500 if n % 2 else 200} {n}.5", "app": "shop"} for n in range(10)]
    lines.append({"line": "10.9.8.1 GET /cart/1 500 1.5", "app": "other"})  # outside the scope
    assert server.ingest(lines, key=ingestion).status_code == 200
    errors = wait_searchable(server, key, "status:>=500", 5)
    assert sorted(line["fields"]["client"] for line in errors) == [f"10.9.8.{n}" for n in (1, 3, 5, 7, 9)]
    assert {line["app"] for line in errors} == {"shop"}
    assert len(search(server, key, "_format:\"shop access\" ms:<3")) == 3  # 0.5, 1.5, 2.5


def test_exclusion_drops_lines_or_keeps_them_for_live_tail_only(server: Server) -> None:
    account = new_account(server)
    key, ingestion = account["service_key"], account["ingestion_key"]
    dropped = ok(call(server, "POST", API, key, json={"kind": "exclude", "name": "noise", "query": "app:noise"}), 201)
    kept = ok(call(server, "POST", API, key, json={"kind": "exclude", "name": "probes", "query": "app:probe", "preserve_for_tail": True}), 201)
    reader = SseReader(server, "", key=key)
    reader.start()
    try:
        assert reader.connected.wait(10)
        lines = [{"line": f"{app} line {n}", "app": app} for n in range(3) for app in ("noise", "probe", "real")]
        response = server.ingest(lines, key=ingestion)
        assert response.status_code == 200, response.text
        # A sentinel sent after: once it is here, any excluded line let through would be too.
        assert server.ingest([{"line": "sentinel line", "app": "real"}], key=ingestion).status_code == 200
        wait_for(lambda: "sentinel line" in reader.lines())
        assert sorted(reader.lines()) == sorted([f"{app} line {n}" for n in range(3) for app in ("probe", "real")] + ["sentinel line"])
    finally:
        reader.close()
    stored = wait_searchable(server, key, "sentinel", 1)  # stored in order: the lines before it are in
    assert sorted(line["line"] for line in search(server, key, "")) == [f"real line {n}" for n in range(3)] + ["sentinel line"]
    counts = {rule["id"]: (rule["lines_today"], rule["lines_total"]) for rule in ok(call(server, "GET", API, key))["rules"]}
    assert counts[dropped["id"]] == (3, 3) and counts[kept["id"]] == (3, 3)
    assert stored


def luhn_card(rng: random.Random) -> str:
    body = rng.choice("2345") + "".join(rng.choice(string.digits) for _ in range(14))
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def assert_nowhere_on_disk(server: Server, secrets: list[str]) -> None:
    """Not one byte sequence of `secrets` in any file under the data directory (write-ahead
    log, metadata database and its journal, the store's files, the server's own log)."""
    for path in Path(server.data_dir).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in content, f"{secret} found in {path}"


def test_redacted_values_are_nowhere_on_disk_even_after_a_restart(server: Server) -> None:
    account = new_account(server)
    key, ingestion = account["service_key"], account["ingestion_key"]
    ok(call(server, "POST", API, key, json={"kind": "redact", "name": "phi", "preset": "hipaa"}), 201)
    rng = random.Random()
    secrets: list[str] = []
    lines = []
    for n in range(20):
        ssn = f"{rng.randint(100, 899)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
        card = luhn_card(rng)
        email = f"{uuid.uuid4().hex[:10]}@{uuid.uuid4().hex[:6]}.example.org"
        spaced = " ".join(card[i : i + 4] for i in range(0, 16, 4))
        secrets += [ssn, card, spaced, email]
        lines += [
            {"line": f"visit {n}: patient ssn {ssn} paid with {spaced}, receipt to {email}", "app": "clinic"},
            {"line": json.dumps({"msg": "payment", "card": card, "contact": email, "ssn": ssn}), "app": "json"},
            {"line": f"event={n} ssn={ssn} email={email} card={card}", "app": "logfmt"},
            {"line": f"meta carries them {n}", "app": "meta", "meta": {"ssn": ssn, "card": int(card), "email": [email]},
             "label": {"owner": email}, "annotation": {"card": card}, "tags": [f"t-{ssn}"]},
        ]
    response = server.ingest(lines, key=ingestion)
    assert response.status_code == 200, response.text
    wait_searchable(server, key, "", len(lines))
    server.stop()
    server.start()
    found = search(server, key, "")
    assert len(found) == len(lines)
    exported = call(server, "GET", "/v1/export", key, params={"from": 0, "to": 9_999_999_999_999}).text
    listed = json.dumps(found)
    assert "[REDACTED]" in listed
    for secret in secrets:
        assert secret not in listed and secret not in exported
    assert_nowhere_on_disk(server, secrets)
    # Last: a search is audited with its query, so searching for a value writes it to disk.
    for secret in secrets[:8]:
        assert search(server, key, f'"{secret}"') == []
    counts = ok(call(server, "GET", API, key))["rules"][0]
    assert counts["lines_total"] == len(lines)


def test_the_cli_adds_lists_tests_updates_and_removes_rules(server: Server) -> None:
    account = new_account(server)
    env = {"TIMBERYARD_URL": server.url, "TIMBERYARD_SERVICE_KEY": account["service_key"], "COLUMNS": "200"}
    added = run_cli("rules", "add", "parse", "shop", "--scope", "app:shop", "--grok", "%{IP:client} %{NUMBER:bytes:int}",
                    "--sample", "10.0.0.1 512", "--sample", "nope", "--sample-app", "shop", env=env).stdout.decode()
    assert "added parse rule 'shop'" in added and "1 of 2 sample lines matched" in added
    assert '"client": "10.0.0.1"' in added and '"bytes": 512' in added
    run_cli("rules", "add", "redact", "phi", "--preset", "hipaa", "--marker", "[PHI]", env=env)
    listed = json.loads(run_cli("rules", "list", "--json", env=env).stdout)
    assert [(r["kind"], r["name"]) for r in listed] == [("parse", "shop"), ("redact", "phi")]
    table = run_cli("rules", "list", env=env).stdout.decode()
    assert "preset hipaa -> [PHI]" in table and "(where app:shop)" in table
    tested = run_cli("rules", "test", "redact", "--detector", "ssn", "--samples-file", "-", env=env,
                     input=b"ssn 123-45-6789\nnothing\n").stdout.decode()
    assert "ssn [REDACTED]" in tested and "1 of 2 sample lines matched" in tested
    retained = run_cli("rules", "test", "retain", "--query", "cache", "--days", "3", "--sample", "cache warm", "--sample", "other",
                       env=env).stdout.decode()
    assert "cache warm  (kept 3 days at most)" in retained and "1 of 2 sample lines matched" in retained
    refused = run_cli("rules", "add", "retain", "noise", "--query", "cache", "--days", "3", env=env, check=False)
    assert refused.returncode == 1 and "only the owner may change a retention rule" in refused.stderr.decode()
    shop = next(r for r in listed if r["name"] == "shop")
    assert "disabled" in run_cli("rules", "update", shop["id"], "--disable", env=env).stdout.decode()
    failed = run_cli("rules", "add", "parse", "bad", "--grok", "%{IPV:x}", env=env, check=False)
    assert failed.returncode == 1 and "unknown grok pattern %{IPV}" in failed.stderr.decode()
    assert "removed parse rule 'shop'" in run_cli("rules", "remove", shop["id"], env=env).stdout.decode()
    assert [r["name"] for r in json.loads(run_cli("rules", "list", "--json", env=env).stdout)] == ["phi"]
