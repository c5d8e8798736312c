"""Log text made safe for a terminal: what a line says, never what it would make the terminal do.

A line is data from anyone who can send logs. Printed as is, escape sequences in it could
recolour or hide text, move the cursor, retitle the window or write the clipboard (OSC 52),
and a CR or LF inside it could forge what looks like another entry. So control characters are
shown as escapes (`\\x1b`, `\\r`), and a line's own newlines continue indented under it.
`--raw` and `--json` output stay exact, for pipes and programs.
"""

from __future__ import annotations

import re
from typing import Any

CONTINUATION = "\n    "
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return "\\r" if char == "\r" else f"\\x{ord(char):02x}"


def terminal_safe(text: str) -> str:
    """`text` with control characters escaped and newlines turned into indented continuations."""
    return _CONTROL.sub(_escape, text).replace("\n", CONTINUATION)


def print_table(table: Any) -> None:
    """A rich Table for people: fitted to a terminal's width there; anywhere else (a pipe, a
    file, `less`) as wide as its content, so no cell is cut or wrapped to rich's default 80."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=Console(width=100_000).measure(table).maximum)
    console.print(table)
