"""All the anomaly detectors of a node behind one call, as the node will feed them.

`state()` is every detector's memory as plain data (numbers, strings, lists, maps and numpy
integer arrays: what `packed.encode` writes as msgpack, nothing executable) and `load(state, saved_at, now_ms)` puts it back into
detectors made with today's limits. The minutes from `saved_at` to `now_ms` (the node was down,
or had not saved yet when it stopped) are unknown: no detector judges them or reads them into a
baseline (see docs/insights.md, "Restarts").
"""

from __future__ import annotations

import pyarrow as pa

from timberyard.insights.anomaly import Anomaly
from timberyard.insights.columns import MINUTE_MS
from timberyard.insights.novelty import NewTemplates, NoveltyLimits
from timberyard.insights.silence import Silence
from timberyard.insights.surge import TemplateSurge
from timberyard.insights.trend import ErrorTrend
from timberyard.insights.volume import AccountVolume

NAMES = ("new_template", "template_surge", "silence", "volume", "error_trend")


class Detectors:
    def __init__(self, novelty: NoveltyLimits = NoveltyLimits()) -> None:
        self.novelty = novelty
        self.each = (NewTemplates(novelty), TemplateSurge(), Silence(), AccountVolume(), ErrorTrend())

    def observe(self, table: pa.Table, now_ms: int) -> list[Anomaly]:
        """Feed one batch (`columns.lines`) at `now_ms`; what it brought out, in detector order."""
        return [anomaly for detector in self.each for anomaly in detector.observe(table, now_ms)]

    def state(self) -> dict:
        return {name: detector.state() for name, detector in zip(NAMES, self.each, strict=True)}

    def load(self, state: dict, saved_at: int, now_ms: int) -> None:
        """Put back `state`, saved at `saved_at` (epoch ms), at `now_ms`. Raises (KeyError,
        ValueError, TypeError) on a state that does not fit; the detectors are then half
        loaded and should be made anew."""
        for name, detector in zip(NAMES, self.each, strict=True):
            detector.load(state[name])
        for detector in self.each:
            detector.resume(saved_at // MINUTE_MS, now_ms // MINUTE_MS)
