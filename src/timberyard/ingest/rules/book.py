"""`RuleBook`: the service behind the rules API and the stages.

It keeps each account's compiled rules until a rule of that account changes through it (or
`reload_s` passes, for changes made through another node), counts what each rule did per UTC
day in memory, and `flush` writes the counts to the metadata database (a periodic chore).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from timberyard.auth.permissions import has_permission, holders
from timberyard.core.errors import BadRequest, PermissionDenied
from timberyard.ingest.batch import LineBatch
from timberyard.ingest.rules.check import CheckedRule, RuleError, check_rule, compile_stored
from timberyard.ingest.rules.compiled import AccountRules, ExcludeRule, ParseRule, RedactRule, RetainRule, Rule, RuleTally
from timberyard.ingest.rules.samples import SAMPLES, run_samples, sample_batch
from timberyard.meta import rules as repository
from timberyard.meta.database import MetaDB
from timberyard.meta.rules import KINDS, RuleInfo

log = logging.getLogger(__name__)

RETENTION_PERMISSION = "retention.manage"
RELOAD_S = 60  # a node re-reads an account's rules at least this often (changes made elsewhere)
MAX_RULES_PER_KIND = 100


class RuleBook:
    """Every account's rules: the API's changes go through here, the stages read them compiled."""

    def __init__(self, meta: MetaDB, *, reload_s: float = RELOAD_S, clock: Callable[[], float] = time.time) -> None:
        self.meta = meta
        self.reload_s = reload_s
        self.clock = clock
        self.tally = RuleTally()
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[AccountRules, float]] = {}
        self._generation: Counter[str] = Counter()

    # the stages

    def for_account(self, account: str) -> AccountRules:
        """The account's enabled rules, compiled; read from the metadata database only when
        they changed through this book or `reload_s` passed."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(account)
            generation = self._generation[account]
        if cached is not None and cached[1] > now:
            return cached[0]
        stored = self.meta.transact(_enabled_rules, account, write=False)
        compiled = AccountRules(**_compile_all(stored), tally=self.tally)
        with self._lock:
            if self._generation[account] == generation:
                self._cache[account] = (compiled, now + self.reload_s)
        return compiled

    def flush(self) -> None:
        """Write the counts gathered since the last flush to the metadata database (a chore);
        on failure they are kept for the next one."""
        pending = self.tally.take()
        if not pending:
            return
        try:
            self.meta.transact(repository.add_counts, dict(pending), write=True)
        except BaseException:
            self.tally.give_back(pending)
            raise

    def _changed(self, account: str) -> None:
        with self._lock:
            self._generation[account] += 1
            self._cache.pop(account, None)

    # the API

    def list_rules(self, account: str) -> list[dict[str, Any]]:
        rules = self.meta.transact(repository.list_rules, account, write=False)
        counts = self._counts(account)
        return [describe(rule, counts.get(rule.id, (0, 0))) for rule in rules]

    def get_rule(self, account: str, rule_id: str) -> dict[str, Any]:
        rule = self.meta.transact(repository.get_rule, account, rule_id, write=False)
        return describe(rule, self._counts(account).get(rule.id, (0, 0)))

    def create_rule(
        self, account: str, body: Mapping[str, Any], created_by: str, *, role: str
    ) -> tuple[RuleInfo, dict[str, Any] | None]:
        """A new rule from the request's fields (`kind`, `name` and the kind's settings); with
        `samples`, also what it does to them (see `try_rule`)."""
        samples = body.get(SAMPLES)
        given = {key: value for key, value in body.items() if key != SAMPLES}
        if "kind" not in given:
            raise RuleError(f"kind is required: one of {', '.join(KINDS)}", "kind")
        enabled = _flag(given.pop("enabled", True))
        position = _position(given.pop("position", None))
        checked = check_rule(given.pop("kind"), given.pop("name", None), given)
        _authorise(checked.kind, role)
        batch = sample_batch(account, samples) if samples is not None else None  # a bad sample: a 400 before saving
        if self.meta.transact(repository.count_of_kind, account, checked.kind, write=False) >= MAX_RULES_PER_KIND:
            raise RuleError(f"an account may have at most {MAX_RULES_PER_KIND} {checked.kind} rules")
        created = self.meta.transact(_create, account, checked, enabled, position, created_by, write=True)
        self._changed(account)
        return created, (self._run(batch, checked) if batch is not None else None)

    def update_rule(
        self, account: str, rule_id: str, body: Mapping[str, Any], *, role: str
    ) -> tuple[RuleInfo, RuleInfo, dict[str, Any] | None]:
        """Change the fields given (`null` resets a setting to its default); a missing rule is
        a 404 before the changes are looked at. The rule before and after, and the test."""
        before = self.meta.transact(repository.get_rule, account, rule_id, write=False)
        _authorise(before.kind, role)
        samples = body.get(SAMPLES)
        changes = {key: value for key, value in body.items() if key != SAMPLES}
        if "kind" in changes and changes.pop("kind") != before.kind:
            raise RuleError("a rule's kind cannot change; create a new rule of the other kind", "kind")
        enabled = _flag(changes.pop("enabled")) if "enabled" in changes else None
        position = _position(changes.pop("position")) if "position" in changes else None
        name = changes.pop("name", before.name)
        merged = dict(before.definition)
        if before.kind == "parse" and changes.get("grok"):
            merged.update(regex=None, types={})
        if before.kind == "parse" and changes.get("regex"):
            merged.update(grok=None, grok_definitions={})
        merged.update(changes)
        merged = {key: value for key, value in merged.items() if value is not None}
        checked = check_rule(before.kind, name, merged, before.id)
        batch = sample_batch(account, samples) if samples is not None else None
        definition = checked.definition if (changes or name != before.name) else None
        after = self.meta.transact(_update, account, rule_id, checked.name, definition, enabled, position, write=True)
        self._changed(account)
        return before, after, (self._run(batch, checked) if batch is not None else None)

    def delete_rule(self, account: str, rule_id: str, *, role: str) -> RuleInfo:
        _authorise(self.meta.transact(repository.get_rule, account, rule_id, write=False).kind, role)
        deleted = self.meta.transact(repository.delete_rule, account, rule_id, write=True)
        self._changed(account)
        return deleted

    def try_rule(self, account: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """What a rule (not saved: the request's `kind` and settings) does to the request's
        `samples`: per line, whether it matched, the fields, the text after redaction, whether
        it would be excluded. Nothing of it is stored, counted or logged."""
        given = {key: value for key, value in body.items() if key not in (SAMPLES, "enabled", "position")}
        if "kind" not in given:
            raise RuleError(f"kind is required: one of {', '.join(KINDS)}", "kind")
        checked = check_rule(given.pop("kind"), given.pop("name", "test"), given)
        if SAMPLES not in body:
            raise RuleError('samples is required: a list of lines, like ["GET /health 200"]', SAMPLES)
        return self._run(sample_batch(account, body[SAMPLES]), checked)

    def _run(self, batch: LineBatch, checked: CheckedRule) -> dict[str, Any]:
        return run_samples(batch, checked, int(self.clock() * 1000))

    def _counts(self, account: str) -> dict[str, tuple[int, int]]:
        today = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d")
        stored = self.meta.transact(repository.counts, account, today, write=False)
        merged = dict(stored)
        for (rule_id, day), lines in self.tally.pending().items():
            on_day, total = merged.get(rule_id, (0, 0))
            merged[rule_id] = (on_day + (lines if day == today else 0), total + lines)
        return merged

def describe(rule: RuleInfo, counts: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    """A rule as the API answers it: its fields and its counts (today is the UTC day)."""
    return {**rule.to_dict(), "lines_today": counts[0], "lines_total": counts[1]}

def audit_details(rule: RuleInfo) -> dict[str, Any]:
    """What the audit trail keeps of a rule: its definition (never samples)."""
    return {"kind": rule.kind, "name": rule.name, "enabled": rule.enabled, "position": rule.position, **rule.definition}

def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise RuleError("enabled must be true or false", "enabled")
    return value

def _position(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RuleError("position must be a whole number from 1 (first)", "position")
    return value

def _enabled_rules(session: Any, account: str) -> list[RuleInfo]:
    return repository.list_rules(session, account, enabled_only=True)

def _create(session: Any, account: str, checked: CheckedRule, enabled: bool, position: int | None, created_by: str) -> RuleInfo:
    return repository.create_rule(
        session, account, checked.kind, checked.name, checked.definition, enabled=enabled, position=position, created_by=created_by
    )

def _update(
    session: Any, account: str, rule_id: str, name: str, definition: dict[str, Any] | None, enabled: bool | None, position: int | None
) -> RuleInfo:
    return repository.update_rule(session, account, rule_id, name=name, definition=definition, enabled=enabled, position=position)

def _authorise(kind: str, role: str) -> None:
    """Retention rules decide what the store deletes early: the same call as the account's
    retention, so the same permission."""
    if kind == "retain" and not has_permission(role, RETENTION_PERMISSION):
        raise PermissionDenied(
            f"only the {holders(RETENTION_PERMISSION)} may change a retention rule, since it decides when lines are "
            "deleted (signed in: the web UI's Settings → Rules; service keys are never the owner's)",
            permission=RETENTION_PERMISSION,
        )


def _compile_all(stored: list[RuleInfo]) -> dict[str, tuple[Rule, ...]]:
    """The rules that compile, by the AccountRules field of their kind."""
    compiled: dict[type, list[Rule]] = {kind: [] for kind in _FIELD_OF}
    for rule in stored:
        try:
            ready = compile_stored(rule)
        except BadRequest as exc:
            # Checked when saved; this is a rule an upgrade no longer reads. Say which, never what it matches.
            log.warning("ingest rule %s (%s %r) no longer compiles and is skipped: %s", rule.id, rule.kind, rule.name, exc.message)
            continue
        compiled[type(ready)].append(ready)
    return {_FIELD_OF[kind]: tuple(rules) for kind, rules in compiled.items()}


_FIELD_OF = {ParseRule: "parsers", RedactRule: "redactions", ExcludeRule: "exclusions", RetainRule: "retentions"}
