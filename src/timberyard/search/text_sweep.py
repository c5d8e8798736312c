"""Many terms and phrases tested against one batch at once, for an alert engine whose alerts of
an account name hundreds of words, most of which no line of a given batch contains.

Testing each word alone costs one pass over every line per word. `sweep` instead runs one RE2
search for all of the words' texts together (any of them, in any case, as a substring: the
prefilter `to_arrow` runs for one word), then halves the set of words and searches each half
only in the lines the whole set found, and so on: a word that no line contains is settled by
the first pass, and the passes for the others read fewer and fewer lines. A group of at most
`_ALONE` words tests each of its words on its lines, and each word's exact test (its term
pattern or lowered phrase, `to_arrow.text_test`) runs only on the lines its own search found. `TextSweep` holds the
words of a set of queries and their searches, made once for batch after batch.
The answers are kept in the `SharedBatch`, where every filter compiled by `compile_filter`
finds them: the same answers, per line, as each filter computing its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.search.ast import And, Node, Not, Or, Phrase, Term
from timberyard.search.to_arrow import SharedBatch, text_test

_ALONE = 4  # a group this small tests its words one by one on the lines it found
# Below this many words a sweep saves little, and each filter testing its own words can test
# them on the lines its other checks left open (an app's lines, say) rather than on all.
WORTH_IT = 8


def sweep(shared: SharedBatch, nodes: Iterable[Node]) -> None:
    """Keep in `shared` the answer of every term and phrase of `nodes` over the whole batch."""
    TextSweep(nodes)(shared)


class TextSweep:
    """The terms and phrases of many queries, made ready once (sorted, their searches written)
    to be searched for in batch after batch."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.words = sorted({word for node in nodes for word in _words(node)}, key=_order)
        self._patterns: dict[tuple[int, int], str] = {}

    def __call__(self, shared: SharedBatch) -> None:
        """Keep in `shared` the answer of every word over the whole batch."""
        if not self.words or not shared.num_rows:
            return
        line = shared.text("line")
        found: dict[Term | Phrase, np.ndarray] = {}
        self._search(line, 0, len(self.words), None, found)
        nowhere = pa.array(np.zeros(shared.num_rows, dtype=bool))  # shared by the words no line has
        for word in self.words:
            shared.answers[word] = pa.array(found[word]) if word in found else nowhere

    def _search(self, line: pa.Array, lo: int, hi: int, rows: np.ndarray | None, found: dict[Term | Phrase, np.ndarray]) -> None:
        """Find the lines of each of words[lo:hi] among `rows` (None: every line) of `line`."""
        values = line if rows is None else line.take(pa.array(rows))
        if hi - lo <= _ALONE:
            for word in self.words[lo:hi]:
                _exact(line, word, values, rows, found)
            return
        if (lo, hi) not in self._patterns:
            self._patterns[(lo, hi)] = _any_of(self.words[lo:hi])
        hit = pc.match_substring_regex(values, self._patterns[(lo, hi)]).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(hit) if rows is None else rows[hit]
        if len(rows):
            middle = (lo + hi) // 2
            self._search(line, lo, middle, rows, found)
            self._search(line, middle, hi, rows, found)


def _exact(line: pa.Array, word: Term | Phrase, values: pa.Array, rows: np.ndarray | None, found: dict) -> None:
    candidates = pc.match_substring(values, word.text, ignore_case=True).to_numpy(zero_copy_only=False)
    positions = np.flatnonzero(candidates) if rows is None else rows[candidates]
    if not len(positions):
        return
    answer = np.zeros(len(line), dtype=bool)
    answer[positions] = text_test(word)(line.take(pa.array(positions))).to_numpy(zero_copy_only=False)
    found[word] = answer


def _any_of(words: list[Term | Phrase]) -> str:
    """RE2: any of the words' texts, literally, in any case (as `match_substring(ignore_case=True)`)."""
    return "(?i)(?:" + "|".join(_literal(word.text) for word in words) + ")"


def _literal(text: str) -> str:
    """`text` as RE2 matching it literally: ASCII letters and digits as they are, other ASCII
    characters as `\\x{..}`, others (never RE2 syntax) as they are."""
    return "".join(char if not char.isascii() or char.isalnum() else f"\\x{{{ord(char):02X}}}" for char in text)


def _order(word: Term | Phrase) -> tuple[str, str]:
    """Words with a common beginning end up in the same halves (and their searches find the
    same lines)."""
    return word.text.lower(), type(word).__name__


def _words(node: Node) -> Iterator[Term | Phrase]:
    match node:
        case Term() | Phrase():
            yield node
        case Not(item):
            yield from _words(item)
        case And(items) | Or(items):
            for item in items:
                yield from _words(item)
