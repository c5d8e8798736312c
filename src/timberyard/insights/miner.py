"""The online template miner: a fixed-depth parse tree in the spirit of Drain (He et al., 2017).

A line is masked (masking.py), cut into whitespace tokens and routed down a shallow tree: first
by its number of tokens, then by its first `depth` tokens (a token holding a `<*>` goes down the
`<*>` branch). The leaf holds a few templates; the line joins the most similar one if it is
similar enough, and the positions where they differ become `<*>`, or it starts a new template.

Changes from the paper, each for a reason measured on Loghub-2k (docs/insights.md):
- masking before mining, and every word holding a digit is a variable (masking.py);
- similarity is counted over the template's constant tokens only, so a template that has
  already found its variables is not made harder to join by them;
- the threshold adapts to the line: short lines, where one differing token is a large
  fraction, need fewer tokens in common than long ones;
- where a template and a line differ, the token becomes `<*>` but keeps a head or tail they
  share up to a delimiter (`user=<*>`, `org.apache.<*>`, `<*>)`), and a token holding a `<*>`
  is left out of the similarity like a bare `<*>`;
- a line seen before (after masking) is looked up in a bounded table first, so it keeps the
  template it had even if the tree has moved on: the same line, the same template.

Ids are stable: a template's id is a hash of the miner's key and the template's first text,
so it does not depend on arrival order across keys or on a counter, and `state()` /
`from_state()` carry ids, texts and the table across a restart.

Limits that bound memory and time per line (all per miner, i.e. per account and app):
`max_chars` characters of a line are read, `max_tokens` tokens are compared (the rest of a
longer line is one trailing `<*>`), `max_templates` templates are kept (past it, a line that
fits no template gets the overflow template), `max_children` branches per tree node, and
`max_seen` masked lines in the table (oldest out first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import blake2b

from timberyard.insights.masking import SLOT, mask_tokens

STATE_VERSION = 1
OVERFLOW_TEXT = SLOT


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds of one miner (see the module docstring)."""

    max_chars: int = 8192
    max_tokens: int = 80
    max_templates: int = 2000
    max_children: int = 64
    max_seen: int = 4096
    depth: int = 2


@dataclass(slots=True, eq=False)
class Template:
    """One template: tokens with `<*>` slots, the id it was born with, how many lines joined it."""

    id: int
    tokens: list[str]
    path: tuple[str, ...]
    count: int = 0

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def template_id(key: str, text: str, salt: int = 0) -> int:
    """A stable, non-zero 63-bit id for a template first seen as `text` under `key`."""
    digest = blake2b(f"{key}\0{text}\0{salt}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 1) or 1


def threshold(length: int) -> float:
    """The share of a template's constant tokens a line must repeat to join it.

    One differing token in a two-token line is half of it; in a twenty-token line it is noise.
    """
    if length <= 2:
        return 0.5
    if length <= 5:
        return 0.6
    return 0.7


_DELIMITERS = frozenset(".:=,;|\"'()[]{}/")


def slot(mine: str, theirs: str) -> str:
    """The token that fits both: `<*>`, keeping a shared head up to a delimiter and a shared
    tail from one, so `user=root` and `user=admin` make `user=<*>`, not `<*>`."""
    if SLOT in mine:
        head, _, tail = mine.partition(SLOT)
        tail = tail.rpartition(SLOT)[2]
        if theirs.startswith(head) and theirs.endswith(tail) and len(theirs) >= len(head) + len(tail):
            return mine
        mine = mine.replace(SLOT, "\0")
    limit = min(len(mine), len(theirs))
    head = 0
    for i in range(limit):
        if mine[i] != theirs[i]:
            break
        if mine[i] in _DELIMITERS:
            head = i + 1
    tail = 0
    for i in range(1, limit - head + 1):
        if mine[-i] != theirs[-i]:
            break
        if mine[-i] in _DELIMITERS:
            tail = i
    return mine[:head] + SLOT + (mine[len(mine) - tail:] if tail else "")


class TemplateMiner:
    """Templates of one stream of lines (one account and app): `add` learns, `match` only looks."""

    def __init__(self, key: str = "", limits: Limits = Limits()) -> None:
        self.key = key
        self.limits = limits
        self._root: dict = {}
        self._templates: dict[int, Template] = {}
        self._seen: dict[str, Template] = {}
        self.fresh: list[Template] = []  # templates born since the owner last took them (to journal)
        self._overflow = Template(template_id(key, "\0overflow"), [OVERFLOW_TEXT], ())

    def __len__(self) -> int:
        return len(self._templates)

    def templates(self) -> Iterator[Template]:
        """The templates, oldest first."""
        return iter(self._templates.values())

    def template(self, ident: int) -> Template | None:
        """The template (as it is now) of an id `add` once returned, or None."""
        found = self._templates.get(ident)
        if found is None and ident == self._overflow.id:
            return self._overflow
        return found

    def add(self, line: str) -> tuple[int, str]:
        """The id and text of the template `line` belongs to, learning from it."""
        masked, tokens = self._prepare(line)
        found = self._seen.get(masked)
        if found is not None:
            found.count += 1
            return found.id, found.text
        leaf = self._leaf(tokens, create=True)
        best = self._best(leaf, tokens)
        if best is None:
            best = self._create(leaf, tokens)
        else:
            self._generalise(best, tokens)
        best.count += 1
        self._remember(masked, best)
        return best.id, best.text

    def match(self, line: str) -> tuple[int, str] | None:
        """The id and text of the template `line` would join, or None; nothing is learnt."""
        masked, tokens = self._prepare(line)
        found = self._seen.get(masked)
        if found is not None:
            return found.id, found.text
        leaf = self._leaf(tokens, create=False)
        best = self._best(leaf, tokens) if leaf is not None else None
        return (best.id, best.text) if best is not None else None

    def _prepare(self, line: str) -> tuple[str, list[str]]:
        if not isinstance(line, str):
            line = str(line)
        tokens = mask_tokens(line[: self.limits.max_chars])
        if len(tokens) > self.limits.max_tokens:
            tokens = tokens[: self.limits.max_tokens - 1] + [SLOT]
        return " ".join(tokens), tokens

    def _routes(self, tokens: list[str]) -> list[str]:
        return [t if SLOT not in t else SLOT for t in tokens[: self.limits.depth]]

    def _leaf(self, tokens: list[str], create: bool) -> list[Template] | None:
        node = self._root.get(len(tokens))
        if node is None:
            if not create:
                return None
            node = self._root[len(tokens)] = {}
        for route in self._routes(tokens):
            child = node.get(route)
            if child is None:
                if not create:
                    child = node.get(SLOT)
                    if child is None:
                        return None
                elif len(node) < self.limits.max_children or route == SLOT:
                    child = node[route] = {}
                else:
                    child = node.setdefault(SLOT, {})
            node = child
        return node.setdefault(None, []) if create else node.get(None)

    def _best(self, leaf: list[Template], tokens: list[str]) -> Template | None:
        best, best_score = None, threshold(len(tokens))
        for template in leaf:
            constant = same = 0
            for mine, theirs in zip(template.tokens, tokens):
                if SLOT not in mine:
                    constant += 1
                    if mine == theirs:
                        same += 1
            score = same / constant if constant else 1.0
            if score > best_score or (score == best_score and best is None):
                best, best_score = template, score
        return best

    def _create(self, leaf: list[Template], tokens: list[str]) -> Template:
        if len(self._templates) >= self.limits.max_templates:
            return self._overflow
        text = " ".join(tokens)
        salt = 0
        ident = template_id(self.key, text)
        while ident in self._templates or ident == self._overflow.id:
            salt += 1
            ident = template_id(self.key, text, salt)
        template = Template(ident, list(tokens), tuple(self._routes(tokens)))
        self._templates[ident] = template
        leaf.append(template)
        self.fresh.append(template)
        return template

    def _generalise(self, template: Template, tokens: list[str]) -> None:
        mine_tokens = template.tokens
        for i, (mine, theirs) in enumerate(zip(mine_tokens, tokens)):
            if mine != theirs and mine != SLOT:
                mine_tokens[i] = slot(mine, theirs)

    def _remember(self, masked: str, template: Template) -> None:
        if template is self._overflow:
            return
        seen = self._seen
        if len(seen) >= self.limits.max_seen:
            del seen[next(iter(seen))]
        seen[masked] = template

    def state(self) -> dict:
        """Everything needed to carry the templates and their ids across a restart (JSON-able)."""
        return {
            "version": STATE_VERSION,
            "key": self.key,
            "templates": [
                {"id": t.id, "tokens": t.tokens, "path": list(t.path), "count": t.count}
                for t in self._templates.values()
            ],
            "seen": [[masked, t.id] for masked, t in self._seen.items()],
        }

    @classmethod
    def from_state(cls, state: dict, limits: Limits = Limits()) -> TemplateMiner:
        """A miner with the templates, ids and remembered lines of `state()`."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"unknown template miner state version: {state.get('version')!r}")
        miner = cls(state["key"], limits)
        for row in state["templates"]:
            miner.restore(row["id"], row["tokens"], row["path"], row["count"])
        for masked, ident in state["seen"]:
            miner._seen[masked] = miner._templates[ident]
        return miner

    def restore(self, ident: int, tokens: list[str], path: list[str], count: int = 0) -> None:
        """Put back a template saved with its id (from `state()` or a journal of new templates);
        one the miner already has is left as it is."""
        if ident in self._templates:
            return
        template = Template(ident, list(tokens), tuple(path), count)
        self._templates[ident] = template
        node = self._root.setdefault(len(template.tokens), {})
        for route in template.path:
            node = node.setdefault(route, {})
        node.setdefault(None, []).append(template)
