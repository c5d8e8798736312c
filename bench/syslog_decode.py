"""Syslog decode benchmark, in isolation: CPU per message to frame one octet-counted stream,
decode it into the pipeline's batches (ingest/syslog/framing.py and decode.py), and run those
through the pipeline's stages (ingest/stages/) as the node does; no server, no sockets, no WAL. Compare before and after a change on the same machine; bench/syslog.py measures the
whole node against rsyslog.

    .venv/bin/python bench/syslog_decode.py                    # 50,000 RFC 5424 messages, best of 5
    .venv/bin/python bench/syslog_decode.py --messages 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import tempfile
import time

from syslog import messages, octet_streams

from timberyard.ingest.field_types import FieldTypes
from timberyard.ingest.rules.compiled import NO_RULES
from timberyard.ingest.stages import Context, process
from timberyard.ingest.syslog.accounts import KeyAccounts
from timberyard.ingest.syslog.decode import Origin, Received, decode
from timberyard.ingest.syslog.framing import StreamFramer
from timberyard.meta.database import MetaDB

READ_BYTES = 64 * 1024  # what one socket read brings (asyncio reads at most this)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    now_ms = int(time.time() * 1000)
    (stream,) = octet_streams(messages(args.messages, 1, now_ms), 1)
    origin = Origin("syslog-tcp", "bench")
    with tempfile.TemporaryDirectory() as tmp:
        metadata = MetaDB.open(f"sqlite:///{tmp}/meta.sqlite3")
        field_types = FieldTypes(metadata, max_paths=1000).for_account(metadata.create_account("bench").id)
        context = Context(now_ms, 1, 30, 32 * 1024, 0, NO_RULES, field_types)
        timings = [_once(stream, origin, context, now_ms, args.messages) for _ in range(args.repeat)]
        metadata.close()
    for index, name in enumerate(("framing", "decode", "stages")):
        best = min(timing[index] for timing in timings)
        print(f"{name:8} {best / args.messages * 1e6:6.2f} us/message (CPU, best of {args.repeat})")


def _once(stream: bytes, origin: Origin, context: Context, now_ms: int, count: int) -> tuple[float, float, float]:
    """CPU seconds to frame, decode, and run the stages."""
    started = time.process_time()
    framer = StreamFramer(64 * 1024)
    for offset in range(0, len(stream), READ_BYTES):
        framer.feed(stream[offset : offset + READ_BYTES])
    frames = framer.take()
    framed = time.process_time()
    (decoded,) = decode([Received(frames, "127.0.0.1", origin)], KeyAccounts(None), 32 * 1024, now_ms)
    decoded_at = time.process_time()
    (batch,) = decoded.batches
    process(batch, context)
    assert decoded.messages == count, decoded.messages
    return framed - started, decoded_at - framed, time.process_time() - decoded_at


if __name__ == "__main__":
    main()
