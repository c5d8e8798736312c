"""Line rules applied on the host, before a line leaves it.

Inclusion regexes keep only lines that match one of them; exclusion regexes drop lines that
match any; redaction regexes replace what they match with `[REDACTED]`, so a secret or a
patient's identifier never crosses the network. The node applies the account's own rules
again on arrival; these are for what must not leave the machine at all.
"""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"


def _union(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns)) if patterns else None


class LineRules:
    def __init__(self, include: list[str], exclude: list[str], redact: list[str]) -> None:
        self.include = _union(include)
        self.exclude = _union(exclude)
        self.redact = _union(redact)
        self.active = bool(include or exclude or redact)

    def apply(self, text: str) -> str | None:
        """The line as it may be sent, or None when it is not to be sent."""
        if self.include is not None and self.include.search(text) is None:
            return None
        if self.exclude is not None and self.exclude.search(text) is not None:
            return None
        if self.redact is not None:
            text = self.redact.sub(REDACTED, text)
        return text
