from __future__ import annotations

import pytest

from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta import groups
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo, UserInfo
from timberyard.search import QuerySyntaxError

PASSWORD = "correct horse battery"


@pytest.fixture
def ana(db: MetaDB, account: AccountInfo) -> UserInfo:
    return db.add_user(account.id, "ana@example.com", PASSWORD, "member")


@pytest.fixture
def bo(db: MetaDB, account: AccountInfo) -> UserInfo:
    return db.add_user(account.id, "bo@example.com", PASSWORD, "readonly")


def test_create_get_and_list(db: MetaDB, account: AccountInfo) -> None:
    with db.writing() as session:
        created = groups.create_group(session, account.id, " payments ", " app:payments OR app:billing ")
        groups.create_group(session, account.id, "audit", "")
    assert (created.name, created.scope, created.members) == ("payments", "app:payments OR app:billing", ())
    assert created.account_id == account.id
    with db.reading() as session:
        assert groups.get_group(session, account.id, "payments") == created
        assert [g.name for g in groups.list_groups(session, account.id)] == ["audit", "payments"]
    assert created.to_dict()["members"] == []


@pytest.mark.parametrize("scope", ["app:(", "(error", "level:>"])
def test_an_unreadable_scope_is_a_query_syntax_error_and_nothing_is_saved(db: MetaDB, account: AccountInfo, scope: str) -> None:
    with pytest.raises(QuerySyntaxError) as raised, db.writing() as session:
        groups.create_group(session, account.id, "broken", scope)
    assert raised.value.status == 400 and isinstance(raised.value.position, int)
    with db.reading() as session:
        assert groups.list_groups(session, account.id) == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a/b", "tab\there"])
def test_bad_names_are_bad_requests(db: MetaDB, account: AccountInfo, name: str) -> None:
    with pytest.raises(BadRequest, match="group name"), db.writing() as session:
        groups.create_group(session, account.id, name, "app:x")


def test_names_are_unique_per_account_only(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    with db.writing() as session:
        groups.create_group(session, account.id, "ops", "app:a")
    with pytest.raises(Conflict, match="already exists"), db.writing() as session:
        groups.create_group(session, account.id, "ops", "app:b")
    with db.writing() as session:
        assert groups.create_group(session, other.id, "ops", "app:c").account_id == other.id


def test_another_accounts_group_is_not_found(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    with db.writing() as session:
        groups.create_group(session, other.id, "theirs", "app:x")
    for attempt in (
        lambda s: groups.get_group(s, account.id, "theirs"),
        lambda s: groups.set_scope(s, account.id, "theirs", ""),
        lambda s: groups.delete_group(s, account.id, "theirs"),
    ):
        with pytest.raises(NotFound, match="group 'theirs' not found"), db.writing() as session:
            attempt(session)
    with db.reading() as session:
        assert groups.get_group(session, other.id, "theirs").scope == "app:x"


def test_members_and_scopes_for_user(db: MetaDB, account: AccountInfo, ana: UserInfo, bo: UserInfo) -> None:
    with db.writing() as session:
        groups.create_group(session, account.id, "web", "app:nginx")
        groups.create_group(session, account.id, "quiet", "")
        groups.add_member(session, account.id, "web", "ANA@example.com")
        groups.add_member(session, account.id, "web", "bo@example.com")
        again = groups.add_member(session, account.id, "web", "ana@example.com")
        groups.add_member(session, account.id, "quiet", "ana@example.com")
    assert again.members == ("ana@example.com", "bo@example.com")
    with db.reading() as session:
        assert groups.scopes_for_user(session, ana.id) == ["", "app:nginx"]
        assert groups.scopes_for_user(session, bo.id) == ["app:nginx"]
        listed = {g.name: g.members for g in groups.list_groups(session, account.id)}
    assert listed == {"quiet": ("ana@example.com",), "web": ("ana@example.com", "bo@example.com")}

    with db.writing() as session:
        assert groups.remove_member(session, account.id, "web", "bo@example.com").members == ("ana@example.com",)
    with db.reading() as session:
        assert groups.scopes_for_user(session, bo.id) is None


def test_user_in_no_group_has_no_scopes(db: MetaDB, account: AccountInfo, ana: UserInfo) -> None:
    with db.writing() as session:
        groups.create_group(session, account.id, "web", "app:nginx")
    with db.reading() as session:
        assert groups.scopes_for_user(session, ana.id) is None


def test_members_must_belong_to_the_account(db: MetaDB, account: AccountInfo) -> None:
    other = db.create_account("other")
    db.add_user(other.id, "eve@example.com", PASSWORD, "member")
    with db.writing() as session:
        groups.create_group(session, account.id, "web", "app:nginx")
    with pytest.raises(NotFound, match="user eve@example.com not found"), db.writing() as session:
        groups.add_member(session, account.id, "web", "eve@example.com")
    with pytest.raises(NotFound, match="user nobody@example.com not found"), db.writing() as session:
        groups.add_member(session, account.id, "web", "nobody@example.com")
    with pytest.raises(BadRequest, match="not an email"), db.writing() as session:
        groups.add_member(session, account.id, "web", "not-an-email")
    with db.reading() as session:
        assert groups.get_group(session, account.id, "web").members == ()


def test_removing_a_non_member_is_not_found(db: MetaDB, account: AccountInfo, ana: UserInfo) -> None:
    with db.writing() as session:
        groups.create_group(session, account.id, "web", "app:nginx")
    with pytest.raises(NotFound, match="ana@example.com is not a member of group 'web'"), db.writing() as session:
        groups.remove_member(session, account.id, "web", "ana@example.com")


def test_set_scope_validates_and_delete_releases_members(db: MetaDB, account: AccountInfo, ana: UserInfo) -> None:
    with db.writing() as session:
        groups.create_group(session, account.id, "web", "app:nginx")
        groups.add_member(session, account.id, "web", ana.email)
    with pytest.raises(QuerySyntaxError), db.writing() as session:
        groups.set_scope(session, account.id, "web", "app:(")
    with db.writing() as session:
        assert groups.set_scope(session, account.id, "web", "host:web-1 level:error").scope == "host:web-1 level:error"
    with db.reading() as session:
        assert groups.scopes_for_user(session, ana.id) == ["host:web-1 level:error"]
    with db.writing() as session:
        deleted = groups.delete_group(session, account.id, "web")
    assert deleted.members == ("ana@example.com",)
    with db.reading() as session:
        assert groups.list_groups(session, account.id) == []
        assert groups.scopes_for_user(session, ana.id) is None


def test_scope_length_is_limited(db: MetaDB, account: AccountInfo) -> None:
    with pytest.raises(BadRequest, match="longer than"), db.writing() as session:
        groups.create_group(session, account.id, "long", "a " * groups.MAX_SCOPE_CHARS)
