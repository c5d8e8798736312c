"""The Python side of the tables the web UI's JavaScript is held to (tests/conformance/, read
by tests/js/*.test.mjs as well): what the UI writes, the server reads back as meant."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from unit.web.ui_tables import HIGHLIGHT, highlight_table, render

from timberyard.search import parse
from timberyard.search.ast import Field, FieldIn, FieldMatch
from timberyard.search.timeparse import parse_range

CONFORMANCE = Path(__file__).resolve().parents[2] / "conformance"
QUERY_VALUES = json.loads((CONFORMANCE / "query_values.json").read_text(encoding="utf-8"))["cases"]
TIME_TEXT = json.loads((CONFORMANCE / "time_text.json").read_text(encoding="utf-8"))["cases"]


def test_the_highlight_table_is_the_search_tables_term_and_phrase_cases() -> None:
    assert HIGHLIGHT.read_text(encoding="utf-8") == render(highlight_table()), (
        "tests/conformance/highlight.json is behind the search conformance table: "
        "run .venv/bin/python tests/unit/web/ui_tables.py"
    )
    assert len(highlight_table()["cases"]) >= 80


@pytest.mark.parametrize(("value", "quoted", "sidebar", "filter_on"), QUERY_VALUES)
def test_the_server_reads_back_the_values_the_ui_writes(value: str, quoted: str, sidebar: str, filter_on: str) -> None:
    app = Field(kind="column", name="app")
    assert parse(f"app:{quoted}") == FieldMatch(app, "prefix", value)
    assert parse(sidebar) == FieldIn(app, (value, "api"))
    read = parse(filter_on)
    assert isinstance(read, FieldMatch) and read.field.path == ("user", "id") and read.value == value


def test_the_value_table_covers_the_characters_that_need_care() -> None:
    values = "".join(value for value, *_ in QUERY_VALUES)
    assert all(char in values for char in ' "\\,[]():\t\'')


@pytest.mark.parametrize(("start", "end", "zone", "text"), TIME_TEXT)
def test_the_server_reads_the_range_the_ui_shows(start: int, end: int, zone: str, text: str) -> None:
    assert parse_range(text, now=datetime(2026, 12, 1, tzinfo=UTC), tz=ZoneInfo(zone)) == (start, end)
