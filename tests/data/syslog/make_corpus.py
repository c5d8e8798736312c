"""Write corpus.jsonl: each message of messages.py with what decoding it gives.

    .venv/bin/python tests/data/syslog/make_corpus.py

Run it when messages are added, then check every new or changed entry against its source (the
RFC or vendor documentation) before committing: the file is the expectation
tests/unit/parse/test_syslog_corpus.py holds the code to, not a record of what the code does.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).parent))
from messages import MESSAGES, PEER, RECEIVED  # noqa: E402

from timberyard.ingest.syslog.decode import Origin, Received, decode  # noqa: E402
from timberyard.ingest.syslog.framing import Frames  # noqa: E402

KEYS = {"KEY-A": "account-a"}  # the one valid ingestion key of the corpus
DEFAULT_ACCOUNT = "default"
CORPUS = Path(__file__).parent / "corpus.jsonl"


class CorpusKeys:
    """Stands in for the node's key ring."""

    def resolver(self) -> CorpusKeys:
        return self

    def account(self, key: str) -> str | None:
        return KEYS.get(key)


def received_ms() -> int:
    return int(datetime.fromisoformat(RECEIVED.replace("Z", "+00:00")).timestamp() * 1000)


def read(message: str) -> dict[str, Any]:
    """What decoding one message gives, as corpus.jsonl records it."""
    frames = Frames([message.encode()])
    decoded = decode([Received(frames, PEER, Origin("syslog-tcp", DEFAULT_ACCOUNT))], CorpusKeys(), 32768, received_ms())[0]  # type: ignore[arg-type]
    if not decoded.batches:
        return {"refused": next(iter(decoded.refused))}
    batch = decoded.batches[0]
    ts = batch.column("ts").cast("int64")[0].as_py()
    return {
        "account": batch.account,
        "host": batch.column("host")[0].as_py(),
        "app": batch.column("app")[0].as_py(),
        "level": batch.column("level")[0].as_py(),
        "time": None if ts is None else datetime.fromtimestamp(ts / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "line": batch.column("line")[0].as_py(),
        "fields": dict(batch.meta[0][1]) if batch.meta else {},
        "tags": batch.column("tags")[0].as_py(),
        "unparsed": bool(decoded.unparsed),
    }


def main() -> None:
    with CORPUS.open("wb") as out:
        for device, messages in MESSAGES.items():
            for message in messages:
                out.write(orjson.dumps({"device": device, "message": message, **read(message)}) + b"\n")


if __name__ == "__main__":
    main()
