"""GET /api/v1/insights/templates in-process (httpx.ASGITransport) on the real application, store
and template book; only who the caller is comes from stand-ins for the key ring and the
session table. New and grown templates with their text, the caller's account only, a scoped
caller answered from the lines in its scope, bad parameters as 400s, and an audit entry."""

from __future__ import annotations

import asyncio
import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from records import record
from timberyard.auth.principal import Principal
from timberyard.core.errors import Forbidden
from timberyard.insights.book import TemplateBook
from timberyard.search import parse
from timberyard.store.chdb import ChdbStore
from timberyard.store.schema import insert_rows
from timberyard.web.app import build_app

BASE_MS = 1_790_000_000_000 - 1_790_000_000_000 % 86_400_000  # a midnight, UTC: the tests' own clock
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS


class Keys:
    def __init__(self, keys: dict[str, tuple[str, str]]) -> None:
        self.keys = keys  # secret → (account, role)

    def authenticate(self, secret: str, kind: str) -> Any:
        if secret not in self.keys:
            raise Forbidden("Invalid credentials")
        account, role = self.keys[secret]
        return SimpleNamespace(account_id=account, role=role, id=secret, name=secret, prefix=secret[:4], type=kind)


class Sessions:
    def __init__(self, sessions: dict[str, Principal]) -> None:
        self.sessions = sessions

    def principal_for_session(self, token: str, touch: bool = True) -> Principal | None:
        return self.sessions.get(token)


class Trail:
    def __init__(self) -> None:
        self.events: list[Any] = []

    def record(self, event: Any) -> None:
        self.events.append(event)


def line_rows(account: str, book: TemplateBook, lines: list[tuple[int, str, str, str]], first_id: int) -> Any:
    """(ms after BASE_MS, app, level, text) lines as the pipeline would store them, their
    templates mined by the book."""
    templates = [book.mine(account, [app], [text])[0] for _, app, _, text in lines]
    return insert_rows(record(
        account, [text for *_, text in lines], first_id=first_id, ts=[BASE_MS + at for at, *_ in lines],
        app=[app for _, app, _, _ in lines], level=[level for _, _, level, _ in lines], template=templates,
        retention_days=[3650] * len(lines),
    ))  # fmt: skip


@pytest.fixture(scope="module")
def world(chdb_store: ChdbStore, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Account `mine`: an hour of steady `cache hit` lines in app web, then in the second hour
    `payment declined` errors from app billing start and `cache hit` triples. Account `theirs`
    sent the same second hour."""
    mine, theirs = f"tt-{uuid.uuid4().hex[:8]}", f"tt-{uuid.uuid4().hex[:8]}"
    book = TemplateBook(tmp_path_factory.mktemp("templates"))
    lines = []
    for minute in range(120):
        at = minute * MINUTE_MS
        lines += [(at + n, "web", "info", f"cache hit for key k{minute}-{n}") for n in range(3 if minute >= 60 else 1)]
        if minute >= 90:
            lines += [(at + 500, "billing", "error", f"payment declined for order {minute * 7}")]
    chdb_store.insert(line_rows(mine, book, lines, 1), f"{mine}:1")
    chdb_store.insert(line_rows(theirs, book, [line for line in lines if line[0] >= HOUR_MS], 1), f"{theirs}:1")
    scoped = Principal(account_id=mine, role="readonly", actor_type="user", actor_id="u1", actor_name="u1@example.com",
                       scope=parse("app:web"), session_id="s1", csrf_token="c1")  # fmt: skip
    node = SimpleNamespace(
        store=chdb_store, templates=book, audit=Trail(),
        keyring=Keys({"mine-key": (mine, "readonly"), "their-key": (theirs, "admin")}),
        access=Sessions({"scoped-session": scoped}),
    )  # fmt: skip
    return SimpleNamespace(node=node, app=build_app(node), mine=mine, theirs=theirs)


def get(world: SimpleNamespace, key: str | None = "mine-key", cookie: str | None = None, **params: Any) -> httpx.Response:
    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=world.app)
        cookies = {"timberyard_session": cookie} if cookie else None
        async with httpx.AsyncClient(transport=transport, base_url="http://node", cookies=cookies) as client:
            return await client.get("/api/v1/insights/templates", params=params, auth=(key, "") if key else None)

    return asyncio.run(run())


def second_hour(world: SimpleNamespace, **params: Any) -> dict[str, Any]:
    response = get(world, since=str(BASE_MS + HOUR_MS), until=str(BASE_MS + 2 * HOUR_MS - 1), **params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_the_new_template_and_the_grown_one_with_text_counts_and_sparklines(world: SimpleNamespace) -> None:
    answer = second_hour(world)
    assert answer["window"] == {
        "since": BASE_MS + HOUR_MS, "until": BASE_MS + 2 * HOUR_MS - 1, "from": BASE_MS + HOUR_MS,
        "to": BASE_MS + 2 * HOUR_MS, "before_from": BASE_MS, "bucket_ms": MINUTE_MS, "buckets": 60,
    }  # fmt: skip
    [new] = answer["new"]
    assert new["app"] == "billing" and new["text"] == "payment declined for order <*>"
    assert (new["first_seen"], new["lines"], new["per_minute"], new["levels"]) == (BASE_MS + 90 * MINUTE_MS + 500, 30, 0.5, {"error": 30})
    assert new["sparkline"] == [0] * 30 + [1] * 30 and "ratio" not in new
    [grown] = answer["growing"]
    assert grown["app"] == "web" and grown["text"].startswith("cache hit for key")
    assert (grown["lines_before"], grown["lines"], grown["ratio"], grown["per_minute_before"], grown["per_minute"]) == (60, 180, 3.0, 1.0, 3.0)
    assert grown["sparkline_before"] == [1] * 60 and grown["sparkline"] == [3] * 60
    assert world.node.audit.events[-1].action == "insights.templates"


def test_the_growth_rule_and_the_limit_are_parameters(world: SimpleNamespace) -> None:
    assert second_hour(world, min_ratio="3.5")["growing"] == []
    assert second_hour(world, min_lines="181")["growing"] == []
    one_hour_later = get(world, since=str(BASE_MS + 2 * HOUR_MS), until=str(BASE_MS + 3 * HOUR_MS)).json()
    assert one_hour_later["new"] == one_hour_later["growing"] == []
    assert len(second_hour(world, limit="1")["new"]) == 1
    since_1970 = get(world, since="0", until=str(BASE_MS + 2 * HOUR_MS)).json()  # everything is new since 1970
    assert sorted(item["app"] for item in since_1970["new"]) == ["billing", "web"] and since_1970["growing"] == []


def test_another_account_sees_only_its_own_templates(world: SimpleNamespace) -> None:
    mine, theirs = second_hour(world), second_hour_of(world, "their-key")
    # their lines all start in the second hour: both templates are new to them, with their own ids
    assert sorted(item["app"] for item in theirs["new"]) == ["billing", "web"] and theirs["growing"] == []
    assert {item["id"] for item in theirs["new"]}.isdisjoint({mine["new"][0]["id"], mine["growing"][0]["id"]})


def second_hour_of(world: SimpleNamespace, key: str) -> dict[str, Any]:
    response = get(world, key=key, since=str(BASE_MS + HOUR_MS), until=str(BASE_MS + 2 * HOUR_MS - 1))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_scoped_user_is_answered_from_the_lines_in_its_scope_only(world: SimpleNamespace) -> None:
    response = get(world, key=None, cookie="scoped-session", since=str(BASE_MS + HOUR_MS), until=str(BASE_MS + 2 * HOUR_MS - 1))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["new"] == []  # billing is outside app:web
    assert [item["app"] for item in answer["growing"]] == ["web"]
    assert answer["growing"] == second_hour(world)["growing"]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"since": "2h ago", "until": "3h ago"}, "before until"),
        ({"since": "1764316800000", "until": "1764316800000"}, "before until"),
        ({"since": "not a time at all"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"min_lines": "-3"}, "min_lines"),
        ({"min_ratio": "0.5"}, "min_ratio"),
        ({"min_ratio": "nan"}, "min_ratio"),
        ({"min_ratio": "lots"}, "min_ratio"),
    ],
)
def test_bad_parameters_are_400s_naming_them(world: SimpleNamespace, params: dict[str, str], word: str) -> None:
    response = get(world, **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "BadRequest" and word in body["error"]


def test_callers_without_credentials_or_with_unknown_ones_are_refused(world: SimpleNamespace) -> None:
    assert get(world, key=None).status_code == 401
    assert get(world, key="nobody").status_code == 403
