"""Framed syslog messages into the pipeline's batches, one per account.

Runs on the pipeline's threads (it is CPU work), on what several reads (of one connection or
of many) brought at once: reading a batch of messages costs about 7 ms whatever its size (the
regular expressions of the header formats are compiled anew on every call), so reads that
wait together are read together and split again afterwards (sink.py).

The header and structured data are read by parse/syslog.py; here each message gets what the
wire adds: its sender's address (the host of a message that names none, and `_ip` of every
message), its account (accounts.py), and for a message cut in framing, a marker in the line and
a `truncated_lines` problem that /metrics counts, as the pipeline does for long lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.ingest.batch import LineBatch, Problems, line_batch
from timberyard.ingest.syslog.accounts import (
    NO_ACCOUNT,
    WRONG_KEY,
    KeyAccounts,
    KeyLookup,
)
from timberyard.ingest.syslog.framing import Frames
from timberyard.parse.syslog import Messages, read_messages

# The framer keeps this much more than max_line_bytes, so that a message whose text is just
# within max_line_bytes is not cut in framing because of its header and structured data.
HEADER_ALLOWANCE = 4096


@dataclass(frozen=True)
class Origin:
    """Where a batch of messages came from."""

    ingester: str  # `_ingester`: syslog-udp, syslog-tcp, syslog-tls, relp, relp-tls, heroku, cloudfoundry
    account: str | None  # the connection's account (TLS client certificate, else the listener's default)


@dataclass(frozen=True)
class Received:
    """What one read brought: messages, their sender (one address, or one per message for UDP)."""

    frames: Frames
    peers: Sequence[str] | str
    origin: Origin


@dataclass
class Decoded:
    batches: list[LineBatch] = field(default_factory=list)
    messages: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # reason -> messages refused
    unparsed: int = 0  # stored whole: no syslog header was found
    truncated: int = 0
    framing_errors: int = 0


def decode(reads: Sequence[Received], keys: KeyAccounts, max_line_bytes: int, received_ms: int) -> list[Decoded]:
    """Each read's messages as batches, in the order of `reads`."""
    frames = [message for read in reads for message in read.frames.messages]
    if not frames:
        return [Decoded(framing_errors=read.frames.framing_errors) for read in reads]
    truncated: dict[int, tuple[int, int]] = {}  # position -> (size as sent, bytes kept)
    start = 0
    for read in reads:
        for index, size in read.frames.truncated.items():
            frames[start + index] = _whole_characters(frames[start + index])
            truncated[start + index] = (size, len(frames[start + index]))
        start += len(read.frames)
    messages = read_messages(_texts(frames), received_ms)
    addresses = pa.concat_arrays([_addresses(read.peers, len(read.frames)) for read in reads])
    host = pc.if_else(pc.equal(messages.host, ""), addresses, messages.host)
    lines = _mark_truncated(messages.line, truncated, max_line_bytes)
    columns = {"host": host, "app": messages.app, "level": messages.level, "ts": messages.ts, "ip": addresses}
    resolver = keys.resolver()
    results, start = [], 0
    for read in reads:
        stop = start + len(read.frames)
        decoded = Decoded(messages=len(read.frames), truncated=len(read.frames.truncated), framing_errors=read.frames.framing_errors)
        accounts = _accounts(messages, range(start, stop), read.origin.account, resolver, decoded.refused)
        for account, rows in _by_account(accounts, start):
            decoded.batches.append(_batch(account, read.origin.ingester, rows, lines, columns, messages, truncated, max_line_bytes))
            decoded.unparsed += int(np.count_nonzero(messages.unparsed[rows]))
        results.append(decoded)
        start = stop
    return results


def _texts(frames: list[bytes]) -> pa.Array:
    """The messages as text, without a Python string per message: Arrow copies the bytes and
    checks them as UTF-8 at once. A batch with bytes that are not UTF-8 (rare: Latin-1 devices)
    is decoded message by message, those bytes kept as `\\xe9`."""
    try:
        return pa.array(frames, pa.binary()).cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array([message.decode("utf-8", "backslashreplace") for message in frames], pa.string())


def _addresses(peers: Sequence[str] | str, count: int) -> pa.Array:
    if isinstance(peers, str):
        return pa.repeat(pa.scalar(peers, pa.string()), count)
    return pa.array(peers, pa.string())


def _whole_characters(message: bytes) -> bytes:
    """A message cut at a byte limit, without the start of a UTF-8 character it ends with."""
    for back in range(1, min(4, len(message)) + 1):
        byte = message[-back]
        if byte < 0x80:
            return message
        if byte >= 0xC0:  # the first byte of a character: is the character whole?
            needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return message if back >= needed else message[:-back]
    return message


def _accounts(messages: Messages, rows: range, default: str | None, resolver: KeyLookup, refused: Counter[str]) -> list[str | None]:
    """The account of each message of `rows`; None where it is refused (counted in `refused`)."""
    accounts: list[str | None] = [default] * len(rows)
    keyed = 0
    for row, key in messages.keys.items():
        if rows.start <= row < rows.stop:
            keyed += 1
            account = resolver.account(key)
            accounts[row - rows.start] = account
            if account is None:
                refused[WRONG_KEY] += 1
    if default is None and len(rows) > keyed:
        refused[NO_ACCOUNT] += len(rows) - keyed
    return accounts


def _by_account(accounts: list[str | None], start: int) -> list[tuple[str, list[int]]]:
    """Message positions per account, in order; refused messages (None) in none."""
    if not accounts:
        return []
    first = accounts[0]
    if first is not None and accounts.count(first) == len(accounts):
        return [(first, list(range(start, start + len(accounts))))]
    groups: dict[str, list[int]] = {}
    for offset, account in enumerate(accounts):
        if account is not None:
            groups.setdefault(account, []).append(start + offset)
    return list(groups.items())


def _batch(
    account: str,
    ingester: str,
    rows: list[int],
    lines: pa.Array,
    columns: dict[str, pa.Array],
    messages: Messages,
    truncated: dict[int, tuple[int, int]],
    max_line_bytes: int,
) -> LineBatch:
    take = pa.array(rows, pa.int64())
    problems = Problems()
    if truncated:
        for position, row in enumerate(rows):
            if row in truncated:
                size = truncated[row][0]
                problems.add(
                    "truncated_lines",
                    [position],
                    lambda _, line, size=size: f"line {line}: a {size}-byte syslog message, over the {max_line_bytes}-byte limit; truncated",
                )
    tags = [messages.tags.get(row, []) for row in rows] if messages.tags else None
    return line_batch(
        account,
        ingester,
        lines.take(take),
        meta=[messages.fields[row] for row in rows],
        problems=problems,
        tags=tags,
        **{name: values.take(take) for name, values in columns.items()},
    )


def _mark_truncated(lines: pa.Array, truncated: dict[int, tuple[int, int]], max_line_bytes: int) -> pa.Array:
    """Lines of messages cut in framing, cut further to fit their marker within max_line_bytes
    (so the pipeline does not cut them again) and marked as the pipeline marks long lines."""
    if not truncated:
        return lines
    texts = lines.to_pylist()
    for row, (size, kept) in truncated.items():
        encoded = texts[row].encode("utf-8")
        removed = size - kept
        room = max_line_bytes - len(_marker(size))  # no marker is longer than this one
        if len(encoded) > room:
            text = encoded[: max(room, 0)].decode("utf-8", "ignore")
            removed += len(encoded) - len(text.encode("utf-8"))
            texts[row] = text
        texts[row] += _marker(removed)
    return pa.array(texts, pa.string())


def _marker(removed: int) -> str:
    """The pipeline's own marker for a line it cut (ingest/stages/normalise.py)."""
    return f" [timberyard: truncated {removed} bytes]"
