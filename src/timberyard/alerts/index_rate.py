"""Index-rate alerts: an account's lines per second against a maximum, or against its own past.

The past is the account's line count in the same UTC hour of the week in earlier weeks, kept
in `alert_baselines` (every node counts what it receives, per hour). The rate is compared with
the median of those hours, scaled by their median absolute deviation (x 1.4826, so it reads as
standard deviations for normal data): one odd week, a holiday or an outage, cannot move it the
way it moves a mean. With fewer than MIN_WEEKS past weeks no z-score alert fires, and the
firing of a `max_lines_per_s` rule says the baseline is still being learnt.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.alerts.definition import AlertDefinition
from timberyard.core.records import ID_COUNTER_BITS
from timberyard.core.robust import median_spread

MIN_WEEKS = 2


class HourlyCounts:
    """Lines per (account, UTC hour of arrival) since the engine last saved them."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, datetime]] = Counter()

    def add(self, table: pa.Table, accounts: pa.ChunkedArray) -> None:
        # A durable batch spans milliseconds; its first line's hour stands for all of it.
        first_id = int(table.column("id")[0].as_py())
        hour_ms = (first_id >> ID_COUNTER_BITS) // 3_600_000 * 3_600_000
        hour = datetime.fromtimestamp(hour_ms / 1000, UTC)
        counts = pc.value_counts(accounts)
        for account, lines in zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist()):
            self._counts[(account, hour)] += lines

    def take(self) -> dict[tuple[str, datetime], int]:
        taken, self._counts = dict(self._counts), Counter()
        return taken


def rate_verdict(lines: int, definition: AlertDefinition, history: list[int]) -> tuple[bool, str]:
    """Whether the window's rate breaks the rule, and the sentence that says why (or why not)."""
    rate = lines / definition.interval_s
    said = f"{rate:.1f} lines/s over {definition.interval}"
    learning = definition.z_score is not None and len(history) < MIN_WEEKS
    note = f"; the baseline needs {MIN_WEEKS} weeks of this hour, it has {len(history)}" if learning else ""
    if definition.max_lines_per_s is not None and rate > definition.max_lines_per_s:
        return True, f"{said}, above the maximum of {definition.max_lines_per_s:g}{note}"
    if definition.z_score is None:
        return False, f"{said}, within the maximum of {definition.max_lines_per_s:g}"
    if learning:
        return False, said + note
    hourly = np.array(history, dtype=float) / 3600
    median, spread = median_spread(hourly)
    spread = spread or max(median * 0.1, 1.0)
    z = (rate - median) / spread
    verdict = bool(abs(z) > definition.z_score)
    return verdict, f"{said}, {z:+.1f} deviations from this hour's usual {median:.1f} lines/s (limit {definition.z_score:g})"
