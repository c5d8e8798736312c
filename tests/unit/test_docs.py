"""Docs are part of the feature: every setting, route and command must be documented."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from starlette.routing import Route, WebSocketRoute

from timberyard.cli import main
from timberyard.config.settings import option_names
from timberyard.web.app import build_app

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
API_DOC = (ROOT / "docs" / "api.md").read_text()


@pytest.mark.parametrize("name", option_names())
def test_every_setting_is_in_the_readme_table(name: str) -> None:
    assert f"| `{name}` |" in README


@pytest.mark.parametrize("path", sorted({r.path for r in build_app(node=None).routes if isinstance(r, Route | WebSocketRoute)}))
def test_every_route_is_in_the_api_doc(path: str) -> None:
    assert path in API_DOC


def _commands(group: click.Group, prefix: str = "timberyard") -> list[str]:
    found = []
    for name, command in group.commands.items():
        found.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix} {name}"))
    return found


@pytest.mark.parametrize("command", _commands(main))
def test_every_cli_command_is_in_the_readme(command: str) -> None:
    top = command.split()
    # Subcommands are documented as `timberyard keys list|create|revoke`.
    assert command in README or (len(top) == 3 and f"timberyard {top[1]} " in README and top[2] in README)
