"""Alert definitions: checked as a whole when saved, errors naming the field; schedules in a
time zone; the index-rate verdict against a robust baseline."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

import pytest

from timberyard.alerts.definition import AlertDefinition, Schedule, parse_definition
from timberyard.alerts.index_rate import rate_verdict
from timberyard.alerts import service
from timberyard.core.errors import BadRequest, OutsideScope
from timberyard.meta.database import MetaDB
from timberyard.meta.info import AccountInfo
from timberyard.insights.anomaly import KINDS as ANOMALY_KINDS


def test_a_definition_round_trips_through_its_stored_form() -> None:
    made = parse_definition({
        "name": " payments ", "kind": "presence", "query": "app:payments", "filters": {"levels": ["ERROR"]},
        "threshold": 5, "interval": "1m", "timing": ["immediate", "end_of_interval"],
        "schedule": {"days": ["fri", "mon"], "hours": [22, 6], "timezone": "Europe/Paris"}, "channel_ids": [3, 3, 1],
    })
    assert (made.name, made.immediate, made.end_of_interval, made.channel_ids) == ("payments", True, True, (3, 1))
    assert made.schedule == Schedule((0, 4), 22, 6, "Europe/Paris")
    assert parse_definition(made.to_dict()) == made


def test_changes_apply_to_a_base_and_are_checked_as_a_whole() -> None:
    base = parse_definition({"name": "quiet", "kind": "absence", "interval": "1h"})
    assert parse_definition({"threshold": 3}, base).threshold == 3
    with pytest.raises(BadRequest) as caught:
        parse_definition({"interval": "5m"}, base)
    assert caught.value.fields["field"] == "interval"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "presence"}, "name"),
        ({"name": "x", "kind": "presence", "threshold": True}, "threshold"),
        ({"name": "x", "kind": "presence", "timing": []}, "timing"),
        ({"name": "x", "kind": "presence", "schedule": {"hours": [9, 9]}}, "schedule.hours"),
        ({"name": "x", "kind": "presence", "schedule": {"days": ["someday"]}}, "schedule.days"),
        ({"name": "x", "kind": "presence", "z_score": 3}, "z_score"),
        ({"name": "x", "kind": "index_rate", "max_lines_per_s": 10, "query": "error"}, "query"),
        ({"name": "x", "kind": "presence", "cooldown_s": -1}, "cooldown_s"),
        ({"name": "x", "kind": "archive_lag"}, "max_lag_s"),
        ({"name": "x", "kind": "archive_lag", "max_lag_s": 60}, "max_lag_s"),
        ({"name": "x", "kind": "archive_lag", "max_lag_s": 3600, "query": "error"}, "query"),
        ({"name": "x", "kind": "archive_lag", "max_lag_s": 3600, "timing": ["immediate"]}, "timing"),
        ({"name": "x", "kind": "presence", "max_lag_s": 3600}, "max_lag_s"),
        ({"name": "x", "kind": "anomaly", "anomaly_kinds": ["new_template", "nonsense"]}, "anomaly_kinds"),
        ({"name": "x", "kind": "anomaly", "anomaly_kinds": "silence"}, "anomaly_kinds"),
        ({"name": "x", "kind": "anomaly", "min_score": -1}, "min_score"),
        ({"name": "x", "kind": "anomaly", "query": "error"}, "query"),
        ({"name": "x", "kind": "anomaly", "timing": ["immediate"]}, "timing"),
        ({"name": "x", "kind": "presence", "anomaly_kinds": ["silence"]}, "anomaly_kinds"),
        ({"name": "x", "kind": "presence", "min_score": 3}, "min_score"),
        ({"name": "x\n", "kind": "presence"}, "name"),
    ],
)
def test_mistakes_name_their_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_definition(fields)
    assert caught.value.fields["field"] == field


def test_a_night_shift_schedule_belongs_to_the_day_it_started() -> None:
    friday_night = Schedule(days=(4,), start_hour=22, end_hour=6, timezone="Europe/Paris")
    assert friday_night.allows(datetime(2026, 12, 4, 21, 30, tzinfo=UTC))  # Fri 22:30 in Paris
    assert friday_night.allows(datetime(2026, 12, 5, 4, 0, tzinfo=UTC))  # Sat 05:00, still Friday's shift
    assert not friday_night.allows(datetime(2026, 12, 5, 21, 30, tzinfo=UTC))  # Sat 22:30
    assert not friday_night.allows(datetime(2026, 12, 4, 12, 0, tzinfo=UTC))  # Fri 13:00


def test_z_scores_wait_for_two_weeks_and_then_compare_with_the_robust_baseline() -> None:
    rule = AlertDefinition(name="rate", kind="index_rate", interval="1h", z_score=3)
    assert rate_verdict(3600 * 50, rule, [3600 * 10]) == (
        False, "50.0 lines/s over 1h; the baseline needs 2 weeks of this hour, it has 1"
    )
    usual = [3600 * 10, 3600 * 11, 3600 * 9, 3600 * 10, 3600 * 500]  # one odd week does not move it
    assert rate_verdict(3600 * 11, rule, usual)[0] is False
    fires, reason = rate_verdict(3600 * 50, rule, usual)
    assert fires and "deviations from this hour's usual 10.0 lines/s" in reason


def test_an_anomaly_alert_wants_all_kinds_by_default_and_min_score_by_size() -> None:
    every = parse_definition({"name": "x", "kind": "anomaly"})
    assert every.anomaly_kinds == ANOMALY_KINDS
    assert parse_definition(every.to_dict()) == every
    some = parse_definition({"name": "x", "kind": "anomaly", "anomaly_kinds": ["volume_drop", "silence"], "min_score": 5})
    assert some.anomaly_kinds == ("silence", "volume_drop")  # in the detectors' order
    assert some.wants("volume_drop", -6.0) and not some.wants("volume_drop", -4.0)
    assert not some.wants("new_template", 1.0)
    assert parse_definition({"name": "x", "kind": "anomaly", "min_score": 5}).wants("new_template", 1.0)  # always 1
    trend = parse_definition({"name": "x", "kind": "anomaly", "anomaly_kinds": ["error_trend"], "min_score": 50})
    assert trend.wants("error_trend", 3.0)  # minutes to the threshold: min_score does not apply


def test_a_scoped_author_cannot_save_an_anomaly_alert(db: MetaDB, account: AccountInfo) -> None:
    """Anomalies speak of the whole account: the alerts service refuses such an alert from a
    user whose access has a scope, on creation and when another alert is changed into one."""
    fields = {"name": "anomalies", "kind": "anomaly"}
    create = partial(service.create_alert, role="admin")
    with pytest.raises(OutsideScope):
        db.transact(create, account.id, fields, ["app:web"], "a@b.c", write=True)
    created = db.transact(create, account.id, fields, None, "a@b.c", write=True)
    assert created.definition.anomaly_kinds == ANOMALY_KINDS
    presence = db.transact(create, account.id, {"name": "p", "kind": "presence"}, ["app:web"], "a@b.c", write=True)
    with pytest.raises(OutsideScope):
        db.transact(partial(service.update_alert, role="admin"), account.id, presence.record.id, {"kind": "anomaly"}, ["app:web"], write=True)
