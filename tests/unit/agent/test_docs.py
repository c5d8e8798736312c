"""docs/agent.md documents every agent setting and every metric the agent exports."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from timberyard.agent.config import AgentConfig, FileInput
from timberyard.agent.metrics import COUNTERS, Metrics
from timberyard.agent.outbox import Outbox
from timberyard.agent.tailer import Tailer

DOC = (Path(__file__).resolve().parents[3] / "docs" / "agent.md").read_text()
TABLE = "\n".join(line for line in DOC.splitlines() if line.startswith("| `"))


@pytest.mark.parametrize("name", [field.name for field in dataclasses.fields(AgentConfig)])
def test_every_setting_is_in_the_settings_table(name: str) -> None:
    assert f"`{name}`" in TABLE


@pytest.mark.parametrize("name", [field.name for field in dataclasses.fields(FileInput)])
def test_every_files_key_is_documented(name: str) -> None:
    assert name in TABLE.split("| `files` |")[1].split("\n")[0]


def test_every_metric_is_documented(tmp_path: Path) -> None:
    from timberyard.agent.state import State

    metrics = Metrics()
    state = State(tmp_path / "state")
    Tailer(AgentConfig(server="http://node:1", key="k"), state, metrics)
    Outbox(lambda checkpoints: None, metrics, tmp_path / "spool", 1024)
    counters = re.search(r"timberyard_agent_\{([^}]*)\}_total", DOC)
    gauges = re.search(r"gauges `timberyard_agent_\{([^}]*)\}`", DOC)
    assert counters and gauges
    assert set(counters.group(1).split(",")) == set(COUNTERS)
    assert set(gauges.group(1).split(",")) == set(metrics.gauges)
