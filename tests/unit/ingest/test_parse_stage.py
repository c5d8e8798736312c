"""The parse stage (ingest/stages/parse.py) and field kinds per account (ingest/field_types.py):
what a line's own text contributes to its fields, time and level."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from timberyard.ingest.batch import line_batch
from timberyard.ingest.field_types import FieldTypes
from timberyard.ingest.stages import Context, process
from timberyard.meta import field_types
from timberyard.meta.database import MetaDB
from unit.ingest.conftest import HOUR, MS, column, fields_of, millis

ISO_HOUR_AGO = "2024-03-01T11:00:00Z"  # MS - 1 h
ISO_THREE_DAYS_AGO = "2024-02-27T12:00:00Z"  # MS - 72 h


@pytest.fixture
def parse(account: str, context: Callable[..., Context]) -> Callable[..., Any]:
    def run(lines: list[str], *, meta: list[dict[str, Any] | None] | None = None, import_times: bool = False, **changes: Any):
        batch = line_batch(account, "http", lines, meta=meta, import_times=import_times)
        return process(batch, context(**changes)), batch.problems

    return run


def test_a_json_line_gives_fields_level_time_and_its_format(parse: Callable[..., Any]) -> None:
    record, _ = parse([f'{{"time":"{ISO_HOUR_AGO}","level":"warn","msg":"slow","user":{{"id":7}},"tags":["a"]}}'])
    assert column(record, "format") == ["json"]
    assert column(record, "level") == ["WARN"]
    assert millis(record) == [MS - HOUR]
    assert fields_of(record) == [{"level": "warn", "msg": "slow", "tags": ["a"], "time": ISO_HOUR_AGO, "user": {"id": 7}}]


@pytest.mark.parametrize(("level", "canonical"), [(30, "INFO"), (50, "ERROR"), (60, "FATAL"), ("Warning", "WARN")])
def test_json_levels_by_name_or_by_pino_number(parse: Callable[..., Any], level: object, canonical: str) -> None:
    record, _ = parse([f'{{"level":{level!r},"msg":"x"}}'.replace("'", '"')])
    assert column(record, "level") == [canonical]


def test_text_that_only_starts_like_json_is_left_alone(parse: Callable[..., Any]) -> None:
    record, _ = parse(["{not json at all} ERROR here", '{"a": 1'])
    assert column(record, "format") == ["", ""]
    assert column(record, "level") == ["ERROR", ""]
    assert fields_of(record) == [{}, {}]


def test_an_access_log_line_gives_typed_fields_and_its_own_time(parse: Callable[..., Any]) -> None:
    record, _ = parse(['10.0.0.1 - - [01/Mar/2024:11:00:00 +0000] "GET /api/users?id=1 HTTP/1.1" 503 612 "-" "curl/8.5"'])
    [fields] = fields_of(record)
    assert column(record, "format")[0] != ""
    assert fields["status"] == 503
    assert fields["request"]["path"].startswith("/api/users")
    assert millis(record) == [MS - HOUR]


def test_logfmt_lines_give_typed_fields(parse: Callable[..., Any]) -> None:
    record, _ = parse(['level=error msg="db down" took=1.5 retries=3 ok=false'])
    assert column(record, "format") == ["logfmt"]
    assert column(record, "level") == ["ERROR"]
    assert fields_of(record) == [{"level": "error", "msg": "db down", "ok": False, "retries": 3, "took": 1.5}]


def test_the_senders_meta_wins_over_parsed_fields_of_the_same_name(parse: Callable[..., Any]) -> None:
    record, _ = parse(['{"status": 500, "path": "/x"}'], meta=[{"status": 200, "region": "eu"}])
    assert fields_of(record) == [{"path": "/x", "region": "eu", "status": 200}]


def test_the_senders_level_and_time_win_over_what_the_line_states(account: str, context: Callable[..., Context]) -> None:
    batch = line_batch(account, "http", ['{"level":"debug","time":"2024-03-01T11:00:00Z"}'], level="ERROR", ts=[MS - 5])
    record = process(batch, context())
    assert column(record, "level") == ["ERROR"]
    assert millis(record) == [MS - 5]


def test_a_line_time_beyond_the_skew_is_the_receive_time_unless_imported(parse: Callable[..., Any]) -> None:
    line = f'{{"time":"{ISO_THREE_DAYS_AGO}","msg":"old"}}'
    live, problems = parse([line])
    assert millis(live) == [MS]
    assert problems.counts["clamped_timestamps"] == 1
    imported, problems = parse([line], import_times=True)
    assert millis(imported) == [MS - 72 * HOUR]
    assert "clamped_timestamps" not in problems.counts


def test_imported_lines_older_than_the_retention_are_dropped_and_counted(parse: Callable[..., Any]) -> None:
    record, problems = parse([f'{{"time":"{ISO_THREE_DAYS_AGO}","msg":"old"}}', '{"msg":"now"}'], import_times=True, retention_days=1)
    assert [fields["msg"] for fields in fields_of(record)] == ["now"]
    assert problems.counts["expired_lines"] == 1


def test_lines_without_any_level_get_the_one_their_text_states(parse: Callable[..., Any]) -> None:
    record, _ = parse(["2024-03-01 11:00:00,123 ERROR [main] App: failed", "plain text", "x [warn] y"])
    assert column(record, "level") == ["ERROR", "", "WARN"]


def test_parsing_off_keeps_lines_as_sent_but_still_detects_levels(parse: Callable[..., Any]) -> None:
    record, _ = parse(['{"level":"warn","status":500}', '{"status":500}'], parse_lines=False)
    assert column(record, "format") == ["", ""]
    assert fields_of(record) == [{}, {}]
    assert column(record, "level") == ["WARN", ""]


# --- kinds per account --------------------------------------------------------------------------


def test_a_fields_first_kind_is_kept_across_batches(parse: Callable[..., Any], metadata: MetaDB, account: str) -> None:
    parse(['{"status": 200}'])
    record, problems = parse(['{"status": "oops"}', '{"status": "404"}', '{"status": 201}'])
    assert fields_of(record) == [{"_conflicts": {"status": "oops"}}, {"status": 404}, {"status": 201}]
    assert problems.counts["field_conflicts"] == 1
    assert metadata.transact(field_types.kinds, account, write=False)["status"] == "number"


@pytest.mark.parametrize(
    ("first", "later", "stored"),
    [
        ('"text"', "42", {"v": "42"}),
        ('"text"', "true", {"v": "true"}),
        ('"text"', "[1,2]", {"v": "[1,2]"}),
        ("true", '"false"', {"v": False}),
        ("true", '"maybe"', {"_conflicts": {"v": "maybe"}}),
        ("1", '"1e999"', {"_conflicts": {"v": "1e999"}}),
        ("1", "[1]", {"_conflicts": {"v": "[1]"}}),
        ("[1]", '"x"', {"_conflicts": {"v": "x"}}),
    ],
)
def test_later_values_are_converted_where_nothing_is_lost(parse: Callable[..., Any], first: str, later: str, stored: dict[str, Any]) -> None:
    parse([f'{{"v": {first}}}'])
    record, _ = parse([f'{{"v": {later}}}'])
    assert fields_of(record) == [stored]


def test_kinds_survive_a_restart(parse: Callable[..., Any], metadata: MetaDB, account: str) -> None:
    parse(['{"n": 1}'])
    fresh = FieldTypes(metadata, max_paths=1000).for_account(account)
    assert fresh.kinds["n"] == "number"


def test_names_beyond_the_accounts_limit_are_kept_as_text_under_overflow(
    account: str, metadata: MetaDB, context: Callable[..., Context]
) -> None:
    limited = FieldTypes(metadata, max_paths=2).for_account(account)
    batch = line_batch(account, "http", ['{"a": 1, "b": 2, "c": 3, "d": "x"}'])
    record = process(batch, context(field_types=limited))
    [fields] = fields_of(record)
    assert {k: v for k, v in fields.items() if k != "_overflow"} == {"a": 1, "b": 2}
    assert fields["_overflow"] in ('{"c":3,"d":"x"}', '{"d":"x","c":3}')
    assert batch.problems.counts["fields_over_limit"] == 1


def test_json_lines_with_hundreds_of_keys_keep_the_first_two_hundred(parse: Callable[..., Any]) -> None:
    line = "{" + ",".join(f'"k{n:03d}": {n}' for n in range(300)) + "}"
    record, _ = parse([line])
    [fields] = fields_of(record)
    assert len([key for key in fields if key.startswith("k")]) == 200
    assert '"k299":299' in fields["_overflow"]


def test_logfmt_lines_state_their_time(parse: Callable[..., Any]) -> None:
    record, _ = parse([f"time={ISO_HOUR_AGO} level=info msg=done", "ts=1709290800 msg=epoch seconds"])
    assert millis(record) == [MS - HOUR, MS - HOUR]
