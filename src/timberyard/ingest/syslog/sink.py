"""Where every syslog listener and drain hands what it read: decoded, counted, made durable.

`store` returns only once every line it stored is fsync'd in the write-ahead log, waiting while
the node starts or the log is full: a stream listener does not read again until then, so a slow
store slows the sender through TCP itself, and RELP acknowledges only what `store` returned for.

Decoding has a fixed cost per call of several milliseconds (decode.py), and one read of one
connection is a few hundred messages. So reads are decoded together: while one decode runs on
the pipeline's threads, the reads that arrive wait, and the next decode takes them all. Each
caller then hands its own batches to the pipeline, which processes waiting batches of one
account and source together too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from timberyard.core.clock import now_ms
from timberyard.ingest.pipeline import Pipeline
from timberyard.ingest.syslog.accounts import KeyAccounts
from timberyard.ingest.syslog.decode import (
    HEADER_ALLOWANCE,
    Decoded,
    Origin,
    Received,
    decode,
)
from timberyard.ingest.syslog.framing import Frames
from timberyard.ingest.syslog.stats import SyslogStats

MAX_DECODED_MESSAGES = 50_000  # per decode: bounds its latency and memory


class Sink:
    def __init__(self, pipeline: Pipeline, keys: KeyAccounts, stats: SyslogStats, max_line_bytes: int) -> None:
        self.pipeline = pipeline
        self.keys = keys
        self.stats = stats
        self.max_line_bytes = max_line_bytes
        self._waiting: list[tuple[Received, asyncio.Future[Decoded]]] = []
        self._decoder: asyncio.Task[None] | None = None

    @property
    def max_message_bytes(self) -> int:
        """The longest message a listener reads whole; longer ones are cut where they are read."""
        return self.max_line_bytes + HEADER_ALLOWANCE

    async def store(self, frames: Frames, peers: Sequence[str] | str, origin: Origin) -> Decoded:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Decoded] = loop.create_future()
        self._waiting.append((Received(frames, peers, origin), answer))
        if self._decoder is None:
            self._decoder = loop.create_task(self._decode_waiting())
        decoded = await answer
        self.stats.decoded(origin.ingester, decoded)
        for batch in decoded.batches:
            await self.pipeline.accept(batch, wait=True)
        return decoded

    async def _decode_waiting(self) -> None:
        try:
            while self._waiting:
                group, count = [], 0
                while self._waiting and (not group or count + len(self._waiting[0][0].frames) <= MAX_DECODED_MESSAGES):
                    group.append(self._waiting.pop(0))
                    count += len(group[-1][0].frames)
                reads = [read for read, _ in group]
                try:
                    results = await self.pipeline.run(decode, reads, self.keys, self.max_line_bytes, now_ms())
                except Exception as exc:  # every caller hears of it; the next group is decoded anew
                    for _, answer in group:
                        if not answer.done():
                            answer.set_exception(exc)
                    continue
                for (_, answer), decoded in zip(group, results):
                    if not answer.done():
                        answer.set_result(decoded)
        finally:
            self._decoder = None
