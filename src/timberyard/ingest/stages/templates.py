"""Stage 6, templates: each kept line gets the id of its log template (insights/book.py).

Runs after exclude (and retain), so dropped lines are never mined and never shape a template; lines kept for
live tail only are mined like stored ones (tail and alerts can search them by template). The
miner is Python per line, so this is the one stage that is not vectorised: it reads the lines
and apps once as Python strings and answers repeated lines from the book's exact-line table.
Off (`insights_templates = false`, no book in the context), every line's template is 0.
"""

from __future__ import annotations

import pyarrow as pa

from timberyard.ingest.batch import LineBatch
from timberyard.ingest.stages.context import Context


def templates(batch: LineBatch, context: Context) -> None:
    if context.templates is None or not len(batch):
        return
    lines = batch.column("line").to_pylist()
    apps = batch.column("app")
    if apps.null_count:
        apps = apps.fill_null("")
    ids = context.templates.mine(batch.account, apps.to_pylist(), lines)
    batch.columns["template"] = pa.array(ids, pa.uint64())
