"""Template trends: which log templates are new in a window, and which grew, with their text.

The counting is the store's (store/template_counts.py, over the per-minute counts it keeps);
this module turns its rows into the answer of GET /api/v1/insights/templates and of
`timberyard insights templates`: each template with its text from the template book, its
lines and rates, its level mix and its sparkline.
"""

from __future__ import annotations

from typing import Any

from timberyard.insights.book import TemplateBook
from timberyard.store.base import Store
from timberyard.store.queries import Compiled
from timberyard.store.template_counts import GrowthRule, TrendWindow, select_template_trends


def template_trends(
    store: Store,
    book: TemplateBook | None,
    account: str,
    window: TrendWindow,
    rule: GrowthRule,
    limit: int,
    scope: Compiled | None = None,
) -> dict[str, Any]:
    """`{"window", "new", "growing"}` for `account`, as far as `scope` (a compiled access scope)
    lets its caller see. Texts are the templates as they are now; null when the book does not
    know the id (template mining off)."""
    answer: dict[str, Any] = {"window": window_object(window), "new": [], "growing": []}
    for row in store.select(*select_template_trends(account, window, rule, limit, scope)):
        answer[row["kind"]].append(_template(row, window, book, account))
    return answer


def window_object(window: TrendWindow) -> dict[str, int]:
    return {
        "since": window.since_ms, "from": window.start_s * 1000, "to": window.end_s * 1000,
        "before_from": window.before_s * 1000, "bucket_ms": window.bucket_s * 1000, "buckets": window.buckets,
    }  # fmt: skip


def _template(row: dict[str, Any], window: TrendWindow, book: TemplateBook | None, account: str) -> dict[str, Any]:
    found = None if book is None else book.find(account, int(row["template"]))
    before, after = int(row["before"]), int(row["after"])
    levels = {level or "none": int(count) for level, count in zip(*row["levels"], strict=True) if int(count)}
    item = {
        "id": row["template"],
        "app": row["app"],
        "text": None if found is None else found[1],
        "first_seen": int(row["first_ms"]),
        "lines": after,
        "per_minute": round(after / window.minutes, 3),
        "levels": dict(sorted(levels.items(), key=lambda pair: (-pair[1], pair[0]))),
        "sparkline": row["sparkline"][window.buckets :],
    }
    if row["kind"] == "growing":
        item.update(
            lines_before=before,
            per_minute_before=round(before / window.minutes, 3),
            ratio=round(after / max(before, 1), 2),
            sparkline_before=row["sparkline"][: window.buckets],
        )
    return item
