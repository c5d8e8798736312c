"""The saved state of a rate detector made of one `Counts`, its `Episodes` and a `Closing`
(surge.py, volume.py): the counts, the episodes in progress and the last minute judged."""

from __future__ import annotations

from timberyard.insights.clock import Closing
from timberyard.insights.counts import Counts
from timberyard.insights.rearm import Episodes


class KeptRates:
    counts: Counts
    episodes: Episodes
    closing: Closing

    def state(self) -> dict:
        return {"counts": self.counts.state(), "episodes": self.episodes.state(), "closed": self.closing.closed}

    def load(self, state: dict) -> None:
        self.counts.load(state["counts"])
        self.episodes.load(state["episodes"])
        self.closing.closed = state["closed"]

    def resume(self, first: int, last: int) -> None:
        """Minutes `first` to `last` were not seen (the node was down): unknown, not judged."""
        self.counts.add_gap(first, last)
        self.closing.resume(last)
