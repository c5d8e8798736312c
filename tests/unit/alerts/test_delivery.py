"""Delivery against a real local receiver, with the test's clock: retries with backoff, every
attempt recorded, pending deliveries resumed by a new Delivery over the same database (a
restart), deleted channels, and channels that keep failing reported once."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from clock import Clock
from receivers import HttpReceiver, http_receiver

from timberyard.alerts.delivery import FAILING_METRIC, FAILURES_METRIC, Delivery
from timberyard.alerts.notification import Notification, sample
from timberyard.core.outbound import OutboundPolicy
from timberyard.core.metrics import Metrics
from timberyard.meta import alert_channels
from timberyard.meta.alert_channels import ChannelInfo
from timberyard.meta.sealing import Sealer
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo

SEALER = Sealer(os.urandom(32))
LOCAL = OutboundPolicy.parse("127.0.0.1")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def channel(db: MetaDB, account: AccountInfo, receiver: HttpReceiver) -> ChannelInfo:
    return db.transact(alert_channels.create_channel, SEALER, account.id, "hook", "webhook",
                       {"url": receiver.url, "method": "POST", "headers": {}, "body": '{"firing": "{{ firing_id }}"}'}, "test", write=True)


def notification(account: AccountInfo, firing_id: int = 41) -> Notification:
    return replace(sample(account.id, "https://logs.example.org/"), firing_id=firing_id, alert_id=5)


def delivery(db: MetaDB, clock: Clock, metrics: Metrics | None = None, **kwargs: object) -> Delivery:
    return Delivery(db, SEALER, LOCAL, metrics or Metrics.with_catalogue(), now=clock, **kwargs)  # type: ignore[arg-type]


def attempts(db: MetaDB, firing_id: int = 41) -> list[tuple[int, bool | None, int | None, bool]]:
    found = db.transact(alert_channels.deliveries_of, [firing_id], write=False).get(firing_id, [])
    return [(d.attempt, d.ok, d.status, d.next_attempt_at is not None) for d in found]


def test_a_channel_that_fails_twice_then_succeeds_is_retried_with_backoff(
    db: MetaDB, clock: Clock, account: AccountInfo, channel: ChannelInfo, receiver: HttpReceiver
) -> None:
    receiver.statuses[:] = [500, 500]
    metrics = Metrics.with_catalogue()
    sender = delivery(db, clock, metrics)
    sender.submit(notification(account), [channel.id])
    assert sender.run_due() == 1
    assert attempts(db) == [(1, False, 500, True)]
    clock.advance(4.9)
    assert sender.run_due() == 0  # the first retry is due 5 s after the failure
    clock.advance(0.1)
    assert sender.run_due() == 1
    clock.advance(29)
    assert sender.run_due() == 0
    clock.advance(1)
    assert sender.run_due() == 1
    assert attempts(db) == [(1, False, 500, False), (2, False, 500, False), (3, True, 200, False)]
    assert [r.body for r in receiver.received] == [b'{"firing":41}'] * 3
    assert metrics.value(FAILURES_METRIC, channel_kind="webhook") == 2


def test_a_delivery_is_given_up_after_the_last_backoff(db: MetaDB, clock: Clock, account: AccountInfo, channel: ChannelInfo,
                                                        receiver: HttpReceiver) -> None:
    receiver.statuses[:] = [503] * 10
    sender = delivery(db, clock, backoff_s=(5, 30))
    sender.submit(notification(account), [channel.id])
    for _ in range(5):
        sender.run_due()
        clock.advance(60)
    assert attempts(db) == [(1, False, 503, False), (2, False, 503, False), (3, False, 503, False)]


def test_a_restart_resumes_the_pending_retry(db: MetaDB, clock: Clock, account: AccountInfo, channel: ChannelInfo,
                                             receiver: HttpReceiver) -> None:
    receiver.statuses[:] = [500]
    first = delivery(db, clock)
    first.submit(notification(account), [channel.id])
    first.run_due()

    restarted = delivery(db, clock)
    assert restarted.resume() == 1
    assert restarted.run_due() == 0
    clock.advance(5)
    assert restarted.run_due() == 1
    assert attempts(db) == [(1, False, 500, False), (2, True, 200, False)]
    assert delivery(db, clock).resume() == 0


def test_an_attempt_interrupted_by_a_crash_is_made_again_at_once(db: MetaDB, clock: Clock, account: AccountInfo,
                                                                  channel: ChannelInfo, receiver: HttpReceiver) -> None:
    stored = notification(account).to_json().decode()
    db.transact(alert_channels.start_attempt, 41, channel.id, 1, clock(), stored, write=True)  # and then the node died
    restarted = delivery(db, clock)
    assert restarted.resume() == 1
    assert restarted.run_due() == 1
    assert attempts(db) == [(1, None, None, False), (2, True, 200, False)]
    assert len(receiver.received) == 1


def test_a_deleted_channel_or_another_accounts_channel_is_recorded_and_not_retried(
    db: MetaDB, clock: Clock, account: AccountInfo, channel: ChannelInfo, receiver: HttpReceiver
) -> None:
    other = db.create_account("other")
    sender = delivery(db, clock)
    sender.submit(notification(other, firing_id=42), [channel.id])
    db.transact(alert_channels.delete_channel, SEALER, account.id, channel.id, write=True)
    sender.submit(notification(account), [channel.id])
    sender.run_due()
    clock.advance(3600)
    assert sender.run_due() == 0
    assert attempts(db, 42) == [(1, False, None, False)] and attempts(db) == [(1, False, None, False)]
    found = db.transact(alert_channels.deliveries_of, [41, 42], write=False)
    assert {d.error for ds in found.values() for d in ds} == {"the channel was deleted"}
    assert receiver.received == []


def test_a_refused_address_fails_the_delivery_with_the_policys_message(db: MetaDB, clock: Clock, account: AccountInfo,
                                                                       channel: ChannelInfo, receiver: HttpReceiver) -> None:
    sender = Delivery(db, SEALER, OutboundPolicy(), Metrics.with_catalogue(), now=clock)
    sender.submit(notification(account), [channel.id])
    sender.run_due()
    [made] = db.transact(alert_channels.deliveries_of, [41], write=False)[41]
    assert (made.ok, made.next_attempt_at) == (False, clock() + timedelta(seconds=5))
    assert "alerts_outbound_allow" in made.error and receiver.received == []


def test_a_channel_failing_three_deliveries_in_a_row_is_reported_once_until_it_recovers(
    db: MetaDB, clock: Clock, account: AccountInfo, channel: ChannelInfo, receiver: HttpReceiver
) -> None:
    reported: list[tuple[int, str]] = []
    metrics = Metrics.with_catalogue()
    sender = delivery(db, clock, metrics, backoff_s=(), on_failing=lambda c, reason: reported.append((c.id, reason)))
    receiver.statuses[:] = [500] * 4
    for firing in range(1, 5):
        sender.submit(notification(account, firing), [channel.id])
        sender.run_due()
        assert len(reported) == (0 if firing < 3 else 1)
    assert reported[0][0] == channel.id and reported[0][1].startswith("3 deliveries in a row given up; last error: receiver answered 500")
    assert f"{FAILING_METRIC} 1" in metrics.render()
    sender.submit(notification(account, 5), [channel.id])
    sender.run_due()
    assert f"{FAILING_METRIC} 0" in metrics.render()


def test_a_channel_failing_for_an_hour_is_reported(db: MetaDB, clock: Clock, account: AccountInfo, channel: ChannelInfo,
                                                   receiver: HttpReceiver) -> None:
    reported: list[str] = []
    sender = delivery(db, clock, backoff_s=(1800, 1800, 1800), on_failing=lambda c, reason: reported.append(reason))
    receiver.statuses[:] = [500] * 3
    sender.submit(notification(account), [channel.id])
    sender.run_due()
    clock.advance(1800)
    sender.run_due()
    assert reported == []
    clock.advance(1800)
    sender.run_due()
    assert len(reported) == 1 and reported[0].startswith("failing since")


def test_the_delivery_thread_delivers_what_is_submitted(db: MetaDB, account: AccountInfo, channel: ChannelInfo,
                                                        receiver: HttpReceiver) -> None:
    sender = Delivery(db, SEALER, LOCAL, Metrics.with_catalogue())
    sender.start()
    try:
        sender.submit(notification(account), [channel.id])
        for _ in range(500):
            if attempts(db) == [(1, True, 200, False)]:
                break
            threading.Event().wait(0.01)  # the one test on real time: the thread's own
    finally:
        sender.stop()
    assert attempts(db) == [(1, True, 200, False)]



def test_a_job_is_kept_when_the_metadata_database_fails(db: MetaDB, clock: Clock, account: AccountInfo, channel: ChannelInfo,
                                                         receiver: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    sender = delivery(db, clock)
    sender.submit(notification(account), [channel.id])
    with monkeypatch.context() as patched:
        patched.setattr(alert_channels, "start_attempt", lambda *args: (_ for _ in ()).throw(OSError("disk I/O error")))
        with pytest.raises(OSError):
            sender.run_due()
    assert sender.run_due() == 0
    clock.advance(60)
    assert sender.run_due() == 1
    assert attempts(db) == [(1, True, 200, False)]
