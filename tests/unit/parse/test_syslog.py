"""Syslog messages (parse.syslog): the rules the corpus does not pin one by one, and fuzzing of
the message reader and the STRUCTURED-DATA reader."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from timberyard.parse.structured_data import LOGDNA_SD_ID, Element, structured_data
from timberyard.parse.syslog import read_messages


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def read(*texts: str, received: str = "2025-06-14T12:00:00"):  # type: ignore[no-untyped-def]
    return read_messages(pa.array(list(texts), pa.string()), ms(received))


# -- time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "received", "expected"),
    [
        ("<13>Dec 31 23:59:59 web01 app: year end", "2025-01-01T00:00:05", "2024-12-31T23:59:59"),
        ("<13>Jan  1 00:00:01 web01 app: a clock a little fast", "2024-12-31T23:59:59", "2025-01-01T00:00:01"),
        ("<166>Dec 31 2024 23:59:59: %ASA-6-302013: Built", "2025-01-01T00:00:05", "2024-12-31T23:59:59"),
        ("<189>1: *Dec 31 23:59:59.999: %SYS-5-CONFIG_I: Configured", "2025-01-01T00:00:05", "2024-12-31T23:59:59.999"),
    ],
)
def test_a_time_without_a_year_lands_in_the_right_year(message: str, received: str, expected: str) -> None:
    assert read(message, received=received).ts.to_pylist() == [ms(expected)]


def test_an_ambiguous_or_unknown_zone_is_no_time_rather_than_a_wrong_one() -> None:
    messages = read("<187>1: Jun 14 11:59:59.123 CST: %LINK-3-UPDOWN: down", "<187>2: Jun 14 11:59:59.123 XYZ: %LINK-3-UPDOWN: down")
    assert messages.ts.to_pylist() == [None, None]
    assert messages.app.to_pylist() == ["LINK", "LINK"]


# -- structured data and the LogDNA key -----------------------------------------------------


def test_the_ingestion_key_and_tags_are_taken_out_and_stored_nowhere() -> None:
    messages = read('<13>1 2025-06-14T11:59:59Z web01 app - - [logdna@48950 key="SECRET-KEY" tags="a,b"][m x="1"] hello')
    assert messages.keys == {0: "SECRET-KEY"} and messages.tags == {0: ["a", "b"]}
    assert "SECRET-KEY" not in str(messages.fields) and "SECRET-KEY" not in messages.line[0].as_py()
    assert messages.fields == [{"syslog.facility": "user", "x": 1}]


@pytest.mark.parametrize(
    ("text", "elements"),
    [
        ('[a b="1"]', [Element("a", (("b", "1"),), '[a b="1"]')]),
        ('[a b="q\\"uote" c="br\\]acket" d="back\\\\slash" e="C:\\Win"][z]', [
            Element("a", (("b", 'q"uote'), ("c", "br]acket"), ("d", "back\\slash"), ("e", "C:\\Win")), '[a b="q\\"uote" c="br\\]acket" d="back\\\\slash" e="C:\\Win"]'),
            Element("z", (), "[z]"),
        ]),
        ('[a b="1"] message', [Element("a", (("b", "1"),), '[a b="1"]')]),
        ('[a b="unclosed]', []),
        ('[a b=unquoted]', []),
        ('[a b="1"][broken', [Element("a", (("b", "1"),), '[a b="1"]')]),
        ("-", []),
        ("", []),
    ],
)
def test_structured_data_elements(text: str, elements: list[Element]) -> None:
    assert structured_data(text) == elements


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from('[]="\\ ab@1é\n'), max_size=80))
@example('[a b="\\')
def test_structured_data_never_raises_and_reads_only_what_it_saw(text: str) -> None:
    for element in structured_data(text):
        assert element.text in text and element.text.startswith("[") and element.text.endswith("]")


def test_structured_data_is_linear_in_its_length() -> None:
    hostile = "[a" + ' b="' + "\\" * 200_000 + "x" * 200_000
    started = time.perf_counter()
    structured_data(hostile)
    assert time.perf_counter() - started < 1.0


def test_logdna_is_the_sd_id_of_the_key() -> None:
    assert LOGDNA_SD_ID == "logdna@48950"


# -- what the reader never does ------------------------------------------------------------

_SYSLOGISH = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda pri, rest: f"<{pri}>{rest}",
        st.integers(min_value=0, max_value=999),
        st.text(alphabet=st.sampled_from("1 -[]=\"\\:%ABCZaz09TJunMar.@+\ufeff\t"), max_size=120),
    ),
    st.builds(
        lambda pri, sd, msg: f"<{pri}>1 2025-06-14T11:59:59Z host app - - {sd} {msg}",
        st.integers(min_value=0, max_value=191),
        st.text(alphabet=st.sampled_from('[]="\\ ab@1'), max_size=60),
        st.text(max_size=40),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_SYSLOGISH, min_size=1, max_size=12))
@example(["<13>", "", "<13>1", "<191>1 - - - - - -", "\x00", "<13>Jun 14 11:59:59"])
@example(["\ufeff", "\ufeffplain text"])  # a lone BOM is not a syslog header: kept whole
def test_any_text_is_read_without_error_one_value_per_message(texts: list[str]) -> None:
    messages = read(*texts)
    for column in (messages.line, messages.host, messages.app, messages.level, messages.ts):
        assert len(column) == len(texts)
    assert len(messages.fields) == len(texts) and len(messages.unparsed) == len(texts)
    for text, line, unparsed in zip(texts, messages.line.to_pylist(), messages.unparsed):
        assert line is not None
        if unparsed:
            assert line == text  # kept whole
    for row, key in messages.keys.items():
        assert key not in str(messages.fields[row])


def test_messages_of_every_kind_in_one_batch_keep_their_order() -> None:
    texts = [
        "<13>1 2025-06-14T11:59:59Z a app - - - five424",
        "<13>Jun 14 11:59:59 b app: three164",
        "<13>2025-06-14T11:59:59Z c app: iso",
        "<190>1 2025-06-14T11:59:59Z d app web.1 - heroku",
        "<166>%ASA-6-302013: asa",
        "<13>bare",
        "plain",
    ]
    messages = read(*texts)
    assert messages.line.to_pylist() == ["five424", "three164", "iso", "heroku", "%ASA-6-302013: asa", "bare", "plain"]
    assert messages.host.to_pylist() == ["a", "b", "c", "d", "", "", ""]
    assert messages.unparsed.tolist() == [False] * 6 + [True]
