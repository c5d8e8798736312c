"""Stage 5, retain: lines a retention rule matches are kept by the store for fewer days.

The account's retention rules are tried in order and the first whose query matches a line
decides how many days the store keeps it (the `retention_days` the store's TTL applies,
store/schema.py); a rule only ever shortens: when the account's retention is shorter, that
applies. Lines no rule matches are left to the account's retention (null here; the record
fills it in). Queries see the lines after redaction and exclusion. Vectorised: each query is
one filter over the batch's columns.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from timberyard.ingest.batch import LineBatch
from timberyard.ingest.rules.compiled import first_matches
from timberyard.ingest.stages.context import Context


def retain(batch: LineBatch, context: Context) -> None:
    rules = context.rules.retentions
    if not rules or not len(batch):
        return
    days = np.zeros(len(batch), dtype=np.uint16)  # 0: no rule decided
    for rule, decided in zip(rules, first_matches(batch.table(), rules)):
        count = decided.true_count
        if count:
            context.rules.count(rule, count, context.received_ms)
            days[decided.to_numpy(zero_copy_only=False)] = min(rule.days, context.retention_days)
    if days.any():
        batch.columns["retention_days"] = pa.array(days, pa.uint16(), mask=days == 0)
