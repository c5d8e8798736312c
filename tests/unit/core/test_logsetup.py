"""The node's own log lines: readable text for a person at a terminal, JSON for everything else."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from timberyard.core.errors import ConfigError
from timberyard.core.logsetup import configure_logging


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def emit(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, fmt: str) -> str:
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("info", fmt)
    logging.getLogger("timberyard.server").info("node ready", extra={"url": "http://127.0.0.1:7080/", "note": "two words", "n": 3})
    return stream.getvalue()


def test_auto_is_text_with_the_records_fields_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    line = emit(monkeypatch, Terminal(), "auto")
    assert line.endswith(' INFO timberyard.server: node ready url=http://127.0.0.1:7080/ note="two words" n=3\n'), line


def test_auto_is_json_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = json.loads(emit(monkeypatch, io.StringIO(), "auto"))
    assert (entry["msg"], entry["url"], entry["note"], entry["n"]) == ("node ready", "http://127.0.0.1:7080/", "two words", 3)


def test_a_chosen_format_wins_over_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    assert json.loads(emit(monkeypatch, Terminal(), "json"))["url"] == "http://127.0.0.1:7080/"
    assert "node ready url=" in emit(monkeypatch, io.StringIO(), "text")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ConfigError, match="log_format must be one of auto, json, text, got 'yaml'"):
        configure_logging("info", "yaml")
