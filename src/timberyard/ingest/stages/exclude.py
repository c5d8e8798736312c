"""Stage 4, exclude: drop lines an exclusion rule matches, or keep them for live tail only.

The account's exclusion rules are tried in order and the first whose query matches a line
decides: a rule that preserves lines for live tail and alerting sets the line's `stored` to
false (it still goes through the write-ahead log to the live tail and the alert evaluator; the
store skips it), any other drops it here. Each rule counts the lines it decided. Queries see
the lines after redaction. Vectorised: each query is one filter over the batch's columns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.ingest.batch import LineBatch
from timberyard.ingest.rules.compiled import first_matches
from timberyard.ingest.stages.context import Context


def exclude(batch: LineBatch, context: Context) -> None:
    rules = context.rules.exclusions
    if not rules or not len(batch):
        return
    dropped = tail_only = _none(len(batch))
    for rule, decided in zip(rules, first_matches(batch.table(), rules)):
        count = decided.true_count
        if not count:
            continue
        context.rules.count(rule, count, context.received_ms)
        if rule.preserve_for_tail:
            tail_only = pc.or_(tail_only, decided)
        else:
            dropped = pc.or_(dropped, decided)
    if tail_only.true_count:
        batch.columns["stored"] = pc.and_not(batch.column("stored"), tail_only)
    if dropped.true_count:
        batch.keep(pc.invert(dropped))


def _none(length: int) -> pa.BooleanArray:
    return pa.array(np.zeros(length, dtype=bool))
