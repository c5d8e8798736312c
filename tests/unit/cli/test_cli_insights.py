"""`timberyard insights templates` prints the API's answer as tables people can read (or as the
JSON itself), with the lines' text made safe for a terminal. The node is a stand-in here; the
e2e test of the Insights page runs the command against a real node."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from timberyard.cli import insights as cli_insights
from timberyard.cli import main

ANSWER = {
    "window": {"since": 1795766400000, "until": 1795770000000, "from": 1795766400000, "to": 1795770000000,
               "before_from": 1795762800000, "bucket_ms": 60000, "buckets": 3},
    "new": [{"id": "9217345110243876044", "app": "billing", "text": "payment \x1b[31mdeclined[/] for <*>",
             "first_seen": 1795766460000, "lines": 30, "per_minute": 0.5, "levels": {"error": 30}, "sparkline": [0, 10, 20]}],
    "growing": [],
}  # fmt: skip


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def client(server: str, key: str) -> Iterator[Any]:
        def request(method: str, path: str, params: dict[str, Any]) -> Any:
            calls.append({"method": method, "path": path, **params})
            return SimpleNamespace(json=lambda: ANSWER)

        yield SimpleNamespace(request=request)

    monkeypatch.setattr(cli_insights, "_client", client)
    return calls


def test_the_tables_show_each_template_with_its_sparkline_and_inert_text(asked: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(main, ["insights", "templates", "--key", "k", "--since", "today 14:05"])
    assert result.exit_code == 0, result.output
    assert asked == [{"method": "GET", "path": "/api/v1/insights/templates", "since": "today 14:05", "until": "now",
                      "limit": 20, "min_lines": 10, "min_ratio": 3.0}]  # fmt: skip
    assert "payment \\x1b[31mdeclined[/] for <*>" in result.output and "\x1b" not in result.output
    assert "▁▅█" in result.output and "9217345110243876044" in result.output and "error 30" in result.output
    assert "Growing templates: none" in result.output


def test_json_prints_the_answer_as_it_came(asked: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(main, ["insights", "templates", "--key", "k", "--json", "--min-ratio", "5"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == ANSWER and asked[0]["min_ratio"] == 5.0


def test_sparklines_scale_to_the_highest_count() -> None:
    assert cli_insights.sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert cli_insights.sparkline([0, 0]) == "▁▁" and cli_insights.sparkline([]) == ""
