"""Ingest rules and their daily counts: storage only.

A rule is a kind (`parse`, `redact`, `exclude`), a name unique within its kind and account, a
position among the account's rules of its kind (1, 2, 3 ... with no gaps: the order they are
applied in), an enabled flag and its definition, a JSON object this module stores as it is
given; what a definition may hold is checked by ingest/rules.py before it gets here. Another
account's rule is reported as missing, exactly like one that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.core.errors import Conflict, NotFound
from timberyard.meta.info import iso
from timberyard.meta.models import IngestRule, RuleCount, utcnow

KINDS = ("parse", "redact", "exclude", "retain")  # also the order the stages apply them in


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    account_id: str
    kind: str
    name: str
    position: int
    enabled: bool
    definition: Mapping[str, Any]
    created_by: str
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The API's shape: the definition's keys beside the rule's own."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "position": self.position,
            "enabled": self.enabled,
            **self.definition,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


def list_rules(session: Session, account_id: str, *, enabled_only: bool = False) -> list[RuleInfo]:
    """The account's rules, by kind (in the stages' order) and position."""
    query = select(IngestRule).where(IngestRule.account_id == account_id)
    if enabled_only:
        query = query.where(IngestRule.enabled.is_(True))
    rows = session.scalars(query).all()
    return sorted((_info(row) for row in rows), key=lambda rule: (KINDS.index(rule.kind), rule.position))


def get_rule(session: Session, account_id: str, rule_id: str) -> RuleInfo:
    return _info(_own_rule(session, account_id, rule_id))


def count_of_kind(session: Session, account_id: str, kind: str) -> int:
    found = session.scalar(
        select(func.count()).select_from(IngestRule).where(IngestRule.account_id == account_id, IngestRule.kind == kind)
    )
    return int(found or 0)


def create_rule(
    session: Session,
    account_id: str,
    kind: str,
    name: str,
    definition: Mapping[str, Any],
    *,
    enabled: bool,
    position: int | None,
    created_by: str,
    now: datetime | None = None,
) -> RuleInfo:
    """A new rule at `position` (the rules from there on move down one), or after the last."""
    now = now or utcnow()
    siblings = _siblings(session, account_id, kind)
    place = len(siblings) + 1 if position is None else max(1, min(position, len(siblings) + 1))
    row = IngestRule(
        id=uuid.uuid4().hex,
        account_id=account_id,
        kind=kind,
        name=name,
        position=place,
        enabled=enabled,
        definition=_encode(definition),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    siblings.insert(place - 1, row)
    _renumber(siblings)
    session.add(row)
    _flush_unique(session, row)
    return _info(row)


def update_rule(
    session: Session,
    account_id: str,
    rule_id: str,
    *,
    name: str | None = None,
    definition: Mapping[str, Any] | None = None,
    enabled: bool | None = None,
    position: int | None = None,
    now: datetime | None = None,
) -> RuleInfo:
    row = _own_rule(session, account_id, rule_id)
    if name is not None:
        row.name = name
    if definition is not None:
        row.definition = _encode(definition)
    if enabled is not None:
        row.enabled = enabled
    if position is not None:
        siblings = [r for r in _siblings(session, account_id, row.kind) if r.id != row.id]
        place = max(1, min(position, len(siblings) + 1))
        siblings.insert(place - 1, row)
        _renumber(siblings)
    row.updated_at = now or utcnow()
    _flush_unique(session, row)
    return _info(row)


def delete_rule(session: Session, account_id: str, rule_id: str) -> RuleInfo:
    """Delete a rule and its counts; the rules after it move up one."""
    row = _own_rule(session, account_id, rule_id)
    deleted = _info(row)
    for count in session.scalars(select(RuleCount).where(RuleCount.rule_id == row.id)):
        session.delete(count)
    session.delete(row)
    session.flush()
    _renumber(_siblings(session, account_id, deleted.kind))
    session.flush()
    return deleted


# counts


def add_counts(session: Session, counts: Mapping[tuple[str, str], int]) -> None:
    """Add `(rule id, YYYY-MM-DD) -> lines` to the stored counts; rules deleted meanwhile are skipped."""
    ids = {rule_id for rule_id, _ in counts}
    existing = set(session.scalars(select(IngestRule.id).where(IngestRule.id.in_(ids))))
    for (rule_id, day), lines in sorted(counts.items()):
        if rule_id not in existing or not lines:
            continue
        row = session.get(RuleCount, (rule_id, day))
        if row is None:
            session.add(RuleCount(rule_id=rule_id, day=day, lines=lines))
        else:
            row.lines += lines
    session.flush()


def counts(session: Session, account_id: str, day: str) -> dict[str, tuple[int, int]]:
    """rule id -> (lines on `day`, lines in total) for the account's rules that have any."""
    rows = session.execute(
        select(RuleCount.rule_id, RuleCount.day, RuleCount.lines)
        .join(IngestRule, IngestRule.id == RuleCount.rule_id)
        .where(IngestRule.account_id == account_id)
    )
    found: dict[str, tuple[int, int]] = {}
    for rule_id, row_day, lines in rows:
        today, total = found.get(rule_id, (0, 0))
        found[rule_id] = (today + (lines if row_day == day else 0), total + lines)
    return found


# rows


def _siblings(session: Session, account_id: str, kind: str) -> list[IngestRule]:
    return list(
        session.scalars(
            select(IngestRule)
            .where(IngestRule.account_id == account_id, IngestRule.kind == kind)
            .order_by(IngestRule.position, IngestRule.created_at)
        )
    )


def _renumber(rows: list[IngestRule]) -> None:
    for index, row in enumerate(rows, start=1):
        if row.position != index:
            row.position = index


def _flush_unique(session: Session, row: IngestRule) -> None:
    name, kind = row.name, row.kind  # a failed flush expires the row
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{'an' if kind == 'exclude' else 'a'} {kind} rule named {name!r} already exists", name=name, kind=kind) from exc


def _own_rule(session: Session, account_id: str, rule_id: str) -> IngestRule:
    row = session.get(IngestRule, rule_id) if isinstance(rule_id, str) else None
    if row is None or row.account_id != account_id:
        raise NotFound(f"rule {rule_id!r} not found", rule=rule_id)
    return row


def _encode(definition: Mapping[str, Any]) -> str:
    return orjson.dumps(dict(definition), option=orjson.OPT_SORT_KEYS).decode()


def _info(row: IngestRule) -> RuleInfo:
    return RuleInfo(
        id=row.id,
        account_id=row.account_id,
        kind=row.kind,
        name=row.name,
        position=row.position,
        enabled=row.enabled,
        definition=orjson.loads(row.definition),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
