"""Once per episode: a key that fired stays quiet until it has been normal for a while.

A burst that lasts twenty minutes is one anomaly, not twenty. A key is `hot` each minute it is
out of the ordinary; it fires when it turns hot after at least `rearm` minutes that were not.
Only keys hot within the last `rearm` minutes are remembered.
"""

from __future__ import annotations


class Episodes:
    def __init__(self, rearm: int = 30) -> None:
        self.rearm = rearm
        self._last_hot: dict[tuple, int] = {}

    def hot(self, key: tuple, minute: int) -> bool:
        """Record that `key` is out of the ordinary in `minute`; True if that starts an episode."""
        before = self._last_hot.get(key)
        self._last_hot[key] = max(minute, before if before is not None else minute)
        return before is None or before < minute - self.rearm

    def forget_before(self, minute: int) -> None:
        """Drop keys not hot since `minute` - `rearm` (they would start a new episode anyway)."""
        horizon = minute - self.rearm
        for key in [k for k, last in self._last_hot.items() if last < horizon]:
            del self._last_hot[key]

    def __len__(self) -> int:
        return len(self._last_hot)

    def state(self) -> list:
        return [[*key, last] for key, last in self._last_hot.items()]

    def load(self, state: list) -> None:
        self._last_hot = {tuple(row[:-1]): int(row[-1]) for row in state}
