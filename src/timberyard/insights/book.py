"""The node's template miners, kept in its data directory so template ids survive restarts.

Ids are hashes of a miner's key and a template's first text, so a template learnt again gets its
old id only if a line with that same first text comes first; that is not assured. So nothing
is left to relearning: a snapshot of every miner (`templates.json`) is written atomically by a
chore (when templates were born) and at a clean shutdown, and each new template is appended to a journal
(`templates.journal`, fsync'd) before the lines carrying its id reach the write-ahead log. A
start reads the snapshot, then puts back the journal's templates it lacks: after a crash every
id a stored line carries still names its template. A snapshot empties the journal.

`mine` is the per-line part of ingest: an exact line seen recently is answered from a small
table (skipping masking, the miner's main cost); any other goes through its miner. One lock
covers mining, lookups and saving: the pipeline's thread mines, chores and API calls look.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import orjson

from timberyard.core.files import replace_atomically
from timberyard.insights.miner import TemplateMiner
from timberyard.insights.registry import Miners

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "templates.json"
JOURNAL_FILE = "templates.journal"
# The exact-line table: lines up to this many characters, this many in all (then it is emptied).
CACHED_LINE_CHARS = 256
MAX_CACHED_LINES = 50_000


class TemplateBook:
    def __init__(self, directory: Path, miners: Miners | None = None) -> None:
        self.directory = directory
        self.miners = miners if miners is not None else Miners()
        self._lock = threading.Lock()
        self._lines: dict[str, tuple[TemplateMiner, dict[str, int]]] = {}
        self._cached = 0
        self._dirty = False

    @classmethod
    def open(cls, directory: Path) -> TemplateBook:
        """The book saved in `directory` (empty when there is none), journal included."""
        directory.mkdir(parents=True, exist_ok=True)
        snapshot = directory / SNAPSHOT_FILE
        miners = Miners.from_state(orjson.loads(snapshot.read_bytes())) if snapshot.exists() else Miners()
        book = cls(directory, miners)
        journal = directory / JOURNAL_FILE
        if journal.exists():
            restored = book._replay(journal.read_bytes())
            if restored:
                log.info("template journal replayed", extra={"templates": restored})
                book._dirty = True
                book.save()
        return book

    def _replay(self, journal: bytes) -> int:
        restored = 0
        for text in journal.splitlines():
            try:
                row = orjson.loads(text)
            except orjson.JSONDecodeError:  # the last line, cut short by a crash
                continue
            account, app = row["account"], row["app"]
            miner = self.miners.miner(account, app)
            if miner.template(row["id"]) is None:
                miner.restore(row["id"], row["tokens"], row["path"])
                restored += 1
        return restored

    def mine(self, account: str, apps: Sequence[str], lines: Sequence[str]) -> list[int]:
        """The template id of each line (learning), its app's miner deciding."""
        ids = []
        touched: dict[str, tuple[TemplateMiner, dict[str, int]]] = {}
        with self._lock:
            for app, line in zip(apps, lines, strict=True):
                entry = touched.get(app)
                if entry is None:
                    entry = touched[app] = self._cache_of(account, app)
                miner, cache = entry
                found = cache.get(line)
                if found is None:
                    found = miner.add(line)[0]
                    if len(line) <= CACHED_LINE_CHARS:
                        cache[line] = found
                        self._cached += 1
                ids.append(found)
            self._journal_fresh(account, touched)
            if self._cached > MAX_CACHED_LINES:
                self._lines.clear()
                self._cached = 0
        return ids

    def _cache_of(self, account: str, app: str) -> tuple[TemplateMiner, dict[str, int]]:
        miner = self.miners.miner(account, app)
        entry = self._lines.get(miner.key)
        if entry is None or entry[0] is not miner:  # a miner dropped and made again learns anew
            entry = self._lines[miner.key] = (miner, {})
        return entry

    def _journal_fresh(self, account: str, touched: dict[str, tuple[TemplateMiner, dict[str, int]]]) -> None:
        rows = []
        for app, (miner, _) in touched.items():
            rows.extend(
                orjson.dumps({"account": account, "app": app, "id": t.id, "tokens": t.tokens, "path": list(t.path)})
                for t in miner.fresh
            )
            miner.fresh.clear()
        if not rows:
            return
        self._dirty = True
        with open(self.directory / JOURNAL_FILE, "ab") as journal:  # opened per batch: new templates are rare
            journal.write(b"\n".join(rows) + b"\n")
            journal.flush()
            os.fsync(journal.fileno())

    def find(self, account: str, ident: int) -> tuple[str, str] | None:
        """The app and text (as it is now) of the template of `account`'s lines with this id."""
        with self._lock:
            for app, miner in self.miners.of_account(account):
                found = miner.template(ident)
                if found is not None:
                    return app, found.text
        return None

    def save(self, *, always: bool = False) -> None:
        """Write the snapshot (atomically) if a template was born since the last (or `always`),
        then empty the journal. Ids are safe in the journal already, so a steady stream of known
        templates does not rewrite the snapshot (it holds up to 4,096 lines per miner) each
        minute; only a clean shutdown also keeps what templates generalised. Holds the lock
        throughout, so no new template falls between the snapshot and emptying the journal."""
        with self._lock:
            if not (self._dirty or always):
                return
            replace_atomically(self.directory / SNAPSHOT_FILE, orjson.dumps(self.miners.state()))
            (self.directory / JOURNAL_FILE).unlink(missing_ok=True)
            self._dirty = False

    def close(self) -> None:
        self.save(always=True)
