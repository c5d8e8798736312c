"""LogDNA's ingestion body (ingest.logdna): decoding with precise errors, and what the pipeline's
stages make of the decoded lines (the durable record)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from timberyard.core.errors import BadRequest
from timberyard.core.records import FIELDS as FIELDS_COLUMN
from timberyard.core.records import RECORD_SCHEMA
from timberyard.ingest.logdna import Request, decode, decode_lines
from timberyard.ingest.stages import Context, process
from timberyard.parse.levels import normalise_level
from unit.ingest.conftest import HOUR, MS, column, fields_of, millis

MARKER = re.compile(r" \[timberyard: truncated (\d+) bytes\]$")
FIXTURES = [HealthCheck.function_scoped_fixture]


@pytest.fixture
def ingest(account: str, context: Callable[..., Context]) -> Callable[..., tuple[pa.RecordBatch, Any]]:
    """Decode a body and run it through the stages; returns the record and the problems."""

    def run(body: object, *, now: int | None = None, tags: tuple[str, ...] = (), ip: str = "", mac: str = "", **changes: Any):
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        request = Request(account=account, hostname="query-host", ip=ip, mac=mac, tags=tags, client_now_ms=now)
        batch = decode(raw, request)
        return process(batch, context(**changes)), batch.problems

    return run


# --- decode_lines -------------------------------------------------------------------------


def test_decodes_the_lines_envelope() -> None:
    lines = decode_lines(b'{"lines": [{"line": "one", "app": "web"}, {"line": "two"}]}')
    assert [(item.line, item.app) for item in lines] == [("one", "web"), ("two", None)]


def test_decodes_the_ls_envelope_of_the_official_libraries() -> None:
    lines = decode_lines(b'{"e": "ls", "ls": [{"line": "one", "level": "INFO", "timestamp": 1709294400000}]}')
    assert [(item.line, item.level, item.timestamp) for item in lines] == [("one", "INFO", MS)]


def test_lines_wins_over_ls_and_null_lines_falls_back_to_ls() -> None:
    assert [i.line for i in decode_lines(b'{"lines": [{"line": "a"}], "ls": [{"line": "b"}]}')] == ["a"]
    assert [i.line for i in decode_lines(b'{"lines": null, "ls": [{"line": "b"}]}')] == ["b"]


def test_an_empty_lines_array_is_no_lines() -> None:
    assert decode_lines(b'{"lines": []}') == []


def test_unknown_fields_are_ignored() -> None:
    body = b'{"lines": [{"line": "a", "extra": {"x": [1, null]}, "pid": 4}], "version": 2, "ls2": []}'
    assert [item.line for item in decode_lines(body)] == ["a"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"lines": [{"app": "x"}]}', "invalid body: Object missing required field `line` - at `$.lines[0]`"),
        (b'{"lines": [{"line": "ok"}, {"line": 1}]}', "invalid body: Expected `str`, got `int` - at `$.lines[1].line`"),
        (b'{"ls": [{"line": null}]}', "invalid body: Expected `str`, got `null` - at `$.ls[0].line`"),
        (b'{"lines": "x"}', "invalid body: Expected `array | null`, got `str` - at `$.lines`"),
        (b'{"lines": [1]}', "invalid body: Expected `object`, got `int` - at `$.lines[0]`"),
        (b'{"lines": [{"line": "a", "timestamp": true}]}', "got `bool` - at `$.lines[0].timestamp`"),
        (b'{"lines": [{"line": "a", "tags": 5}]}', "got `int` - at `$.lines[0].tags`"),
        (b'{"lines": [{"line": "a", "label": {"k": 1}}]}', "Expected `str`, got `int` - at `$.lines[0].label[...]`"),
        (b'{"lines": [{"line": "a", "app": ["x"]}]}', "got `array` - at `$.lines[0].app`"),
        (b"[]", "invalid body: Expected `object`, got `array`"),
        (b'"lines"', "invalid body: Expected `object`, got `str`"),
        (b"null", "invalid body: Expected `object`, got `null`"),
        (b"42", "invalid body: Expected `object`, got `int`"),
        (b'{"lines": [', "malformed JSON: "),
        (b"", "malformed JSON: "),
        (b"{lines: []}", "malformed JSON: "),
        (b'{"lines": [{"line": "a"}]} trailing', "malformed JSON: "),
        (b"{}", 'the body has no lines: send {"lines": [{"line": "..."}]}'),
        (b'{"e": "ls"}', "the body has no lines"),
    ],
)
def test_bad_bodies_are_precise_bad_requests(body: bytes, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_lines(body)
    assert message in caught.value.message
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "body",
    [
        b'{"lines": [{"line": "\xff"}]}',  # invalid UTF-8 inside a string
        b'{"lines": [{"line": "caf\xc3"}]}',  # a truncated two-byte sequence
        b'{"lines": [{"line": "\xed\xa0\x80"}]}',  # an encoded surrogate
    ],
)
def test_invalid_utf8_is_a_bad_request(body: bytes) -> None:
    with pytest.raises(BadRequest):
        decode_lines(body)


@given(st.binary(max_size=300))
@example(b'{"lines": [{"line": "\xff"}]}')
@example(b'{"lines": [{"line": "\\ud800"}]}')
@example(b'{"lines": [{"line": "a", "meta": "\\udc00"}]}')
@settings(max_examples=500, deadline=None)
def test_arbitrary_bytes_decode_or_raise_only_bad_request(body: bytes) -> None:
    try:
        lines = decode_lines(body)
    except BadRequest:
        return
    assert isinstance(lines, list)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["line", "timestamp", "app", "level", "env", "file", "host", "hostname", "meta", "label", "annotation", "tags"]
JSON_LINE = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), JSON, max_size=6)


@given(st.lists(JSON_LINE | JSON, max_size=5), st.sampled_from(["lines", "ls"]))
@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURES)
def test_json_structures_decode_or_raise_bad_request(ingest: Callable[..., Any], items: list, key: str) -> None:
    body = json.dumps({key: items}).encode()
    try:
        lines = decode_lines(body)
    except BadRequest:
        return
    assert len(lines) == len(items)
    try:
        record, _ = ingest(body)
    except BadRequest as exc:  # only meta that is neither an object, a string nor null
        assert "meta must be an object or a JSON string" in exc.message
        return
    assert record.num_rows == len(items)


# --- the record -----------------------------------------------------------------------------


def test_the_record_has_the_record_schema_and_request_columns(ingest: Callable[..., Any], account: str) -> None:
    record, problems = ingest({"lines": [{"line": "a"}, {"line": "b"}, {"line": "c"}]}, ip="10.0.0.7", mac="aa:bb:cc:dd:ee:ff", retention_days=90, first_id=7)
    assert record.schema.names == [*RECORD_SCHEMA.names, FIELDS_COLUMN]
    assert record.num_rows == 3
    assert column(record, "account") == [account] * 3
    assert column(record, "id") == [7, 8, 9]
    assert column(record, "ingester") == ["http"] * 3
    assert column(record, "ip") == ["10.0.0.7"] * 3
    assert column(record, "mac") == ["aa:bb:cc:dd:ee:ff"] * 3
    assert column(record, "retention_days") == [90] * 3
    assert column(record, "stored") == [True] * 3
    assert column(record, "line") == ["a", "b", "c"]
    assert problems.counts == {}


def test_an_empty_body_is_an_empty_record(ingest: Callable[..., Any]) -> None:
    record, _ = ingest({"lines": []})
    assert record.num_rows == 0


def test_ids_are_consecutive_from_first_id(ingest: Callable[..., Any]) -> None:
    first = (1_709_294_400_000 << 20) + 5
    record, _ = ingest({"lines": [{"line": str(n)} for n in range(50)]}, first_id=first)
    assert column(record, "id") == list(range(first, first + 50))


@pytest.mark.parametrize(
    ("fields", "host"),
    [
        ({"hostname": "line-hostname", "host": "line-host"}, "line-hostname"),
        ({"host": "line-host"}, "line-host"),
        ({"hostname": "line-hostname"}, "line-hostname"),
        ({}, "query-host"),
        ({"hostname": "", "host": "line-host"}, "line-host"),
        ({"hostname": "", "host": ""}, "query-host"),
        ({"hostname": None, "host": None}, "query-host"),
    ],
)
def test_host_precedence(ingest: Callable[..., Any], fields: dict, host: str) -> None:
    record, _ = ingest({"lines": [{"line": "x", **fields}]})
    assert column(record, "host") == [host]


def test_optional_text_fields_default_to_empty(ingest: Callable[..., Any]) -> None:
    record, _ = ingest({"lines": [{"line": "x"}, {"line": "y", "app": "api", "env": "prod", "file": "/var/log/api.log"}]})
    assert column(record, "app") == ["", "api"]
    assert column(record, "env") == ["", "prod"]
    assert column(record, "file") == ["", "/var/log/api.log"]


@pytest.mark.parametrize(
    ("given_level", "stored"),
    [
        (None, "ERROR"),  # detected from the text
        ("", "ERROR"),
        ("   ", "ERROR"),
        ("ERROR", "ERROR"),
        ("warning", "WARN"),
        ("Err", "ERROR"),
        (" crit ", "CRITICAL"),
        ("panic", "FATAL"),
        ("verbose", "VERBOSE"),
    ],
)
def test_sender_levels_are_canonical_and_missing_ones_detected(ingest: Callable[..., Any], given_level: str | None, stored: str) -> None:
    record, _ = ingest({"lines": [{"line": "an ERROR in the text", "level": given_level}]})
    assert column(record, "level") == [stored]


@given(st.text(min_size=1).filter(lambda level: level.strip()))
@settings(deadline=None, suppress_health_check=FIXTURES)
def test_sender_levels_follow_normalise_level(ingest: Callable[..., Any], level: str) -> None:
    record, _ = ingest({"lines": [{"line": "x", "level": level}]})
    assert column(record, "level") == [normalise_level(level)]


@pytest.mark.parametrize(
    ("line_tags", "tags"),
    [
        (None, ["req-a", "req-b"]),
        ("", ["req-a", "req-b"]),
        ([], ["req-a", "req-b"]),
        ("web, blue", ["req-a", "req-b", "web", "blue"]),
        ("web,,web, req-a ,", ["req-a", "req-b", "web"]),
        (["web", " blue ", "", "req-b"], ["req-a", "req-b", "web", "blue"]),
    ],
)
def test_tags_merge_request_and_line_tags(ingest: Callable[..., Any], line_tags: object, tags: list[str]) -> None:
    record, _ = ingest({"lines": [{"line": "x", "tags": line_tags}]}, tags=("req-a", "req-b"))
    assert column(record, "tags") == [tags]


def test_line_tags_without_request_tags(ingest: Callable[..., Any]) -> None:
    record, _ = ingest({"lines": [{"line": "x", "tags": "a,b"}, {"line": "y"}]})
    assert column(record, "tags") == [["a", "b"], []]


def test_forty_thousand_tags_take_linear_time(ingest: Callable[..., Any]) -> None:
    import time

    tags = [f"tag-{n}" for n in range(40_000)]
    started = time.perf_counter()
    record, _ = ingest({"lines": [{"line": "x", "tags": tags}]}, tags=("t",))
    assert time.perf_counter() - started < 2  # quadratic merging took 12 s
    assert column(record, "tags")[0][:3] == ["t", "tag-0", "tag-1"]


def test_meta_forms(ingest: Callable[..., Any]) -> None:
    body = {
        "lines": [
            {"line": "object", "meta": {"user": {"id": 7}, "ok": True}},
            {"line": "json string", "meta": '{"user": {"id": 7}}'},
            {"line": "absent"},
            {"line": "null", "meta": None},
            {"line": "plain string", "meta": "not json"},
            {"line": "string holding an array", "meta": "[1, 2]"},
            {"line": "string holding a number", "meta": "5"},
        ]
    }
    record, problems = ingest(body)
    assert fields_of(record) == [
        {"user": {"id": 7}, "ok": True},
        {"user": {"id": 7}},
        {},
        {},
        {"_unparsed": "not json"},
        {"_unparsed": "[1, 2]"},
        {"_unparsed": "5"},
    ]
    assert problems.counts["bad_meta"] == 3
    assert any("line 4" in sample and "_unparsed" in sample for sample in problems.samples)


def test_meta_values_keep_their_json_types(ingest: Callable[..., Any]) -> None:
    record, _ = ingest(b'{"lines": [{"line": "x", "meta": {"b": 1, "f": 1.5, "t": true, "s": "\\u00e9", "a": [1.50, "x"], "n": null}}]}')
    assert fields_of(record) == [{"a": [1.5, "x"], "b": 1, "f": 1.5, "s": "é", "t": True}]


@pytest.mark.parametrize(
    "meta",
    [
        b'{"a": 1e400}',  # valid JSON, but no double holds it: it used to be stored and break every read
        b'{"a": -1e400}',
    ],
)
def test_meta_no_reader_could_load_is_kept_as_text(ingest: Callable[..., Any], meta: bytes) -> None:
    record, problems = ingest(b'{"lines": [{"line": "x", "meta": ' + meta + b"}]}")
    assert fields_of(record) == [{"_unparsed": meta.decode()[:32 * 1024]}]
    assert problems.counts["bad_meta"] == 1


def test_meta_nested_hundreds_deep_is_kept_as_text_and_thousands_deep_is_a_bad_request(ingest: Callable[..., Any]) -> None:
    record, _ = ingest(b'{"lines": [{"line": "x", "meta": ' + b'{"a":' * 600 + b"1" + b"}" * 600 + b"}]}")
    [fields] = fields_of(record)
    assert fields["a"]["a"]["a"].startswith('{"a":{"a":')
    with pytest.raises(BadRequest) as caught:
        ingest(b'{"lines": [{"line": "x", "meta": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}]}")
    assert "nests" in caught.value.message


def test_meta_nested_deeper_than_three_levels_keeps_the_rest_as_text(ingest: Callable[..., Any]) -> None:
    record, _ = ingest({"lines": [{"line": "x", "meta": {"a": {"b": {"c": {"d": {"e": 1}}}}}}]})
    assert fields_of(record) == [{"a": {"b": {"c": '{"d":{"e":1}}'}}}]


@pytest.mark.parametrize("meta", [b"5", b"-1.5", b"true", b"false", b"[1]", b'[{"a": 1}]'])
def test_meta_that_is_not_an_object_or_string_is_a_bad_request(ingest: Callable[..., Any], meta: bytes) -> None:
    body = b'{"lines": [{"line": "ok"}, {"line": "x", "meta": ' + meta + b"}]}"
    with pytest.raises(BadRequest) as caught:
        ingest(body)
    assert caught.value.message == "meta must be an object or a JSON string - at `$.lines[1].meta`"


def test_labels_and_annotations_become_maps(ingest: Callable[..., Any]) -> None:
    body = {"lines": [{"line": "x", "label": {"team": "core", "tier": "1"}, "annotation": {"note": "n"}}, {"line": "y"}]}
    record, _ = ingest(body)
    assert column(record, "labels") == [[("team", "core"), ("tier", "1")], []]
    assert column(record, "annotations") == [[("note", "n")], []]


def test_kubernetes_origin_from_the_container_log_file(ingest: Callable[..., Any]) -> None:
    file = "/var/log/containers/web-7d9f8c-x2v4q_prod_nginx-" + "0123456789abcdef" * 4 + ".log"
    body = {"lines": [{"line": "x", "file": file, "hostname": "node-3"}, {"line": "y", "file": "/var/log/containers/odd.log"}, {"line": "z"}]}
    record, _ = ingest(body)
    assert column(record, "k8s_namespace") == ["prod", "", ""]
    assert column(record, "k8s_pod") == ["web-7d9f8c-x2v4q", "", ""]
    assert column(record, "k8s_container") == ["nginx", "", ""]
    assert column(record, "k8s_node") == ["node-3", "", ""]


# --- timestamps ---------------------------------------------------------------------------


def test_timestamps_in_every_form(ingest: Callable[..., Any]) -> None:
    body = {
        "lines": [
            {"line": "ms", "timestamp": MS - 1000},
            {"line": "s", "timestamp": MS // 1000 - 2},
            {"line": "float s", "timestamp": MS / 1000 - 3.5},
            {"line": "string", "timestamp": str(MS - 4000)},
            {"line": "iso", "timestamp": "2024-03-01T11:59:55Z"},
            {"line": "iso offset", "timestamp": "2024-03-01T12:59:54+01:00"},
            {"line": "none"},
        ]
    }
    record, problems = ingest(body)
    assert millis(record) == [MS - 1000, MS - 2000, MS - 3500, MS - 4000, MS - 5000, MS - 6000, MS]
    assert "bad_timestamps" not in problems.counts


def test_unreadable_timestamps_get_the_receive_time_and_are_counted(ingest: Callable[..., Any]) -> None:
    body = {"lines": [{"line": "a", "timestamp": "yesterday"}, {"line": "b", "timestamp": -5}, {"line": "c", "timestamp": MS - 1}]}
    record, problems = ingest(body)
    assert millis(record) == [MS, MS, MS - 1]
    assert problems.counts["bad_timestamps"] == 2
    assert any("line 0" in sample and "yesterday" in sample for sample in problems.samples)


@pytest.mark.parametrize("drift", [5000, -5000, 0])
def test_drift_correction_with_client_now(ingest: Callable[..., Any], drift: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # The client's clock reads `drift` ms behind ours: its timestamps move forward by `drift`.
    monkeypatch.setattr("timberyard.ingest.logdna.now_ms", lambda: MS)
    body = {"lines": [{"line": "ms", "timestamp": MS - 60_000}, {"line": "none"}]}
    record, _ = ingest(body, now=MS - drift)
    assert millis(record) == [MS - 60_000 + drift, MS]
    body = {"lines": [{"line": "iso", "timestamp": "2024-03-01T11:59:00Z"}, {"line": "bad", "timestamp": "soon"}, {"line": "none"}]}
    record, problems = ingest(body, now=MS - drift)
    assert millis(record) == [MS - 60_000 + drift, MS, MS]
    assert problems.counts["bad_timestamps"] == 1


def test_timestamps_too_far_from_now_are_clamped_to_the_receive_time(ingest: Callable[..., Any]) -> None:
    body = {
        "lines": [
            {"line": "future", "timestamp": MS + 2 * HOUR},
            {"line": "past", "timestamp": MS - 2 * HOUR},
            {"line": "near", "timestamp": MS + HOUR // 2},
            {"line": "edge", "timestamp": MS - HOUR},
        ]
    }
    record, problems = ingest(body, max_skew_ms=HOUR)
    assert millis(record) == [MS, MS, MS + HOUR // 2, MS - HOUR]
    assert problems.counts["clamped_timestamps"] == 2
    assert "bad_timestamps" not in problems.counts


def test_the_skew_is_measured_after_drift_correction(ingest: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # The client's clock is two hours fast and so are its timestamps: corrected, they are recent.
    monkeypatch.setattr("timberyard.ingest.logdna.now_ms", lambda: MS)
    record, problems = ingest({"lines": [{"line": "x", "timestamp": MS + 2 * HOUR - 10}]}, now=MS + 2 * HOUR, max_skew_ms=HOUR)
    assert millis(record) == [MS - 10]
    assert "clamped_timestamps" not in problems.counts


def test_zero_skew_accepts_any_timestamp_within_retention(ingest: Callable[..., Any]) -> None:
    old = 946_684_800_000  # 2000-01-01
    record, problems = ingest(
        {"lines": [{"line": "backfill", "timestamp": old}, {"line": "iso", "timestamp": "2001-01-01T00:00:00Z"}]},
        max_skew_ms=0,
        retention_days=20_000,
    )
    assert millis(record) == [old, 978_307_200_000]
    assert "clamped_timestamps" not in problems.counts


def test_lines_older_than_the_retention_are_not_stored_and_counted(ingest: Callable[..., Any]) -> None:
    record, problems = ingest(
        {"lines": [{"line": "old", "timestamp": MS - 40 * 24 * HOUR}, {"line": "new", "timestamp": MS - HOUR}]},
        max_skew_ms=0,
        retention_days=30,
    )
    assert column(record, "line") == ["new"]
    assert problems.counts["expired_lines"] == 1
    assert any("30-day retention" in sample for sample in problems.samples)


@pytest.mark.parametrize("timestamp", [2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**30])
@pytest.mark.parametrize("skew", [0, 24 * HOUR])
def test_integer_timestamps_beyond_the_readable_range_are_bad_not_a_crash(ingest: Callable[..., Any], timestamp: int, skew: int) -> None:
    body = f'{{"lines": [{{"line": "x", "timestamp": {timestamp}}}]}}'.encode()
    record, problems = ingest(body, max_skew_ms=skew)
    assert millis(record) == [MS]
    assert problems.counts.get("bad_timestamps", 0) + problems.counts.get("clamped_timestamps", 0) == 1


@pytest.mark.parametrize("timestamp", [2**62, 2**62 + 1, 2**63 - 1])
def test_a_lines_timestamp_does_not_depend_on_its_neighbours(ingest: Callable[..., Any], timestamp: int) -> None:
    # Alone, an all-integer batch takes the vectorised path; beside an ISO string it is parsed
    # line by line. Both paths must read the same value the same way.
    alone, alone_problems = ingest({"lines": [{"line": "x", "timestamp": timestamp}]}, max_skew_ms=0)
    mixed, mixed_problems = ingest({"lines": [{"line": "x", "timestamp": timestamp}, {"line": "y", "timestamp": "2024-03-01T12:00:00Z"}]}, max_skew_ms=0)
    assert millis(alone)[0] == millis(mixed)[0]
    assert alone_problems.counts.get("bad_timestamps") == mixed_problems.counts.get("bad_timestamps")


# --- truncation ---------------------------------------------------------------------------


def test_lines_over_the_limit_are_truncated_with_a_marker(ingest: Callable[..., Any]) -> None:
    body = {"lines": [{"line": "a" * 10}, {"line": "b" * 11}, {"line": "c" * 100}, {"line": ""}]}
    record, problems = ingest(body, max_line_bytes=10)
    assert column(record, "line") == [
        "a" * 10,
        "b" * 10 + " [timberyard: truncated 1 bytes]",
        "c" * 10 + " [timberyard: truncated 90 bytes]",
        "",
    ]
    assert problems.counts["truncated_lines"] == 2
    assert any("line 1" in sample and "11 bytes" in sample for sample in problems.samples)


def test_truncation_counts_utf8_bytes_not_characters(ingest: Callable[..., Any]) -> None:
    # 6 characters, 12 bytes: at the limit. 7 characters, 14 bytes: over it.
    record, problems = ingest({"lines": [{"line": "é" * 6}, {"line": "é" * 7}]}, max_line_bytes=12)
    assert column(record, "line")[0] == "é" * 6
    assert column(record, "line")[1].startswith("é" * 6 + " [timberyard: truncated ")
    assert problems.counts["truncated_lines"] == 1


@pytest.mark.parametrize(
    ("text", "limit", "kept"),
    [
        ("é" * 10, 5, "éé"),  # the 5th byte is half of an é
        ("😀" * 3, 6, "😀"),  # 4-byte characters
        ("ab日本語", 6, "ab日"),  # 3-byte characters, cut inside 本
        ("a" + "😀" * 2, 4, "a"),
    ],
)
def test_truncation_cuts_on_a_character_boundary(ingest: Callable[..., Any], text: str, limit: int, kept: str) -> None:
    record, _ = ingest({"lines": [{"line": text}]}, max_line_bytes=limit)
    line = column(record, "line")[0]
    assert MARKER.search(line)
    assert MARKER.sub("", line) == kept
    assert "\ufffd" not in line


@pytest.mark.parametrize(("text", "limit"), [("é" * 10, 5), ("😀" * 3, 6), ("ab日本語", 6)])
def test_the_marker_states_the_bytes_removed(ingest: Callable[..., Any], text: str, limit: int) -> None:
    record, _ = ingest({"lines": [{"line": text}]}, max_line_bytes=limit)
    line = column(record, "line")[0]
    kept = MARKER.sub("", line)
    removed = len(text.encode()) - len(kept.encode())
    assert int(MARKER.search(line).group(1)) == removed


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))), st.integers(min_value=1, max_value=64))
@settings(deadline=None, suppress_health_check=FIXTURES)
def test_truncated_text_is_a_prefix_within_the_limit(ingest: Callable[..., Any], text: str, limit: int) -> None:
    record, problems = ingest({"lines": [{"line": text}]}, max_line_bytes=limit)
    line = column(record, "line")[0]
    if len(text.encode()) <= limit:
        assert line == text
        assert "truncated_lines" not in problems.counts
    else:
        kept = MARKER.sub("", line)
        assert text.startswith(kept)
        assert limit - 3 <= len(kept.encode()) <= limit
        assert problems.counts["truncated_lines"] == 1


# --- the stages never fail on decoded lines --------------------------------------------------

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
TIMESTAMPS = st.none() | st.integers(min_value=0) | st.floats(min_value=0, allow_nan=False, allow_infinity=False) | TEXT | st.integers()
META = st.none() | st.dictionaries(TEXT, TEXT, max_size=3) | TEXT | st.dictionaries(TEXT, TEXT, max_size=3).map(json.dumps)
VALID_LINE = st.fixed_dictionaries(
    {"line": st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)},
    optional={
        "timestamp": TIMESTAMPS,
        "app": TEXT | st.none(),
        "level": TEXT | st.none(),
        "env": TEXT | st.none(),
        "file": TEXT | st.none() | TEXT.map(lambda s: "/var/log/containers/" + s),
        "host": TEXT | st.none(),
        "hostname": TEXT | st.none(),
        "meta": META,
        "label": st.dictionaries(TEXT, TEXT, max_size=3) | st.none(),
        "annotation": st.dictionaries(TEXT, TEXT, max_size=3) | st.none(),
        "tags": TEXT | st.lists(TEXT, max_size=4) | st.none(),
    },
)


@given(
    st.lists(VALID_LINE, max_size=8),
    st.sampled_from(["lines", "ls"]),
    st.integers(min_value=1, max_value=200),
    st.sampled_from([0, HOUR, 24 * HOUR]),
    st.none() | st.integers(min_value=MS - 10 * HOUR, max_value=MS + 10 * HOUR),
)
@example(items=[{"line": "x", "timestamp": 2**63}], key="lines", max_bytes=64, skew=0, client_now=None)
@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURES)
def test_the_stages_never_fail_on_valid_lines(
    ingest: Callable[..., Any], items: list, key: str, max_bytes: int, skew: int, client_now: int | None
) -> None:
    record, problems = ingest(json.dumps({key: items}).encode(), now=client_now, tags=("t",), max_line_bytes=max_bytes, max_skew_ms=skew)
    assert record.schema.names == [*RECORD_SCHEMA.names, FIELDS_COLUMN]
    assert record.num_rows + problems.counts.get("expired_lines", 0) == len(items)
    assert problems.counts.get("truncated_lines", 0) <= len(items)
