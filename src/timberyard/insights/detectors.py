"""All the anomaly detectors of a node behind one call, as the node will feed them."""

from __future__ import annotations

import pyarrow as pa

from timberyard.insights.anomaly import Anomaly
from timberyard.insights.novelty import NewTemplates, NoveltyLimits
from timberyard.insights.silence import Silence
from timberyard.insights.surge import TemplateSurge
from timberyard.insights.trend import ErrorTrend
from timberyard.insights.volume import AccountVolume


class Detectors:
    def __init__(self, novelty: NoveltyLimits = NoveltyLimits()) -> None:
        self.each = (NewTemplates(novelty), TemplateSurge(), Silence(), AccountVolume(), ErrorTrend())

    def observe(self, table: pa.Table, now_ms: int) -> list[Anomaly]:
        """Feed one batch (`columns.lines`) at `now_ms`; what it brought out, in detector order."""
        return [anomaly for detector in self.each for anomaly in detector.observe(table, now_ms)]
