"""An account's ingest rules compiled for the pipeline's stages, and what each rule did."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.parse.format import LineFormat
from timberyard.parse.redaction import Redactor

Scope = Callable[[pa.Table], pa.BooleanArray]


@dataclass(frozen=True)
class ParseRule:
    id: str
    name: str
    scope: Scope | None  # None: every line
    format: LineFormat

@dataclass(frozen=True)
class RedactRule:
    id: str
    name: str
    scope: Scope | None
    redactor: Redactor

@dataclass(frozen=True)
class ExcludeRule:
    id: str
    name: str
    scope: Scope  # the query: lines it matches are excluded
    preserve_for_tail: bool  # kept for live tail and alerts (not stored) rather than dropped

@dataclass(frozen=True)
class RetainRule:
    id: str
    name: str
    scope: Scope  # the query: lines it matches keep `days`
    days: int

Rule = ParseRule | RedactRule | ExcludeRule | RetainRule


def first_matches(table: pa.Table, rules: Sequence[ExcludeRule | RetainRule]) -> list[pa.BooleanArray]:
    """For each rule, the lines it decides: those its query matches and no earlier rule did."""
    taken = pa.array(np.zeros(table.num_rows, dtype=bool))
    decided = []
    for rule in rules:
        mine = pc.and_not(rule.scope(table), taken)
        taken = pc.or_(taken, mine)
        decided.append(mine)
    return decided

class RuleTally:
    """Lines each rule acted on, per UTC day, since the last flush."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, rule_id: str, lines: int, received_ms: int) -> None:
        if lines:
            day = datetime.fromtimestamp(received_ms / 1000, UTC).strftime("%Y-%m-%d")
            with self._lock:
                self._counts[(rule_id, day)] += lines

    def take(self) -> Counter[tuple[str, str]]:
        with self._lock:
            taken, self._counts = self._counts, Counter()
        return taken

    def give_back(self, counts: Counter[tuple[str, str]]) -> None:
        with self._lock:
            self._counts.update(counts)

    def pending(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self._counts)

@dataclass(frozen=True)
class AccountRules:
    """What the parse, redact, exclude and retain stages apply to a batch of one account, in order."""

    parsers: tuple[ParseRule, ...] = ()
    redactions: tuple[RedactRule, ...] = ()
    exclusions: tuple[ExcludeRule, ...] = ()
    retentions: tuple[RetainRule, ...] = ()
    tally: RuleTally | None = field(default=None, compare=False)

    def count(self, rule: Rule, lines: int, received_ms: int) -> None:
        """Record that `rule` acted on `lines` lines of a batch received at `received_ms`."""
        if self.tally is not None:
            self.tally.add(rule.id, lines, received_ms)

NO_RULES = AccountRules()
