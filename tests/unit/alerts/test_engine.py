"""The evaluator with a clock the tests move: presence, absence, timing, cool-down, schedule,
mute and snooze, late lines, the absence pause, restarts and shared evaluation. `Delivered`
(conftest) stands in for our own delivery component and records what it is handed."""

from __future__ import annotations

from datetime import timedelta

from alerting import Delivered, Lines, add_alert, engine_for
from clock import Clock

from timberyard.meta import alerts as repo
from timberyard.meta.anomalies import AnomalyRecord, NewAnomaly, add_anomalies
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo


def history(db: MetaDB, account: AccountInfo, alert_id: int) -> list[tuple[str, str | None, int]]:
    firings = db.transact(repo.list_firings, account.id, alert_id, write=False)
    return [(f.state, f.suppressed_by, f.matches) for f in reversed(firings)]


def test_presence_fires_at_the_end_of_the_interval_with_samples_and_a_reason(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    alert_id = add_alert(db, account, clock, query="error", threshold=3, interval="5m", channel_ids=[7])
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(lines.batch(["error one", "fine", "error two", "error three"], host=["web-1"] * 4))
    assert delivered.sent == []
    clock.advance(300)
    engine.tick()
    [(notification, channels)] = delivered.sent
    assert channels == [7]
    assert (notification.alert_id, notification.state, notification.matches, notification.threshold) == (alert_id, "firing", 3, 3)
    assert notification.reason == "3 lines matched in 5m (threshold 3)"
    assert [line["_line"] for line in notification.lines] == ["error one", "error two", "error three"]
    assert notification.lines[0]["_host"] == "web-1"
    assert notification.window_end - notification.window_start == timedelta(minutes=5)
    assert notification.url == "https://logs.example/alerts/%d" % alert_id
    assert history(db, account, alert_id) == [("firing", None, 3)]


def test_presence_below_the_threshold_stays_quiet(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    add_alert(db, account, clock, query="error", threshold=3)
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(lines.batch(["error one", "error two"]))
    clock.advance(300)
    engine.tick()
    assert delivered.sent == []


def test_immediate_presence_fires_as_soon_as_the_count_is_reached_and_once_per_window(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    add_alert(db, account, clock, query="error", threshold=2, timing=["immediate", "end_of_interval"])
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(lines.batch(["error one"]))
    assert delivered.sent == []
    engine.process(lines.batch(["error two"]))
    assert [n.matches for n, _ in delivered.sent] == [2]
    engine.process(lines.batch(["error three"]))
    clock.advance(300)
    engine.tick()
    assert [n.matches for n, _ in delivered.sent] == [2]


def test_absence_fires_when_too_few_lines_arrive_and_resolves_when_they_return(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    alert_id = add_alert(db, account, clock, kind="absence", query="heartbeat", threshold=2, interval="15m", cooldown_s=0)
    engine = engine_for(db, clock, delivered)
    engine.tick()
    clock.advance(900)
    engine.tick()
    assert delivered.sent == []  # the window the alert was created in is not judged: it saw only part of it
    engine.process(lines.batch(["heartbeat"]))
    clock.advance(900)
    engine.tick()
    assert [(n.state, n.matches, n.reason) for n, _ in delivered.sent] == [
        ("firing", 1, "1 lines matched in 15m, fewer than 2")
    ]
    engine.process(lines.batch(["heartbeat", "heartbeat"]))
    clock.advance(900)
    engine.tick()
    assert delivered.states == ["firing", "resolved"]
    assert [state for state, _, _ in history(db, account, alert_id)] == ["firing", "resolved"]


def test_absence_pauses_after_a_day_of_silence_and_says_so_once(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered
) -> None:
    add_alert(db, account, clock, kind="absence", query="heartbeat", interval="1h", cooldown_s=0)
    engine = engine_for(db, clock, delivered)
    engine.tick()
    for _ in range(30):
        clock.advance(3600)
        engine.tick()
    reasons = [n.reason for n, _ in delivered.sent]
    # Created at 09:00:10: the window ending 10:00 saw only part of the hour and is not judged;
    # those ending 11:00 to 09:00 next day fire, the one ending at 10:00 (24 h of silence)
    # fires saying it pauses, the five after it are quiet.
    assert len(reasons) == 24
    assert "pauses until lines arrive again" in reasons[-1]
    assert not any("pauses" in reason for reason in reasons[:-1])


def test_cool_down_makes_one_burst_one_notification_and_records_the_rest(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    alert_id = add_alert(db, account, clock, query="error", interval="1m", cooldown_s=600)
    engine = engine_for(db, clock, delivered)
    engine.tick()
    for _ in range(4):
        engine.process(lines.batch(["error"]))
        clock.advance(60)
        engine.tick()
    assert delivered.states == ["firing"]
    assert history(db, account, alert_id) == [("firing", None, 1)] + [("suppressed", "cooldown", 1)] * 3


def test_schedule_in_a_time_zone_suppresses_outside_its_hours(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    # 09:00 UTC is 18:00 in Tokyo: outside 09-17 there, inside 09-17 in Paris (10:00).
    tokyo = add_alert(db, account, clock, name="tokyo", query="error", schedule={"days": ["mon"], "hours": [9, 17], "timezone": "Asia/Tokyo"})
    paris = add_alert(db, account, clock, name="paris", query="error", schedule={"days": ["mon"], "hours": [9, 17], "timezone": "Europe/Paris"})
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(lines.batch(["error"]))
    clock.advance(300)
    engine.tick()
    assert [n.alert_id for n, _ in delivered.sent] == [paris]
    assert history(db, account, tokyo) == [("suppressed", "schedule", 1)]


def test_mute_and_snooze_suppress_and_are_recorded(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    muted = add_alert(db, account, clock, name="muted", query="error")
    snoozed = add_alert(db, account, clock, name="snoozed", query="error")
    db.transact(repo.set_muted, account.id, muted, True, None, write=True)
    db.transact(repo.set_muted, account.id, snoozed, False, clock() + timedelta(minutes=7), write=True)
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(lines.batch(["error"]))
    clock.advance(300)
    engine.tick()
    assert delivered.sent == []
    assert history(db, account, muted) == [("suppressed", "muted", 1)]
    assert history(db, account, snoozed) == [("suppressed", "snoozed", 1)]
    engine.process(lines.batch(["error"]))
    clock.advance(300)
    engine.tick()  # the snooze has ended
    assert [n.alert_id for n, _ in delivered.sent] == [snoozed]


def test_late_lines_are_counted_in_their_arrival_window_and_reported(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    add_alert(db, account, clock, query="error", threshold=2)
    engine = engine_for(db, clock, delivered)
    engine.tick()
    an_hour_ago = int((clock() - timedelta(hours=1)).timestamp() * 1000)
    engine.process(lines.batch(["error caught up"], event_ms=an_hour_ago))
    engine.process(lines.batch(["error now"]))
    clock.advance(300)
    engine.tick()
    [(notification, _)] = delivered.sent
    assert (notification.matches, notification.late_lines) == (2, 1)
    assert notification.reason.endswith("; 1 of them arrived late")


def test_view_filters_narrow_the_query(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    add_alert(db, account, clock, query="error", filters={"hosts": ["web-1"], "tags": ["prod"]})
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(lines.batch(
        ["error a", "error b", "error c"], host=["web-1", "web-2", "web-1"], tags=[["prod"], ["prod"], ["dev"]]
    ))
    clock.advance(300)
    engine.tick()
    assert [[line["_line"] for line in n.lines] for n, _ in delivered.sent] == [["error a"]]


def test_an_alert_keeps_to_the_scope_of_whoever_saved_it(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    """A user whose groups see app:web (or app:api) saves an alert on "error": lines of other
    apps are neither counted nor sampled, though the account has them."""
    add_alert(db, account, clock, scope=["app:web", "app:api"], query="error")
    add_alert(db, account, clock, name="unscoped", query="error")
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(lines.batch(["error a", "error b", "error c", "error d"], app=["web", "billing", "api", "webhooks"]))
    clock.advance(300)
    engine.tick()
    counted = {n.alert_name: (n.matches, [line["_line"] for line in n.lines]) for n, _ in delivered.sent}
    assert counted == {"errors": (2, ["error a", "error c"]), "unscoped": (4, ["error a", "error b", "error c", "error d"])}


def test_a_restart_mid_window_neither_loses_nor_repeats_the_notification(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    alert_id = add_alert(db, account, clock, query="error", threshold=3, timing=["immediate", "end_of_interval"])
    first = engine_for(db, clock, delivered)
    first.tick()
    batch = lines.batch(["error", "error"])
    first.process(batch)
    first.stop()  # saves the open window with the sequence number it covers

    second = engine_for(db, clock, delivered)
    second.process(batch)  # replayed after the restart: already counted, skipped
    second.process(lines.batch(["error"]))
    assert [n.matches for n, _ in delivered.sent] == [3]

    third = engine_for(db, clock, delivered)  # a crash right after the firing, before any save
    third.process(lines.batch(["error"]))
    clock.advance(300)
    third.tick()
    assert [n.matches for n, _ in delivered.sent] == [3]
    assert len(history(db, account, alert_id)) == 1


def test_a_crash_keeps_what_the_last_periodic_save_covered(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    add_alert(db, account, clock, query="error", threshold=3)
    marks: list[int] = []
    first = engine_for(db, clock, delivered, saved=marks.append)
    first.tick()
    saved = lines.batch(["error", "error"])
    first.process(saved)
    clock.advance(3)
    first.tick()  # more than PERSIST_S later: saved with the sequence number it covers
    assert marks[-1] == saved[0].seq  # and the WAL is told, so it replays every record after it
    unsaved = lines.batch(["error"])
    first.process(unsaved)  # then the node dies without stopping

    second = engine_for(db, clock, delivered)
    second.process(saved + unsaved)  # the WAL replays from its mark (here: from the start); the saved part is skipped
    clock.advance(300)
    second.tick()
    assert [n.matches for n, _ in delivered.sent] == [3]


def test_a_thousand_alerts_with_one_selection_share_one_evaluation(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    for n in range(1000):
        add_alert(db, account, clock, name=f"errors {n}", query="error", threshold=1 + n % 3)
    engine = engine_for(db, clock, delivered)
    assert len(engine._groups[account.id]) == 1
    engine.tick()
    engine.process(lines.batch(["error", "error"]))
    clock.advance(300)
    engine.tick()
    assert len(delivered.sent) == 667  # thresholds 1 and 2 of every three


def test_waiting_batches_are_counted_as_one_unless_a_replay_or_a_type_clash_forbids(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    add_alert(db, account, clock, query="error")
    engine = engine_for(db, clock, delivered)
    fresh = lines.batch(["error a"], fields=[{"n": 1}]) + lines.batch(["error b", "fine"], fields=[{"s": "x"}, {}])
    [merged] = engine._coalesced(fresh)
    assert (merged.seq, merged.lines) == (fresh[-1].seq, 3)
    clash = lines.batch(["error c"], fields=[{"n": 1}]) + lines.batch(["error d"], fields=[{"n": "one"}])
    assert engine._coalesced(clash) == clash
    engine.alerts[next(iter(engine.alerts))].seq = fresh[0].seq  # as after a restart: that record was counted
    assert engine._coalesced(fresh) == fresh


def test_alerts_of_another_account_never_see_its_lines(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered
) -> None:
    other = db.create_account("other")
    add_alert(db, account, clock, query="error")
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(Lines(clock, other.id).batch(["error"]))
    clock.advance(300)
    engine.tick()
    assert delivered.sent == []


def test_archive_lag_fires_while_the_archive_is_behind_and_resolves_once_it_caught_up(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    """The lag is what the archiver reports (archive/exporter.py `lag_seconds`), here set by hand."""
    add_alert(db, account, clock, kind="archive_lag", interval="15m", max_lag_s=6 * 3600, channel_ids=[1], cooldown_s=3600)
    lag: dict[str, float] = {}
    engine = engine_for(db, clock, delivered, archive_lag=lambda: lag)
    engine.tick()
    engine.process(lines.batch(["lines are not what this alert counts"]))
    clock.advance(15 * 60)
    engine.tick()  # archiving off for the account: nothing to say
    lag[account.id] = 7 * 3600
    clock.advance(15 * 60)
    engine.tick()
    clock.advance(15 * 60)
    engine.tick()  # still behind, within the cool-down: recorded as suppressed, not sent
    lag[account.id] = 1800
    clock.advance(15 * 60)
    engine.tick()
    assert [(n.kind, n.state, n.reason) for n, _ in delivered.sent] == [
        ("archive_lag", "firing", "the newest archived line is 7.0 h old, more than the 6 h allowed: lines may expire "
         "before they are archived (timberyard archive status)"),
        ("archive_lag", "resolved", "the newest archived line is 0.5 h old, within the 6 h allowed"),
    ]
    assert all(channels == [1] for _, channels in delivered.sent)


def test_index_rate_above_the_maximum_fires(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    add_alert(db, account, clock, kind="index_rate", interval="30s", max_lines_per_s=0.1)
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.process(lines.batch(["a", "b", "c", "d"]))
    clock.advance(30)
    engine.tick()
    assert [(n.kind, n.reason) for n, _ in delivered.sent] == [
        ("index_rate", "0.1 lines/s over 30s, above the maximum of 0.1")
    ]


def _anomaly(db: MetaDB, account: AccountInfo, clock: Clock, kind: str, key: str, score: float, minutes_ago: int = 1) -> list[AnomalyRecord]:
    started = clock() - timedelta(minutes=minutes_ago)
    return db.transact(add_anomalies, [NewAnomaly(account.id, kind, key, started, score, f"{kind} evidence")], clock(), write=True)


def test_anomaly_alerts_send_one_notification_per_wanted_anomaly_with_its_query_and_link(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered
) -> None:
    alert_id = add_alert(db, account, clock, kind="anomaly", anomaly_kinds=["new_template", "silence"], min_score=2,
                         cooldown_s=0, channel_ids=[4])
    other = db.create_account("other")
    add_alert(db, other, clock, kind="anomaly", channel_ids=[9])
    engine = engine_for(db, clock, delivered)
    engine.tick()
    engine.anomalies_found(_anomaly(db, account, clock, "new_template", 'app=we"b template=99', 1.0))
    engine.anomalies_found(_anomaly(db, account, clock, "silence", "host=web-1", 1.5))  # below min_score
    engine.anomalies_found(_anomaly(db, account, clock, "template_surge", "app=x template=1", 50))  # not wanted
    same_start = _anomaly(db, account, clock, "silence", "host=db-1", 30, minutes_ago=1)
    engine.anomalies_found(same_start)
    engine.notify_anomalies()
    assert [(n.kind, n.anomaly_kind, n.anomaly_key) for n, _ in delivered.sent] == [
        ("anomaly", "new_template", 'app=we"b template=99'), ("anomaly", "silence", "host=db-1"),
    ]
    first, channels = delivered.sent[0]
    assert channels == [4] and first.alert_id == alert_id and first.state == "firing"
    assert first.query == 'app:==="we\\"b" template:99'
    assert first.reason == 'new_template (app=we"b template=99): new_template evidence'
    assert first.url.startswith("https://logs.example/?q=app%3A%3D%3D%3D%22we%5C%22b%22+template%3A99&from=")
    assert history(db, account, alert_id) == [("firing", None, 1), ("firing", None, 1)]
    # Ticking the clock past windows never resolves or repeats them.
    clock.advance(3600)
    engine.tick()
    assert len(delivered.sent) == 2


def test_anomaly_alerts_keep_the_cooldown_and_skip_scoped_authors(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered
) -> None:
    alert_id = add_alert(db, account, clock, kind="anomaly", cooldown_s=300, channel_ids=[1])
    add_alert(db, account, clock, scope=["app:web"], name="scoped", kind="anomaly", channel_ids=[2])
    engine = engine_for(db, clock, delivered)
    engine.anomalies_found(_anomaly(db, account, clock, "volume_spike", "", 9.0, minutes_ago=3))
    engine.anomalies_found(_anomaly(db, account, clock, "volume_drop", "", -9.0, minutes_ago=2))
    engine.notify_anomalies()
    assert [n.anomaly_kind for n, _ in delivered.sent] == ["volume_spike"]
    assert history(db, account, alert_id) == [("firing", None, 1), ("suppressed", "cooldown", 1)]


def test_many_alerts_count_what_each_selection_finds_alone(
    db: MetaDB, account: AccountInfo, clock: Clock, delivered: Delivered, lines: Lines
) -> None:
    """Enough words for the engine's sweep of all of them at once (search/text_sweep.py)."""
    from timberyard.alerts.selection import Selection
    from timberyard.meta.views import ViewFilters
    from timberyard.search.text_sweep import WORTH_IT

    words = ["error", "timeout", "refused", "disk", "Restart", "zz1", "zz12", "x-1", '"conn refused"', "denied"]
    queries = [f"{word} -zz{i}" for i, word in enumerate(words)] + words + ["level:error disk", "app:api -error"]
    ids = {add_alert(db, account, clock, name=f"a{i}", query=query, threshold=1000): query for i, query in enumerate(queries)}
    engine = engine_for(db, clock, delivered)
    assert len(engine._sweeps[account.id].words) >= WORTH_IT
    engine.tick()
    texts = ["error: disk full zz12", "Timeout talking to db", "conn refused by x-1", "restarting zz1", "ZZ120 error",
             "access DENIED", "errors everywhere", "fine", "x-12 refused", "disk ok zz0"]
    [batch] = lines.batch(texts, level=["error", "info"] * 5, app=["api", "web"] * 5)
    engine.process([batch])
    for alert_id, query in ids.items():
        expected = int(Selection(query, ViewFilters())(batch.table).sum())
        assert engine.alerts[alert_id].window.matches == expected, query
    assert any(engine.alerts[alert_id].window.matches for alert_id in ids)
