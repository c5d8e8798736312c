"""New (or rare) templates at WARN or above, per account and app.

A WARN-or-worse line whose template its app has shown fewer than `rare_below` times before
(1: never) is flagged: a message nobody has seen before, at a level someone should read, is
the first sign of many incidents. An app's first `learn_minutes` minutes only learn (every
template is new then). Per app at most `max_templates` templates are remembered (least
recently seen dropped; the miner itself holds at most 2,000), and at most `max_keys` apps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.insights.anomaly import Anomaly
from timberyard.insights.columns import RANKED, WARN_RANK
from timberyard.insights.packed import unpack

KIND = "new_template"


@dataclass(frozen=True)
class NoveltyLimits:
    rare_below: int = 1
    learn_minutes: int = 60
    max_templates: int = 4_096
    max_keys: int = 10_000


class _App:
    __slots__ = ("first_minute", "seen")

    def __init__(self, minute: int) -> None:
        self.first_minute = minute
        self.seen: dict[int, int] = {}  # template -> lines so far, least recently seen first


class NewTemplates:
    def __init__(self, limits: NoveltyLimits = NoveltyLimits()) -> None:
        self.limits = limits
        self._apps: dict[tuple[str, str], _App] = {}

    def flags(self, table: pa.Table) -> np.ndarray:
        """Per line of the batch (in order), whether it is flagged; learns the batch."""
        flagged = np.zeros(table.num_rows, bool)
        mined = pc.not_equal(table.column("template"), 0)
        if table.num_rows == 0 or not pc.any(mined).as_py():
            return flagged
        rows = table.append_column("row", pa.array(np.arange(table.num_rows))).filter(mined)
        grouped = rows.group_by(["account", "app", "template"], use_threads=False).aggregate(
            [("row", "list"), ("minute", "min")])
        severity = table.column("severity").to_numpy()
        minutes = table.column("minute").to_numpy()
        limits = self.limits
        for account, app, template, members, first in zip(
            *(grouped.column(c).to_pylist() for c in ("account", "app", "template", "row_list", "minute_min"))
        ):
            known = self._app((account, app), first)
            members = np.sort(np.array(members))
            before = known.seen.pop(template, 0)
            known.seen[template] = before + len(members)
            if len(known.seen) > limits.max_templates:
                del known.seen[next(iter(known.seen))]
            if before >= limits.rare_below:
                continue
            occurrence = before + np.arange(len(members))
            flagged[members] = ((occurrence < limits.rare_below) & (severity[members] <= WARN_RANK)
                                & (minutes[members] >= known.first_minute + limits.learn_minutes))
        return flagged

    def _app(self, key: tuple[str, str], minute: int) -> _App:
        found = self._apps.pop(key, None)
        if found is None:
            found = _App(minute)
            if len(self._apps) >= self.limits.max_keys:
                del self._apps[next(iter(self._apps))]
        self._apps[key] = found
        return found

    def observe(self, table: pa.Table, now_ms: int) -> list[Anomaly]:
        """One anomaly per (account, app, template) flagged in the batch, at its first line."""
        flagged = self.flags(table)
        out: dict[tuple, Anomaly] = {}
        if not flagged.any():
            return []
        picked = table.filter(pa.array(flagged))
        for account, app, template, level, time_ms in zip(
            *(picked.column(c).to_pylist() for c in ("account", "app", "template", "severity", "time_ms"))
        ):
            key = (account, app, template)
            if key not in out:
                seen = "never seen before" if self.limits.rare_below == 1 else f"seen fewer than {self.limits.rare_below} times before"
                out[key] = Anomaly(KIND, account, f"app={app} template={template}", time_ms,
                                   1.0, f"template {template} of app {app} at {RANKED[level]}, {seen}")
        return list(out.values())

    def state(self) -> dict:
        """Every app's first minute and known templates with their counts (least recently seen
        first, apps and templates alike), as plain data and numpy arrays (`packed.encode`)."""
        apps = list(self._apps.items())
        return {
            "apps": [[account, app, known.first_minute] for (account, app), known in apps],
            "templates": [np.fromiter(known.seen.keys(), np.int64, len(known.seen)) for _, known in apps],
            "lines": [np.fromiter(known.seen.values(), np.int64, len(known.seen)) for _, known in apps],
        }

    def load(self, state: dict) -> None:
        """Put back what `state` saved; past the limits the least recently seen are left out."""
        self._apps = {}
        rows = list(zip(state["apps"], state["templates"], state["lines"], strict=True))
        for (account, app, first), templates, lines in rows[max(len(rows) - self.limits.max_keys, 0):]:
            ids = unpack(templates)
            counts = unpack(lines, ids.shape)
            known = self._apps[(str(account), str(app))] = _App(int(first))
            keep = slice(max(len(ids) - self.limits.max_templates, 0), None)
            known.seen = dict(zip(ids[keep].tolist(), counts[keep].tolist()))

    def resume(self, first: int, last: int) -> None:
        """Known templates are known whatever the clock did; nothing to do."""
