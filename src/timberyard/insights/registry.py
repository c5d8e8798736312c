"""One template miner per (account, app), with a bound on how many are kept.

Templates are mined per account and app: one app's lines say nothing about another's, and a
tenant's templates must never be shaped by another tenant's lines. Past `max_keys` miners the
least recently used one is dropped; when its key comes back, its templates are learnt again,
and since an id is a hash of the key and a template's first text, a template usually gets its
old id back (always, when it comes back with a line that masks to the same first text).
"""

from __future__ import annotations

from timberyard.insights.miner import Limits, TemplateMiner

STATE_VERSION = 1


def key_of(account: str, app: str) -> str:
    """The miner key of an account and app (part of every template id)."""
    return f"{account}\x1f{app}"


class Miners:
    """The miners of a node: `add(account, app, line)` learns, `match` only looks."""

    def __init__(self, limits: Limits = Limits(), max_keys: int = 10_000) -> None:
        self.limits = limits
        self.max_keys = max_keys
        self._miners: dict[str, TemplateMiner] = {}

    def __len__(self) -> int:
        return len(self._miners)

    def miner(self, account: str, app: str) -> TemplateMiner:
        """The miner of `account` and `app`, made if need be; it becomes the most recently used."""
        key = key_of(account, app)
        found = self._miners.pop(key, None)
        if found is None:
            found = TemplateMiner(key, self.limits)
            if len(self._miners) >= self.max_keys:
                del self._miners[next(iter(self._miners))]
        self._miners[key] = found
        return found

    def of_account(self, account: str) -> list[tuple[str, TemplateMiner]]:
        """The (app, miner) pairs of one account, without touching their recency."""
        prefix = key_of(account, "")
        return [(key[len(prefix) :], miner) for key, miner in self._miners.items() if key.startswith(prefix)]

    def add(self, account: str, app: str, line: str) -> tuple[int, str]:
        return self.miner(account, app).add(line)

    def match(self, account: str, app: str, line: str) -> tuple[int, str] | None:
        found = self._miners.get(key_of(account, app))
        return found.match(line) if found is not None else None

    def state(self) -> dict:
        """Every miner's state, least recently used first (JSON-able)."""
        return {"version": STATE_VERSION, "miners": [m.state() for m in self._miners.values()]}

    @classmethod
    def from_state(cls, state: dict, limits: Limits = Limits(), max_keys: int = 10_000) -> Miners:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown template miners state version: {state.get('version')!r}")
        miners = cls(limits, max_keys)
        for saved in state["miners"][-max_keys:]:
            miner = TemplateMiner.from_state(saved, limits)
            miners._miners[miner.key] = miner
        return miners
