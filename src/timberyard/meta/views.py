"""Saved views: a named search of the viewer (query, filters, time range), shared by everyone in
the account.

Everything a view holds is checked when it is saved, with the same readers the viewer uses
(the query parser, the time-range parser), so opening a saved view never fails on a typo made
weeks ago. A view of another account is reported as missing, exactly like one that does not
exist. Names are unique within a category, so two teams may each have an "errors" view.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from timberyard.core.errors import BadRequest, Conflict, NotFound
from timberyard.meta.info import iso
from timberyard.meta.models import SavedView, utcnow
from timberyard.search import parse
from timberyard.search.timeparse import TimeParseError, parse_range

MAX_NAME_CHARS = 100
MAX_CATEGORY_CHARS = 100
FILTER_KEYS = ("apps", "hosts", "levels", "tags")
MAX_FILTER_VALUES = 100
MAX_FILTER_VALUE_CHARS = 200
FIELDS = ("name", "category", "query", "filters", "range")


@dataclass(frozen=True, slots=True)
class ViewFilters:
    """The sidebar's choices: any of the values within a list, every list at once."""

    apps: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, list[str]]:
        return {key: list(getattr(self, key)) for key in FILTER_KEYS}


@dataclass(frozen=True, slots=True)
class ViewInfo:
    id: str
    account_id: str
    name: str
    category: str  # "" is uncategorised
    query: str
    filters: ViewFilters
    range: str  # time-range text, read when the view is opened; "" is the viewer's default
    created_by: str
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "name": self.name,
            "category": self.category,
            "query": self.query,
            "filters": self.filters.to_dict(),
            "range": self.range,
            "created_by": self.created_by,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


def create_view(
    session: Session, account_id: str, fields: Mapping[str, Any], created_by: str, now: datetime | None = None
) -> ViewInfo:
    """A new view from the request's fields; only `name` is required."""
    _refuse_unknown(fields)
    if "name" not in fields:
        raise BadRequest("name is required: 1 to 100 characters", field="name")
    now = now or utcnow()
    row = SavedView(
        id=uuid.uuid4().hex,
        account_id=account_id,
        name=_name(fields["name"]),
        category=_category(fields.get("category", "")),
        query=query_from(fields.get("query", "")),
        filters=_encode(filters_from(fields.get("filters", {}))),
        range=_range(fields.get("range", ""), now),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    _flush_unique(session, row)
    return _info(row)


def list_views(session: Session, account_id: str) -> list[ViewInfo]:
    """The account's views by category, then name."""
    rows = session.scalars(
        select(SavedView).where(SavedView.account_id == account_id).order_by(SavedView.category, SavedView.name)
    ).all()
    return [_info(row) for row in rows]


def get_view(session: Session, account_id: str, view_id: str) -> ViewInfo:
    return _info(_own_view(session, account_id, view_id))


def update_view(
    session: Session, account_id: str, view_id: str, changes: Mapping[str, Any], now: datetime | None = None
) -> ViewInfo:
    """Change the fields given; a missing view is a 404 before the changes are looked at."""
    row = _own_view(session, account_id, view_id)
    _refuse_unknown(changes)
    now = now or utcnow()
    if "name" in changes:
        row.name = _name(changes["name"])
    if "category" in changes:
        row.category = _category(changes["category"])
    if "query" in changes:
        row.query = query_from(changes["query"])
    if "filters" in changes:
        row.filters = _encode(filters_from(changes["filters"]))
    if "range" in changes:
        row.range = _range(changes["range"], now)
    row.updated_at = now
    _flush_unique(session, row)
    return _info(row)


def delete_view(session: Session, account_id: str, view_id: str) -> ViewInfo:
    row = _own_view(session, account_id, view_id)
    deleted = _info(row)
    session.delete(row)
    session.flush()
    return deleted


# checks


def _refuse_unknown(fields: Mapping[str, Any]) -> None:
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)}; a view has {', '.join(FIELDS)}")


def _text(value: object, field: str, minimum: int, maximum: int) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{field} must be a string", field=field)
    value = value.strip()
    if not minimum <= len(value) <= maximum:
        raise BadRequest(f"{field} must have {minimum} to {maximum} characters", field=field)
    if not value.isprintable():
        raise BadRequest(f"{field} may not contain control characters", field=field)
    return value


def _name(value: object) -> str:
    return _text(value, "name", 1, MAX_NAME_CHARS)


def _category(value: object) -> str:
    return _text(value, "category", 0, MAX_CATEGORY_CHARS)


def query_from(value: object) -> str:
    """The query as stored (trimmed); a QuerySyntaxError (400 with its position) if unreadable."""
    if not isinstance(value, str):
        raise BadRequest("query must be a string (a search; empty matches everything)", field="query")
    value = value.strip()
    if value:
        parse(value)
    return value


def filters_from(value: object) -> ViewFilters:
    if not isinstance(value, dict):
        raise BadRequest('filters must be an object like {"apps": ["nginx"], "levels": ["ERROR"]}', field="filters")
    unknown = sorted(set(value) - set(FILTER_KEYS))
    if unknown:
        raise BadRequest(f"unknown filters: {', '.join(unknown)}; filters are {', '.join(FILTER_KEYS)}", field="filters")
    return ViewFilters(**{key: _values(value[key], key) for key in FILTER_KEYS if key in value})


def _values(value: object, key: str) -> tuple[str, ...]:
    field = f"filters.{key}"
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"{field} must be a list of strings", field=field)
    if len(value) > MAX_FILTER_VALUES:
        raise BadRequest(f"{field} has more than {MAX_FILTER_VALUES} values", field=field)
    found: list[str] = []
    for item in value:
        item = _text(item, field, 1, MAX_FILTER_VALUE_CHARS)
        if item not in found:
            found.append(item)
    return tuple(found)


def _range(value: object, now: datetime) -> str:
    if not isinstance(value, str):
        raise BadRequest('range must be a string such as "last 2 hours"', field="range")
    value = value.strip()
    if value:
        try:
            parse_range(value, now=now.astimezone(UTC))
        except TimeParseError as exc:
            raise BadRequest(f"range: {exc.message}", field="range") from None
    return value


# rows


def _flush_unique(session: Session, row: SavedView) -> None:
    name, category = row.name, row.category  # a failed flush expires the row
    try:
        session.flush()
    except IntegrityError as exc:
        where = f"category {category!r}" if category else "no category"
        raise Conflict(f"a view named {name!r} already exists in {where}", name=name, category=category) from exc


def _own_view(session: Session, account_id: str, view_id: str) -> SavedView:
    """The account's view with this id; another account's view is reported as missing."""
    row = session.get(SavedView, view_id) if isinstance(view_id, str) else None
    if row is None or row.account_id != account_id:
        raise NotFound(f"view {view_id!r} not found", view=view_id)
    return row


def _encode(filters: ViewFilters) -> str:
    return orjson.dumps({key: values for key, values in filters.to_dict().items() if values}).decode()


def _info(row: SavedView) -> ViewInfo:
    stored = orjson.loads(row.filters)
    return ViewInfo(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        category=row.category,
        query=row.query,
        filters=ViewFilters(**{key: tuple(stored.get(key, ())) for key in FILTER_KEYS}),
        range=row.range,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
