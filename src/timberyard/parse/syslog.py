"""Syslog messages as devices really send them, read a batch at a time.

The header grammars are the line formats of parse/formats.py (RFC 5424, RFC 3164, and RFC 3164
with an RFC 3339 time): a message received over the wire is read by the first that matches it,
its header becomes the line's host, app, level, time and fields, and what follows the header is
the line. What those formats leave to this module:

- STRUCTURED-DATA (parse/structured_data.py): its parameters become fields, and LogDNA's
  `[logdna@48950 key="..." tags="a,b"]` is taken out, to choose the account;
- RFC 5424 with no STRUCTURED-DATA (Heroku's Logplex), an empty one (Cloud Foundry) or a broken
  one (VMware ESXi): a NILVALUE is put in its place and the message is read again;
- Cisco IOS, NX-OS and ASA, which put a sequence number, a time with or without a year, or
  nothing at all between the PRI and the `%FACILITY-SEVERITY-MNEMONIC` that starts their text;
- anything else: a message with a PRI keeps its level and facility and the rest is its text;
  one without is kept whole and marked unparsed, for the caller to count.

Fields: `syslog.facility` (its name), `syslog.pid` (a numeric PROCID) or `syslog.procid` (any
other), `syslog.msgid`, the structured data's parameters, and for Cisco `cisco.facility`,
`cisco.severity`, `cisco.mnemonic`, `cisco.sequence`. Per-message Python runs only to build the
fields and for messages with structured data; reading is vectorised.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.fields import scatter_indices
from timberyard.parse import times
from timberyard.parse.format import LineFormat, extract
from timberyard.parse.formats import RFC3164, RFC5424, SYSLOG_ISO, SYSLOG_SEVERITIES
from timberyard.parse.structured_data import read_structured_data

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
)


@dataclass(frozen=True)
class _Header:
    """A header format of parse/formats.py as it reads messages received over the wire."""

    format: LineFormat  # PROCID kept as text: Heroku's `web.1` is a process id as much as `8710`
    prefix: str  # the same pattern without its groups: what to cut off to leave the message

    @classmethod
    def of(cls, fmt: LineFormat) -> _Header:
        kinds = {group: kind for group, kind in fmt.kinds.items() if group != "syslog__pid"}
        # RFC 5424's length limits (`\S{1,255}` for HOSTNAME ...) are not enforced here: RE2
        # expands a counted repetition into that many states, which made a batch's pattern take
        # 3.6 ms to compile and 2.9 us per message to match, against 0.3 ms and 0.9 us for `\S+`;
        # and a 300-character hostname is still the sender's hostname.
        pattern = re.sub(r"\\S\{1,[0-9]+\}", r"\\S+", fmt.pattern)
        # RE2 finds a match far faster than it fills groups (0.4 against 2.3 us per RFC 5424
        # message), so the message is what is left once the header is cut off, not a group.
        prefix = re.sub(r"\(\?P<\w+>", "(?:", pattern)
        return cls(dataclasses.replace(fmt, pattern=pattern, kinds=kinds), prefix)


HEADERS = (_Header.of(RFC5424), _Header.of(RFC3164), _Header.of(SYSLOG_ISO))

# RFC 5424 with an empty STRUCTURED-DATA (Cloud Foundry without tags: two spaces), none at all
# (Logplex), or one that is not well formed (VMware ESXi's `[Originator@6876 sub=Hostd]`): a
# NILVALUE is put in its place, and what was there is part of the message.
_EMPTY_SD = r"^(<[0-9]{1,3}>1 (?:\S+ ){5}) "
_NO_SD = r"^(<[0-9]{1,3}>1 (?:\S+ ){5})([^- ]|-\S)"
_VERSION_1 = r"^<[0-9]{1,3}>1 "

_PRI = r"^<(?P<priority>1[0-8][0-9]|19[01]|[1-9]?[0-9])>(?P<rest>(?s:.*))"

# Cisco's own times: `Mar  1 00:00:00.000`, `Jun 13 2025 10:00:00 UTC`, NX-OS's `2025 Jun 13 10:00:00`.
_MON = "(?P<mon>" + "|".join(times.MONTHS) + ")"
_CLOCK = r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?"
_ZONE = r"(?: (?P<zone>[A-Z]{2,5}))?"
_CISCO_TIMES = times.first_of(
    times.pattern_reader(rf"^{_MON} +(?P<day>[0-9]{{1,2}}) {_CLOCK}{_ZONE}$"),
    times.pattern_reader(rf"^{_MON} +(?P<day>[0-9]{{1,2}}) (?P<year>[0-9]{{4}}) {_CLOCK}{_ZONE}$"),
    times.pattern_reader(rf"^(?P<year>[0-9]{{4}}) {_MON} +(?P<day>[0-9]{{1,2}}) {_CLOCK}{_ZONE}$"),
)
_CISCO_TIME = (
    r"(?:[A-Z][a-z]{2} +[0-9]{1,2} (?:[0-9]{4} )?|[0-9]{4} [A-Z][a-z]{2} +[0-9]{1,2} )"
    r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?: [A-Z]{2,5})?"
)
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]*"
# What follows the PRI (or a standard header) in Cisco's messages, up to the mnemonic:
# IOS `123: router1: *Mar  1 00:00:00.000: %SYS-5-CONFIG_I: ...`, ASA `Jun 13 2025 10:00:00 fw01
# : %ASA-6-302013: ...` or just `%ASA-6-302013: ...`, NX-OS `: 2025 Jun 13 10:00:00 UTC: %ETH...`.
CISCO = LineFormat(
    "cisco",
    r"^:? ?(?:(?P<cisco__sequence>[0-9]+): )?(?:(?P<device__origin>" + _NAME + r"): )?[*.]?"
    r"(?:(?P<time>" + _CISCO_TIME + r")(?: (?P<device__id>" + _NAME + r"))? ?: ?)?"
    r"(?:(?P<device__alone>" + _NAME + r") : )?"
    r"(?P<message>%(?P<cisco__facility>[A-Z][A-Z0-9_]*)(?:-[A-Z][A-Z0-9_]*)?-(?P<cisco__severity>[0-7])"
    r"-(?P<cisco__mnemonic>[A-Za-z0-9_]+):?(?s:.*))",
    kinds={"cisco__sequence": "int", "cisco__severity": "int"},
    time="time",
    read_time=_CISCO_TIMES,
    signature=r"%[A-Z][A-Z0-9_]*(?:-[A-Z][A-Z0-9_]*)?-[0-7]-[A-Za-z0-9_]+",
)
# The device names CISCO finds, most trusted first: ASA's device id, then IOS's origin id.
_CISCO_DEVICE = ("device.id", "device.alone", "device.origin")
# A tag that is a Cisco mnemonic (`<166>Jun 13 10:00:00 fw01 %ASA-6-302013: ...`) belongs to the message.
_CISCO_TAG = r"^%[A-Z][A-Z0-9_]*(?:-[A-Z][A-Z0-9_]*)?-[0-7]-[A-Za-z0-9_]+$"


@dataclass
class Messages:
    """What a batch of syslog messages says, a column per part; every array has one value per
    message. `host`, `app` and `level` are "" where the message names none."""

    line: pa.Array
    host: pa.Array
    app: pa.Array
    level: pa.Array
    ts: pa.Array  # int64 epoch ms; null where the message states no time or an unreadable one
    fields: list[dict[str, Any] | None]  # per message, flattened (core/fields.py)
    unparsed: np.ndarray  # bool per message: nothing was read, the text is kept whole
    keys: dict[int, str] = field(default_factory=dict)  # message -> its LogDNA ingestion key
    tags: dict[int, list[str]] = field(default_factory=dict)  # message -> its LogDNA tags


def read_messages(texts: pa.Array, received_ms: int) -> Messages:
    """Read every message of `texts` (strings: the frames as received, without framing);
    `received_ms` places times that state no year (parse/times.py)."""
    count = len(texts)
    parts = _Parts(count)
    unclaimed = np.ones(count, dtype=bool)
    for fmt in HEADERS:
        _read_header(parts, fmt, texts, unclaimed, received_ms)
    _read_without_sd(parts, texts, unclaimed, received_ms)
    _read_bare(parts, texts, unclaimed)
    _read_cisco(parts, received_ms)
    return parts.messages()


class _Parts:
    """The columns of `Messages` as they are found, full length, null where not yet found."""

    def __init__(self, count: int) -> None:
        self.count = count
        none = pa.nulls(count, pa.string())
        self.message, self.host, self.app, self.level = none, none, none, none
        self.procid, self.msgid, self.sd = none, none, none
        self.priority = pa.nulls(count, pa.int64())
        self.ts = pa.nulls(count, pa.int64())
        self.unparsed = np.zeros(count, dtype=bool)
        self.cisco: dict[str, pa.Array] = {}

    def fill(self, name: str, values: pa.Array | None, positions: pa.Array) -> None:
        """Set column `name` at `positions` (where it is still null) to `values`, one per position."""
        if values is None:
            return
        mine = getattr(self, name)
        if len(positions) == self.count and mine.null_count == self.count:  # all of them, the usual case
            setattr(self, name, values.cast(mine.type))
            return
        spread = values.take(scatter_indices(self.count, positions))
        setattr(self, name, pc.coalesce(mine, spread.cast(mine.type)))

    def messages(self) -> Messages:
        message = pc.fill_null(self.message, "")
        # RFC 5424's BOM marks a parsed MSG as UTF-8; an unparsed message is kept exactly as sent.
        line = pc.if_else(pa.array(self.unparsed), message, pc.utf8_ltrim(message, characters="\ufeff"))
        level = pc.fill_null(self.level, "")
        facility = pc.take(pa.array(FACILITIES), pc.divide(self.priority, 8))
        rows = _header_fields(facility, self.procid, self.msgid, self.cisco)
        result = Messages(
            line=line,
            host=pc.fill_null(self.host, ""),
            app=pc.fill_null(self.app, ""),
            level=level,
            ts=self.ts,
            fields=rows,
            unparsed=self.unparsed,
        )
        _read_structured_data(result, self.sd)
        return result


def _read_header(parts: _Parts, header: _Header, texts: pa.Array, unclaimed: np.ndarray, received_ms: int) -> None:
    """Offer the unclaimed messages to one of the standard header formats."""
    positions = pa.array(np.flatnonzero(unclaimed), pa.int64())
    if not len(positions):
        return
    offered = texts.take(positions)
    found = extract(header.format, offered, received_ms)
    if not pc.any(found.matched).as_py():
        return
    read = positions.filter(found.matched)
    unclaimed[read.to_numpy()] = False
    message = pc.replace_substring_regex(offered.filter(found.matched), header.prefix, "")  # anchored: one at most
    parts.fill("message", message, read)
    for name, path in (("host", "syslog.host"), ("app", "syslog.app"), ("procid", "syslog.pid"),
                       ("msgid", "syslog.msgid"), ("priority", "syslog.priority")):
        values = found.fields.get(path)
        parts.fill(name, None if values is None else values.filter(found.matched), read)
    parts.fill("ts", None if found.times is None else found.times.filter(found.matched), read)
    parts.fill("level", None if found.levels is None else found.levels.filter(found.matched), read)
    parts.fill("sd", None if found.rest is None else found.rest.filter(found.matched), read)


def _read_without_sd(parts: _Parts, texts: pa.Array, unclaimed: np.ndarray, received_ms: int) -> None:
    """RFC 5424 messages that leave out STRUCTURED-DATA: read again with a NILVALUE put back."""
    positions = pa.array(np.flatnonzero(unclaimed), pa.int64())
    if not len(positions):
        return
    versioned = pc.fill_null(pc.match_substring_regex(texts.take(positions), _VERSION_1), False)
    if not pc.any(versioned).as_py():
        return
    positions = positions.filter(versioned)
    repaired = pc.replace_substring_regex(texts.take(positions), _EMPTY_SD, r"\1- ")
    repaired = pc.replace_substring_regex(repaired, _NO_SD, r"\1- \2")
    offered = np.zeros(len(texts), dtype=bool)
    offered[positions.to_numpy()] = True
    remaining = offered.copy()
    _read_header(parts, HEADERS[0], pc.coalesce(repaired.take(scatter_indices(len(texts), positions)), texts), remaining, received_ms)
    unclaimed &= ~(offered & ~remaining)


def _read_bare(parts: _Parts, texts: pa.Array, unclaimed: np.ndarray) -> None:
    """What no header format read: a PRI gives level and facility and the rest is the message;
    without one the whole text is the message, unparsed."""
    candidates = np.flatnonzero(unclaimed)
    if not len(candidates):
        return
    positions = pa.array(candidates, pa.int64())
    subset = texts.take(positions)
    found = pc.extract_regex(subset, _PRI)
    with_pri = found.is_valid()
    priority = pc.cast(pc.struct_field(found, "priority"), pa.int64())
    parts.fill("priority", priority, positions)
    parts.fill("level", pc.take(pa.array(SYSLOG_SEVERITIES), pc.bit_wise_and(priority, 7)), positions)
    parts.fill("message", pc.if_else(with_pri, pc.struct_field(found, "rest"), subset), positions)
    unparsed = ~pc.fill_null(with_pri, False).to_numpy(zero_copy_only=False)
    parts.unparsed[candidates[unparsed]] = True
    unclaimed[candidates] = False


def _read_cisco(parts: _Parts, received_ms: int) -> None:
    """Cisco's own header, wherever it is left at the start of a message: after a PRI alone,
    after an RFC 3164 header whose tag was IOS's sequence number, or as that tag itself."""
    cisco_tag = pc.fill_null(pc.match_substring_regex(parts.app, _CISCO_TAG), False)
    if pc.any(cisco_tag).as_py():
        rejoined = pc.binary_join_element_wise(parts.app, pc.fill_null(parts.message, ""), ": ")
        parts.message = pc.if_else(cisco_tag, rejoined, parts.message)
    found = extract(CISCO, pc.fill_null(parts.message, ""), received_ms)
    matched = pc.fill_null(found.matched, False)
    if not pc.any(matched).as_py():
        return
    parts.message = pc.if_else(matched, found.fields["message"], parts.message)
    parts.app = pc.if_else(matched, found.fields["cisco.facility"], parts.app)
    devices = [found.fields[path] for path in _CISCO_DEVICE if path in found.fields]
    parts.host = pc.coalesce(parts.host, *devices)
    if found.times is not None:
        parts.ts = pc.coalesce(parts.ts, found.times)
    for path in ("cisco.facility", "cisco.severity", "cisco.mnemonic", "cisco.sequence"):
        parts.cisco[path] = found.fields[path]


def _header_fields(
    facility: pa.Array, procid: pa.Array, msgid: pa.Array, cisco: dict[str, pa.Array]
) -> list[dict[str, Any] | None]:
    """Each message's header fields: facility, PROCID (a number as `syslog.pid`), MSGID, Cisco's.
    Built column by column, visiting only the messages that have a value (most have no MSGID)."""
    numeric = pc.fill_null(pc.match_substring_regex(procid, r"^[0-9]{1,18}$"), False)
    rows: list[dict[str, Any] | None] = [None if name is None else {"syslog.facility": name} for name in facility.to_pylist()]
    columns = {
        "syslog.pid": pc.cast(pc.if_else(numeric, procid, None), pa.int64()),
        "syslog.procid": pc.if_else(numeric, None, procid),
        "syslog.msgid": msgid,
        **cisco,
    }
    for name, values in columns.items():
        if values.null_count == len(values):
            continue
        present = pc.indices_nonzero(values.is_valid())
        for index, value in zip(present.to_pylist(), values.take(present).to_pylist()):
            row = rows[index]
            if row is None:
                rows[index] = {name: value}
            else:
                row[name] = value
    return rows


def _read_structured_data(messages: Messages, sd: pa.Array) -> None:
    """Fields, the ingestion key and tags of the messages that have structured data."""
    present = pc.indices_nonzero(pc.fill_null(pc.not_equal(sd, ""), False)).to_pylist()
    for index, text in zip(present, sd.take(pa.array(present, pa.int64())).to_pylist()):
        read = read_structured_data(text)
        if read.key:
            messages.keys[index] = read.key
        if read.tags:
            messages.tags[index] = read.tags
        if read.fields:
            row = messages.fields[index] or {}
            for name, value in read.fields.items():
                row.setdefault(name, value)
            messages.fields[index] = row
