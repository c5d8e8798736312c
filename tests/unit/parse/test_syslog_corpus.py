"""Over two hundred messages shaped like real devices' output (tests/data/syslog/messages.py)
decode to what corpus.jsonl says, entry by entry; together, as a listener decodes them, too."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "syslog"
sys.path.insert(0, str(DATA))
from make_corpus import DEFAULT_ACCOUNT, CorpusKeys, read, received_ms
from messages import MESSAGES, PEER

from timberyard.ingest.syslog.decode import Origin, Received, decode
from timberyard.ingest.syslog.framing import Frames

CORPUS = [orjson.loads(line) for line in (DATA / "corpus.jsonl").read_bytes().splitlines()]


def test_the_corpus_has_every_message_and_over_two_hundred() -> None:
    written = [message for messages in MESSAGES.values() for message in messages]
    assert [entry["message"] for entry in CORPUS] == written, "run tests/data/syslog/make_corpus.py and check the new entries"
    assert len(CORPUS) >= 200
    assert len({entry["device"] for entry in CORPUS}) >= 15


@pytest.mark.parametrize("entry", CORPUS, ids=[f"{index}:{entry['message'][:40]}" for index, entry in enumerate(CORPUS)])
def test_each_message_reads_as_the_corpus_says(entry: dict[str, Any]) -> None:
    expected = {name: value for name, value in entry.items() if name not in ("device", "message")}
    assert read(entry["message"]) == expected


def test_the_whole_corpus_decoded_at_once_reads_the_same() -> None:
    """One batch of every message, as a listener decodes a read: nothing read differently for
    being among other formats, and every message accounted for."""
    frames = Frames([entry["message"].encode() for entry in CORPUS])
    decoded = decode([Received(frames, PEER, Origin("syslog-udp", DEFAULT_ACCOUNT))], CorpusKeys(), 32768, received_ms())[0]  # type: ignore[arg-type]
    stored = [entry for entry in CORPUS if "refused" not in entry]
    lines = [line for batch in decoded.batches for line in batch.column("line").to_pylist()]
    assert sorted(lines) == sorted(entry["line"] for entry in stored)
    assert sum(decoded.refused.values()) == len(CORPUS) - len(stored)
    assert decoded.unparsed == sum(entry["unparsed"] for entry in stored)
