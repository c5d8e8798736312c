"""GET /api/v1/insights/anomalies and the /api/v1/insights overview in-process through the ASGI
app: authentication and the read permission, parameter errors as JSON 400s, never another
account's anomalies, and an access scope that sees only anomalies whose lines are all inside it
(checked in a real embedded store)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from records import record

from timberyard.auth.access import AccessControl
from timberyard.auth.audit import AuditTrail
from timberyard.auth.keys import KeyRing
from timberyard.auth.sessions import SessionManager
from timberyard.auth.signing import load_or_create_signing_key
from timberyard.core.records import ID_COUNTER_BITS
from timberyard.meta import groups
from timberyard.meta.anomalies import NewAnomaly, add_anomalies
from timberyard.meta.database import MetaDB
from timberyard.store import schema
from timberyard.store.chdb import ChdbStore
from timberyard.web.access import SESSION_COOKIE
from timberyard.web.app import build_app

NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD = "plum kettle orbit ladder"


@pytest.fixture
def world(tmp_path: Path, chdb_store: ChdbStore) -> Iterator[SimpleNamespace]:
    """An app over a real metadata database and the shared embedded store, two accounts with
    anomalies, the first with stored lines behind them."""
    with MetaDB.open(f"sqlite:///{tmp_path / 'metadata.sqlite3'}") as db:
        sessions = SessionManager(db, idle_timeout_s=900, max_age_s=43_200)
        node = SimpleNamespace(
            meta=db, store=chdb_store, keyring=KeyRing(db), sessions=sessions, access=AccessControl(db, sessions),
            audit=AuditTrail(db, load_or_create_signing_key(tmp_path / "audit.key")), templates=None,
        )
        acme = db.create_account_with_keys(f"acme-{uuid.uuid4().hex[:8]}")
        other = db.create_account_with_keys(f"other-{uuid.uuid4().hex[:8]}")
        _store_lines(chdb_store, acme.account_id)
        detected = NOW - timedelta(minutes=5)
        found = [
            NewAnomaly(acme.account_id, "template_surge", "app=payments template=5", NOW - timedelta(minutes=9), 12.5, "surge"),
            NewAnomaly(acme.account_id, "volume_spike", "", NOW - timedelta(minutes=8), 7.0, "spike"),
            NewAnomaly(acme.account_id, "silence", "host=web-1", NOW - timedelta(minutes=7), 40.0, "silent"),
            NewAnomaly(acme.account_id, "new_template", 'app=we"b template=99', NOW - timedelta(minutes=6), 1.0, "new"),
        ]
        for offset, anomaly in enumerate(found):
            db.transact(add_anomalies, [anomaly], detected + timedelta(seconds=offset), write=True)
        db.transact(add_anomalies, [NewAnomaly(other.account_id, "silence", "host=web-1", NOW, 9.0, "theirs")], detected, write=True)
        yield SimpleNamespace(db=db, node=node, app=build_app(node), acme=acme, other=other)


def _store_lines(store: ChdbStore, account: str) -> None:
    """Lines of app `we"b` (template 99) on host web-1 and of app payments (template 5) on host
    db-1, received a few minutes ago."""
    arrival = int((NOW - timedelta(minutes=10)).timestamp() * 1000)
    apps = ['we"b', 'we"b', "payments", "payments"]
    table = record(account, ["disk on fire", "disk on fire again", "paid", "paid"],
                   id=[(arrival << ID_COUNTER_BITS) + n for n in range(4)], ts=[arrival] * 4, app=apps,
                   host=["web-1", "web-1", "db-1", "db-1"], level=["ERROR", "ERROR", "INFO", "INFO"], template=[99, 99, 5, 5])
    store.insert(schema.insert_rows(table), uuid.uuid4().hex)


def _get(world: SimpleNamespace, params: Any = None, path: str = "/api/v1/insights/anomalies", **auth: Any) -> httpx.Response:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=world.app)
        cookies = auth.pop("cookies", None)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies) as client:
            return await client.get(path, params=params, **auth)

    return asyncio.run(get())


def key(world: SimpleNamespace, account: Any, role: str = "readonly") -> dict[str, Any]:
    _, secret = world.db.create_key(account.account_id, "service", role=role)
    return {"auth": (secret, "")}


def scoped_user(world: SimpleNamespace, scope: str) -> dict[str, Any]:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    user = world.db.add_user(world.acme.account_id, email, PASSWORD, "readonly")
    name = f"g-{uuid.uuid4().hex[:6]}"
    world.db.transact(groups.create_group, world.acme.account_id, name, scope, write=True)
    world.db.transact(groups.add_member, world.acme.account_id, name, email, write=True)
    token, _ = world.node.sessions.create(user, "127.0.0.1", "test")
    return {"cookies": {SESSION_COOKIE: token}}


def kinds(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [anomaly["kind"] for anomaly in response.json()["anomalies"]]


def test_a_reader_lists_its_accounts_anomalies_newest_first_with_their_queries(world: SimpleNamespace) -> None:
    response = _get(world, **key(world, world.acme))
    assert kinds(response) == ["new_template", "silence", "volume_spike", "template_surge"]
    first = response.json()["anomalies"][0]
    assert set(first) == {"id", "kind", "key", "started_at", "detected_at", "score", "evidence", "query"}
    assert first["query"] == 'app:==="we\\"b" template:99'  # the app's quote is escaped, never pasted
    assert [a["query"] for a in response.json()["anomalies"][1:]] == ['host:==="web-1"', "", 'app:==="payments" template:5']
    assert "theirs" not in response.text  # another account's anomaly


def test_kind_filters_and_limit(world: SimpleNamespace) -> None:
    auth = key(world, world.acme)
    assert kinds(_get(world, [("kind", "silence,new_template")], **auth)) == ["new_template", "silence"]
    assert kinds(_get(world, [("kind", "silence"), ("kind", "volume_spike")], **auth)) == ["silence", "volume_spike"]
    assert kinds(_get(world, {"limit": "2"}, **auth)) == ["new_template", "silence"]
    assert kinds(_get(world, {"from": "1", "to": "2"}, **auth)) == []


@pytest.mark.parametrize(
    "params",
    [{"kind": "new_template,nonsense"}, {"limit": "0"}, {"limit": "501"}, {"from": "2h", "to": "3h ago"}, {"from": "whenever"}],
)
def test_bad_parameters_are_json_400s(world: SimpleNamespace, params: dict[str, str]) -> None:
    response = _get(world, params, **key(world, world.acme))
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest" and response.json()["error"]


def test_who_may_read(world: SimpleNamespace) -> None:
    assert (_get(world)).status_code == 401
    ingestion = {"auth": (world.acme.ingestion_key, "")}
    assert (_get(world, **ingestion)).status_code == 403  # ingestion keys cannot read
    assert kinds(_get(world, **key(world, world.other, role="admin"))) == ["silence"]  # their own only


def test_a_scope_sees_only_anomalies_whose_lines_are_all_inside_it(world: SimpleNamespace) -> None:
    # app we"b's lines are all on web-1: its new template and web-1's silence are inside the scope;
    # payments' surge is outside, and the account's volume counts lines outside it.
    assert kinds(_get(world, **scoped_user(world, 'app:"we\\"b"'))) == ["new_template", "silence"]
    # host web-1 only: the same two.
    assert kinds(_get(world, **scoped_user(world, "host:web-1"))) == ["new_template", "silence"]
    # payments only: its surge; web-1's silence speaks of lines outside the scope.
    assert kinds(_get(world, **scoped_user(world, "app:payments"))) == ["template_surge"]
    # a scope that matches nothing stored sees nothing.
    assert kinds(_get(world, **scoped_user(world, "app:nothing-here"))) == []


def test_the_overview_answers_anomalies_and_the_windows_new_templates_within_the_scope(world: SimpleNamespace) -> None:
    overview = _get(world, {"from": "1h"}, path="/api/v1/insights", **key(world, world.acme))
    assert kinds(overview) == ["new_template", "silence", "volume_spike", "template_surge"]
    body = overview.json()
    assert sorted((t["id"], t["app"], t["lines"]) for t in body["new_templates"]) == [("5", "payments", 2), ("99", 'we"b', 2)]
    assert body["growing_templates"] == [] and body["window"]["buckets"] >= 1  # 2 lines each: below min_lines
    assert "theirs" not in overview.text
    scoped = _get(world, {"from": "1h"}, path="/api/v1/insights", **scoped_user(world, "app:payments")).json()
    assert [a["kind"] for a in scoped["anomalies"]] == ["template_surge"]
    assert [t["id"] for t in scoped["new_templates"]] == ["5"]
    assert _get(world, {"limit": "201"}, path="/api/v1/insights", **key(world, world.acme)).status_code == 400
    assert _get(world, path="/api/v1/insights").status_code == 401
