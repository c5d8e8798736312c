"""Field types: the kind each field path of an account got when it was first seen."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from timberyard.meta.models import FieldType, utcnow


def kinds(session: Session, account_id: str) -> dict[str, str]:
    rows = session.execute(select(FieldType.path, FieldType.kind).where(FieldType.account_id == account_id))
    return {path: kind for path, kind in rows}


def add_kinds(session: Session, account_id: str, new: Mapping[str, str]) -> dict[str, str]:
    """Record first kinds in a write transaction; a path recorded meanwhile (by another node or
    the CLI) keeps the kind it has. Returns the stored kinds of these paths."""
    found = session.execute(
        select(FieldType.path, FieldType.kind).where(FieldType.account_id == account_id, FieldType.path.in_(list(new)))
    )
    stored = {path: kind for path, kind in found}
    now = utcnow()
    session.add_all(
        FieldType(account_id=account_id, path=path, kind=kind, first_seen=now, conflicts=0)
        for path, kind in new.items()
        if path not in stored
    )
    return {**new, **stored}


def add_conflicts(session: Session, account_id: str, counts: Mapping[str, int]) -> None:
    for path, count in counts.items():
        session.execute(
            update(FieldType)
            .where(FieldType.account_id == account_id, FieldType.path == path)
            .values(conflicts=FieldType.conflicts + count)
        )


def list_types(session: Session, account_id: str) -> list[dict[str, object]]:
    rows = session.scalars(select(FieldType).where(FieldType.account_id == account_id).order_by(FieldType.path))
    return [{"path": row.path, "kind": row.kind, "first_seen": row.first_seen, "conflicts": row.conflicts} for row in rows]
