"""The columns the anomaly detectors read: one batch of mined lines as an Arrow table.

The node will hand each durable batch over as columns (account, app, host, level, template
id, arrival time in ms); `lines` checks and types them once and adds the two derived columns
every detector needs, so no detector loops over lines: `minute` (arrival minute since the
epoch) and `severity` (the level's rank in the level rule set of `parse/levels.py`, most
severe first; a level it does not know ranks below all it knows). Template id 0 means "no
template" (the line was not mined); the template detectors leave those lines out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.parse.levels import CANONICAL, canonical_levels

MINUTE_MS = 60_000
# Canonical level names, most severe first, as the rule set orders them.
RANKED = tuple(dict.fromkeys(CANONICAL.values()))
WARN_RANK = RANKED.index("WARN")
ERROR_RANK = RANKED.index("ERROR")
_RANKED = pa.array(RANKED, pa.string())


def lines(
    account: Sequence[str] | pa.Array,
    app: Sequence[str] | pa.Array,
    host: Sequence[str] | pa.Array,
    level: Sequence[str] | pa.Array,
    template: Sequence[int] | np.ndarray | pa.Array,
    time_ms: Sequence[int] | np.ndarray | pa.Array,
) -> pa.Table:
    """A batch for the detectors from Arrow arrays or sequences; nulls become "" (strings),
    0 (template) and 0 (time)."""
    def text(values) -> pa.Array:
        return pc.fill_null(_array(values, pa.string()), "")

    times = pc.fill_null(_array(time_ms, pa.int64()), 0).to_numpy(zero_copy_only=False)
    levels = text(level)
    severity = pc.fill_null(pc.index_in(canonical_levels(levels), value_set=_RANKED), len(RANKED))
    return pa.table({
        "account": text(account),
        "app": text(app),
        "host": text(host),
        "level": levels,
        "template": pc.fill_null(_array(template, pa.int64()), 0),
        "time_ms": pa.array(times, pa.int64()),
        "minute": pa.array(np.floor_divide(times, MINUTE_MS), pa.int64()),
        "severity": pc.cast(severity, pa.int8()),
    })


def _array(values, kind: pa.DataType) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values.cast(kind)
    return pa.array(values, kind)

