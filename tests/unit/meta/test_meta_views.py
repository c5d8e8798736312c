from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta import views
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo
from timberyard.meta.views import ViewFilters, ViewInfo
from timberyard.search import QuerySyntaxError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ANA = "ana@example.com"


def create(db: MetaDB, account_id: str, now: datetime = NOW, **fields: Any) -> ViewInfo:
    with db.writing() as session:
        return views.create_view(session, account_id, fields, ANA, now=now)


def test_create_get_and_list_by_category_then_name(db: MetaDB, account: AccountInfo) -> None:
    made = create(
        db, account.id, name=" 5xx ", category=" web ", query=" app:nginx status:>=500 ",
        filters={"hosts": ["web-1", "web-2", "web-1"], "levels": ["ERROR"]}, range=" last 2 hours ",
    )
    create(db, account.id, name="all errors", query="level:error")
    create(db, account.id, name="4xx", category="web")
    assert (made.name, made.category, made.query, made.range) == ("5xx", "web", "app:nginx status:>=500", "last 2 hours")
    assert made.filters == ViewFilters(hosts=("web-1", "web-2"), levels=("ERROR",))
    assert (made.account_id, made.created_by, made.created_at, made.updated_at) == (account.id, ANA, NOW, NOW)
    with db.reading() as session:
        assert views.get_view(session, account.id, made.id) == made
        listed = views.list_views(session, account.id)
    assert [(v.category, v.name) for v in listed] == [("", "all errors"), ("web", "4xx"), ("web", "5xx")]
    assert made.to_dict() == {
        "id": made.id, "account_id": account.id, "name": "5xx", "category": "web", "query": "app:nginx status:>=500",
        "filters": {"apps": [], "hosts": ["web-1", "web-2"], "levels": ["ERROR"], "tags": []},
        "range": "last 2 hours", "created_by": ANA,
        "created_at": "2026-11-28T12:00:00.000Z", "updated_at": "2026-11-28T12:00:00.000Z",
    }


def test_only_the_name_is_required(db: MetaDB, account: AccountInfo) -> None:
    made = create(db, account.id, name="everything")
    assert (made.category, made.query, made.filters, made.range) == ("", "", ViewFilters(), "")
    with pytest.raises(BadRequest, match="name is required"):
        create(db, account.id, query="error")


@pytest.mark.parametrize("query", ["app:(", "(error", "level:>"])
def test_an_unreadable_query_is_a_syntax_error_with_its_position_and_nothing_is_saved(db: MetaDB, account: AccountInfo, query: str) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        create(db, account.id, name="broken", query=query)
    assert raised.value.status == 400 and isinstance(raised.value.position, int)
    with db.reading() as session:
        assert views.list_views(session, account.id) == []


@pytest.mark.parametrize("text", ["not a time", "tomorrow to yesterday", "x" * 201, 15])
def test_an_unreadable_range_is_a_bad_request_naming_the_range(db: MetaDB, account: AccountInfo, text: object) -> None:
    with pytest.raises(BadRequest, match="range") as raised:
        create(db, account.id, name="broken", range=text)
    assert raised.value.fields["field"] == "range"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "name must have 1 to 100 characters"),
        ({"name": "   "}, "name must have 1 to 100 characters"),
        ({"name": "x" * 101}, "name must have 1 to 100 characters"),
        ({"name": "tab\there"}, "name may not contain control characters"),
        ({"name": 5}, "name must be a string"),
        ({"name": "v", "category": "c" * 101}, "category must have 0 to 100 characters"),
        ({"name": "v", "category": None}, "category must be a string"),
        ({"name": "v", "query": ["error"]}, "query must be a string"),
        ({"name": "v", "filters": ["nginx"]}, "filters must be an object"),
        ({"name": "v", "filters": {"app": ["nginx"]}}, "unknown filters: app"),
        ({"name": "v", "filters": {"apps": "nginx"}}, "filters.apps must be a list of strings"),
        ({"name": "v", "filters": {"tags": [1]}}, "filters.tags must be a list of strings"),
        ({"name": "v", "filters": {"hosts": [""]}}, "filters.hosts must have 1 to 200 characters"),
        ({"name": "v", "filters": {"levels": ["x"] * 101}}, "filters.levels has more than 100 values"),
        ({"name": "v", "colour": "red"}, "unknown fields: colour"),
    ],
)
def test_bad_fields_are_bad_requests_that_say_what_is_wrong(db: MetaDB, account: AccountInfo, fields: dict[str, Any], message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        create(db, account.id, **fields)
    assert raised.value.message.startswith(message), raised.value.message


def test_names_are_unique_per_account_and_category(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    create(db, account.id, name="errors", category="web")
    with pytest.raises(Conflict, match="a view named 'errors' already exists in category 'web'"):
        create(db, account.id, name="errors", category="web")
    assert create(db, account.id, name="errors").category == ""
    with pytest.raises(Conflict, match="already exists in no category"):
        create(db, account.id, name="errors", category="")
    assert create(db, other.id, name="errors", category="web").account_id == other.id


def test_update_changes_only_the_given_fields_and_moves_updated_at(db: MetaDB, account: AccountInfo) -> None:
    made = create(db, account.id, name="errors", query="level:error", filters={"apps": ["api"]}, range="last 1 hour")
    later = NOW + timedelta(minutes=5)
    with db.writing() as session:
        changed = views.update_view(session, account.id, made.id, {"name": "api errors", "filters": {"tags": ["eu"]}}, now=later)
    assert (changed.name, changed.query, changed.range, changed.filters) == ("api errors", "level:error", "last 1 hour", ViewFilters(tags=("eu",)))
    assert (changed.created_at, changed.updated_at, changed.created_by) == (NOW, later, ANA)
    with db.reading() as session:
        assert views.get_view(session, account.id, made.id) == changed


def test_update_checks_fields_and_uniqueness_and_keeps_the_view_on_failure(db: MetaDB, account: AccountInfo) -> None:
    made = create(db, account.id, name="one")
    create(db, account.id, name="two")
    for changes, error in (({"name": "two"}, Conflict), ({"query": "app:("}, QuerySyntaxError), ({"range": "soon"}, BadRequest), ({"id": "x"}, BadRequest)):
        with pytest.raises(error), db.writing() as session:
            views.update_view(session, account.id, made.id, changes)
    with db.reading() as session:
        assert views.get_view(session, account.id, made.id) == made


def test_a_missing_view_is_not_found_before_the_changes_are_checked(db: MetaDB, account: AccountInfo) -> None:
    with pytest.raises(NotFound, match="view 'nope' not found"), db.writing() as session:
        views.update_view(session, account.id, "nope", {"query": "app:(", "bogus": 1})


def test_delete_returns_the_view_and_removes_it(db: MetaDB, account: AccountInfo) -> None:
    made = create(db, account.id, name="gone")
    with db.writing() as session:
        assert views.delete_view(session, account.id, made.id) == made
    with pytest.raises(NotFound), db.reading() as session:
        views.get_view(session, account.id, made.id)


def test_another_accounts_view_is_not_found_and_stays_untouched(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    theirs = create(db, other.id, name="theirs", query="app:secret")
    for attempt in (
        lambda s: views.get_view(s, account.id, theirs.id),
        lambda s: views.update_view(s, account.id, theirs.id, {"name": "mine now"}),
        lambda s: views.delete_view(s, account.id, theirs.id),
    ):
        with pytest.raises(NotFound, match="not found"), db.writing() as session:
            attempt(session)
    with db.reading() as session:
        assert views.get_view(session, other.id, theirs.id) == theirs
        assert views.list_views(session, account.id) == []
