"""Grok patterns (parse.grok): the library matches what its names promise, in RE2, and
`%{NAME:field:type}` becomes named groups with conversions."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.core.errors import BadRequest
from timberyard.parse.format import LineFormat, extract
from timberyard.parse.grok import DESCRIPTIONS, PATTERNS, GrokError, compile_grok

REQUIRED = (
    "IP IPV4 IPV6 HOSTNAME NUMBER INT BASE10NUM WORD NOTSPACE DATA GREEDYDATA QUOTEDSTRING UUID PATH URIPATH URI "
    "TIMESTAMP_ISO8601 HTTPDATE LOGLEVEL EMAILADDRESS MAC USER"
).split()


def whole(name: str, values: list[str]) -> list[bool]:
    """Which of `values` the pattern NAME matches entirely."""
    regex = compile_grok(f"^(?:%{{{name}}})$").regex
    return pc.match_substring_regex(pa.array(values, pa.string()), regex).to_pylist()  # type: ignore[no-any-return]


def test_the_library_has_the_promised_patterns_each_described_and_each_valid_re2() -> None:
    assert set(REQUIRED) <= set(PATTERNS)
    assert set(DESCRIPTIONS) == set(PATTERNS)
    for name in PATTERNS:
        pc.match_substring_regex(pa.array(["x"]), compile_grok(f"%{{{name}}}").regex)  # raises if RE2 refuses it


@pytest.mark.parametrize(
    ("name", "matching", "not_matching"),
    [
        ("IPV4", ["10.0.0.1", "255.255.255.255", "0.0.0.0"], ["256.1.1.1", "1.2.3", "1.2.3.4.5", "a.b.c.d"]),
        ("IPV6", ["::1", "2001:db8::8a2e:370:7334", "fe80::1%eth0", "::ffff:192.168.1.1", "1:2:3:4:5:6:7:8"],
         ["12:30:45", "1:2:3:4:5:6:7:8:9", "gggg::1", "2001:db8:::1"]),
        ("IP", ["10.1.2.3", "::1"], ["10.1.2", "host"]),
        ("HOSTNAME", ["web-1", "db.internal.example.com", "example.com."], ["-web", "a_b", "a..b"]),
        ("NUMBER", ["42", "-1.5", "+3.", ".5", "6.02e23"], ["1,5", "e5", "--1", "0x10"]),
        ("INT", ["0", "-12", "+7"], ["1.5", "12a"]),
        ("BASE10NUM", ["3.14", "-0.5"], ["1e5"]),
        ("WORD", ["hello_world42"], ["two words", "dash-ed"]),
        ("NOTSPACE", ["a/b?c=d"], ["a b", ""]),
        ("QUOTEDSTRING", ['"a \\" b"', "'single'", "`back`"], ['"open', "none"]),
        ("UUID", ["123e4567-e89b-12d3-a456-426614174000"], ["123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400"]),
        ("PATH", ["/var/log/app.log", "C:\\Windows\\System32"], ["var/log"]),
        ("URIPATH", ["/api/v1/items", "/"], ["api/v1", "/a b"]),
        ("URI", ["https://example.com/a?b=c", "postgres://bob:pw@db:5432/app", "ftp://10.0.0.1:21"], ["example.com/a", "://x"]),
        ("TIMESTAMP_ISO8601", ["2024-03-01T12:00:00Z", "2024-03-01 12:00:00.123+01:00", "2024-03-01T12:00"], ["2024/03/01 12:00", "2024-13-01T00:00:00Z"]),
        ("HTTPDATE", ["01/Mar/2024:12:00:00 +0000", "31/Dec/1999:23:59:59 -0700"], ["2024-03-01 12:00:00", "01/Foo/2024:12:00:00 +0000"]),
        ("LOGLEVEL", ["INFO", "warning", "Err", "CRITICAL", "trace"], ["informal", "loud"]),
        ("EMAILADDRESS", ["bob@example.com", "a.b+tag@sub.example.co.uk"], ["bob@", "@example.com", "bob example.com"]),
        ("MAC", ["00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e"], ["00:1a:2b:3c:4d", "gg:1a:2b:3c:4d:5e"]),
        ("USER", ["bob.smith-2"], ["bob smith", "bob@x"]),
        ("DATA", ["", "anything at all"], []),
        ("GREEDYDATA", ["multi\nline"], []),
    ],
)
def test_library_patterns_match_what_their_names_say(name: str, matching: list[str], not_matching: list[str]) -> None:
    assert whole(name, matching) == [True] * len(matching)
    assert whole(name, not_matching) == [False] * len(not_matching)


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses(v=4))
def test_every_ipv4_address_matches_ipv4_and_ip(address: ipaddress.IPv4Address) -> None:
    assert whole("IPV4", [str(address)]) == [True]
    assert whole("IP", [str(address)]) == [True]


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=6))
def test_every_ipv6_address_matches_ipv6_compressed_or_exploded(address: ipaddress.IPv6Address) -> None:
    assert whole("IPV6", [str(address), address.exploded]) == [True, True]


@settings(max_examples=100, deadline=None)
@given(st.uuids())
def test_every_uuid_matches(value: uuid.UUID) -> None:
    assert whole("UUID", [str(value), str(value).upper()]) == [True, True]


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31)), st.integers(-12 * 60, 14 * 60))
def test_iso_timestamps_and_http_dates_match(moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    assert whole("TIMESTAMP_ISO8601", [moment.isoformat(), aware.isoformat(), moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")]) == [True] * 3
    assert whole("HTTPDATE", [aware.strftime("%d/%b/%Y:%H:%M:%S %z")]) == [True]


def test_fields_become_named_groups_with_types() -> None:
    grok = compile_grok("%{IP:client} %{WORD:request.method} %{NUMBER:bytes:int} %{NUMBER:ratio:float} %{WORD:ok:bool}")
    assert grok.fields == ("client", "request.method", "bytes", "ratio", "ok")
    assert grok.kinds == {"bytes": "int", "ratio": "float", "ok": "bool"}
    fmt = LineFormat("test", grok.regex, kinds=grok.kinds, absent=frozenset())
    found = extract(fmt, pa.array(["10.0.0.1 GET 512 0.25 true", "no match here"]), 0)
    assert found.matched.to_pylist() == [True, False]
    assert {path: values.to_pylist() for path, values in found.fields.items()} == {
        "client": ["10.0.0.1", None],
        "request.method": ["GET", None],
        "bytes": [512, None],
        "ratio": [0.25, None],
        "ok": [True, None],
    }


def test_logstash_bracket_paths_and_custom_definitions() -> None:
    grok = compile_grok("order %{ORDERID:[order][id]} by %{USER:user}", {"ORDERID": "[A-Z]{3}-[0-9]+"})
    assert grok.fields == ("order.id", "user")
    found = pc.extract_regex(pa.array(["order ABC-42 by bob"]), grok.regex)
    assert found.to_pylist() == [{"order__id": "ABC-42", "user": "bob"}]


def test_composite_apache_pattern_keeps_its_fields() -> None:
    grok = compile_grok("%{COMBINEDAPACHELOG}")
    line = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "http://example.com/" "Mozilla/4.08"'
    found = pc.extract_regex(pa.array([line]), grok.regex).to_pylist()[0]
    assert found["clientip"] == "127.0.0.1" and found["response"] == "200" and found["agent"] == '"Mozilla/4.08"'
    assert grok.kinds == {"response": "int", "bytes": "int"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("%{IPV:client}", "unknown grok pattern %{IPV}; did you mean IPV6 or IPV4"),
        ("%{NOPE}", "unknown grok pattern %{NOPE}"),
        ("%{NUMBER:bytes:long}", "unknown type 'long'"),
        ("%{NUMBER::int}", "gives a type but no field"),
        ("%{IP:1client}", "'1client' is not a field name"),
        ("%{IP:a__b}", "'a__b' is not a field name"),
        ("%{IP:client} %{IP:client}", "the field client is captured twice"),
        ("%{IP:client", "is not closed"),
        ("%{IP:a:int:x}", "too many parts"),
    ],
)
def test_mistakes_are_400s_that_name_them(text: str, message: str) -> None:
    with pytest.raises(GrokError) as caught:
        compile_grok(text)
    assert message in caught.value.message
    assert caught.value.status == 400


def test_definitions_that_refer_to_themselves_or_are_misnamed_are_refused() -> None:
    with pytest.raises(GrokError, match="refers to itself"):
        compile_grok("%{A}", {"A": "x%{B}", "B": "%{A}"})
    with pytest.raises(GrokError, match="not a pattern name"):
        compile_grok("%{a}", {"a": "x"})


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("%{}:.[]AIPVNUMBERWORD_abc12 ")), max_size=40), st.dictionaries(st.text(max_size=6), st.text(max_size=10), max_size=2))
def test_compiling_any_text_raises_nothing_but_a_400(text: str, definitions: dict[str, str]) -> None:
    try:
        compile_grok(text, definitions)
    except BadRequest as exc:
        assert exc.status == 400 and exc.message
