"""Channels as stored and as shown: sealed at rest, masked for every reader, masks sent back keep
the secrets, and the checks of each kind (the outbound policy among them) run on save."""

from __future__ import annotations

import os

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select

from timberyard.alerts import channels
from timberyard.core.outbound import OutboundPolicy
from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta import alert_channels
from timberyard.meta.sealing import Sealer
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo
from timberyard.meta.models import AlertChannel

SEALER = Sealer(os.urandom(32))
LOCAL = OutboundPolicy.parse("127.0.0.1")
TOKEN = "Bearer abcdefghijkl-9876"
WEBHOOK = {"name": "ops", "kind": "webhook", "config": {"url": "http://127.0.0.1:9/hook", "headers": {"Authorization": TOKEN, "X-Short": "abc"}}}


def create(db: MetaDB, account: AccountInfo, fields: dict) -> alert_channels.ChannelInfo:
    name, kind, config = channels.checked_new(fields, LOCAL)
    return db.transact(alert_channels.create_channel, SEALER, account.id, name, kind, config, "test", write=True)


def test_secrets_are_sealed_at_rest_and_masked_when_shown(db: MetaDB, account: AccountInfo) -> None:
    made = create(db, account, WEBHOOK)
    with db.reading() as session:
        stored = session.scalars(select(AlertChannel)).one().config
    assert "abcdefghijkl" not in stored and "127.0.0.1" not in stored
    shown = channels.public(made)
    assert shown["config"]["headers"] == {"Authorization": "••••9876", "X-Short": "••••"}
    assert shown["config"]["url"] == "http://127.0.0.1:9/hook"
    assert TOKEN not in str(shown)


def test_a_sealed_config_moved_to_another_account_does_not_open(db: MetaDB, account: AccountInfo) -> None:
    sealed = SEALER.seal(account.id, {"password": "x"})
    assert SEALER.open(account.id, sealed) == {"password": "x"}
    with pytest.raises(InvalidTag):
        SEALER.open("another", sealed)


def test_a_change_sending_the_mask_back_keeps_the_secret_and_a_new_value_replaces_it(db: MetaDB, account: AccountInfo) -> None:
    made = create(db, account, WEBHOOK)
    shown = channels.public(made)["config"]
    name, config = channels.checked_change(made, {"config": {"headers": shown["headers"], "method": "PUT"}}, LOCAL)
    assert (name, config["headers"], config["method"]) == ("ops", {"Authorization": TOKEN, "X-Short": "abc"}, "PUT")
    _, config = channels.checked_change(made, {"config": {"headers": {"Authorization": "Bearer new-token-0000"}}}, LOCAL)
    assert config["headers"] == {"Authorization": "Bearer new-token-0000"}


@pytest.mark.parametrize(("kind", "config", "secret", "shown"), [
    ("slack", {"url": "http://127.0.0.1:9/services/T000/B000/XXXXSECRET"}, "url", "••••CRET"),
    ("pagerduty", {"routing_key": "R0UT1NGKEY0123456789abcdefABCDEF", "url": "http://127.0.0.1:9/"}, "routing_key", "••••CDEF"),
    ("email", {"to": ["a@example.org"], "from": "b@example.org", "smtp_host": "127.0.0.1", "username": "u", "password": "hunter2hunter2"},
     "password", "••••ter2"),
])
def test_each_kinds_secret_is_masked_and_kept(db: MetaDB, account: AccountInfo, kind: str, config: dict, secret: str, shown: str) -> None:
    made = create(db, account, {"name": kind, "kind": kind, "config": config})
    public = channels.public(made)["config"]
    assert public[secret] == shown
    _, kept = channels.checked_change(made, {"config": {secret: shown}}, LOCAL)
    assert kept[secret] == config[secret]


def test_a_webhook_aimed_at_127_0_0_1_is_refused_by_default() -> None:
    with pytest.raises(BadRequest, match="127.0.0.1 resolves to 127.0.0.1.*alerts_outbound_allow"):
        channels.checked_new(WEBHOOK, OutboundPolicy())


@pytest.mark.parametrize(("fields", "says"), [
    ({"name": "x", "kind": "sms", "config": {}}, "kind must be one of webhook, email, slack, pagerduty"),
    ({"kind": "webhook", "config": {"url": "http://127.0.0.1/"}}, "name is required"),
    ({"name": "x", "kind": "webhook", "config": {"url": "http://127.0.0.1/", "verb": "POST"}}, "unknown fields: verb"),
    ({"name": "x", "kind": "webhook", "config": "http://127.0.0.1/"}, "config must be an object"),
    ({"name": "x", "kind": "webhook", "config": {"url": "http://127.0.0.1/"}, "extra": 1}, "unknown fields: extra"),
])
def test_bad_channels_are_refused_with_a_specific_message(fields: dict, says: str) -> None:
    with pytest.raises(BadRequest, match=says):
        channels.checked_new(fields, LOCAL)


def test_names_are_unique_per_account_and_channels_are_private_to_it(db: MetaDB, account: AccountInfo) -> None:
    made = create(db, account, WEBHOOK)
    with pytest.raises(Conflict):
        create(db, account, WEBHOOK)
    other = db.create_account("other")
    assert create(db, other, WEBHOOK).name == "ops"
    with pytest.raises(NotFound):
        db.transact(alert_channels.get_channel, SEALER, other.id, made.id, write=False)
    assert [c.id for c in db.transact(alert_channels.list_channels, SEALER, account.id, write=False)] == [made.id]
