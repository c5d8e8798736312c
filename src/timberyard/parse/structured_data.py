"""RFC 5424 STRUCTURED-DATA (section 6.3), element by element.

`[exampleSDID@32473 iut="3" eventSource="Application"][meta sequenceId="29"]`: elements with an
SD-ID and `name="value"` parameters, where `\\"`, `\\\\` and `\\]` escape those characters and
any other backslash is itself (`C:\\Windows`). The parameters become fields the way the rfc5424
line format (parse/formats.py) makes them, with parse/logfmt.py's `parse_pairs`, so a syslog
message reads the same whether it came over the wire or in an HTTP line; numbers are numbers.

One element is not data but a credential: LogDNA's `[logdna@48950 key="..." tags="a,b"]`
carries the ingestion key that chooses the account, and tags. It is taken out whole, so the
key is stored nowhere. Pure; never raises; linear time in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from timberyard.parse.logfmt import parse_pairs

LOGDNA_SD_ID = "logdna@48950"

_ELEMENT = re.compile(r'\[([^\s\]="]{1,32})')
_PARAM = re.compile(r' ([^\s\]="]{1,32})="([^"\\]*+(?:\\.[^"\\]*+)*+)"', re.DOTALL)
_ESCAPED = re.compile(r'\\(["\\\]])')
# `parse_pairs` reads every backslash as an escape, so those STRUCTURED-DATA keeps are doubled.
_BACKSLASH = re.compile(r'\\(["\\\]]?)')


@dataclass(frozen=True)
class Element:
    """One element: its SD-ID, its parameters with escapes removed, and its text as written."""

    id: str
    params: tuple[tuple[str, str], ...]
    text: str

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.params if key == name), None)


@dataclass
class StructuredData:
    fields: dict[str, Any] = field(default_factory=dict)  # every other element's parameters
    key: str | None = None  # the LogDNA ingestion key
    tags: list[str] = field(default_factory=list)  # the LogDNA tags


def structured_data(text: str) -> list[Element]:
    """The elements `text` starts with; reading stops at the first that is not well formed."""
    elements: list[Element] = []
    position = 0
    while (start := _ELEMENT.match(text, position)) is not None:
        params: list[tuple[str, str]] = []
        position = start.end()
        while (param := _PARAM.match(text, position)) is not None:
            params.append((param[1], _ESCAPED.sub(r"\1", param[2])))
            position = param.end()
        if not text.startswith("]", position):
            break
        position += 1
        elements.append(Element(start[1], tuple(params), text[start.start() : position]))
    return elements


def read_structured_data(text: str) -> StructuredData:
    """Fields, key and tags of a message's STRUCTURED-DATA."""
    read, kept = StructuredData(), []
    for element in structured_data(text):
        if element.id != LOGDNA_SD_ID:
            kept.append(element.text)
            continue
        read.key = element.param("key") or None
        read.tags = [tag.strip() for tag in (element.param("tags") or "").split(",") if tag.strip()]
    if kept:
        read.fields = parse_pairs(_BACKSLASH.sub(_keep_lone_backslash, " ".join(kept)))
    return read


def _keep_lone_backslash(escape: re.Match[str]) -> str:
    return escape[0] if escape[1] else "\\\\"
