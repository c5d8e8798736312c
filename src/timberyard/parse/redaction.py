"""Redaction: sensitive values found by detectors and replaced by a marker, vectorised.

A detector is one or more RE2 patterns with what replaces a match (the marker, with context
such as `password=` put back). Everything runs through Arrow's RE2, so it costs no per-line
Python and cannot backtrack catastrophically. The one exception is card numbers: RE2 finds
the lines that could hold one (13+ digits starting 2-6), and only those are checked in
Python, number by number, with Luhn's checksum, so an order id or a timestamp of the same
length is left alone.

RE2 has no lookbehind, so a detector that must not start in the middle of a longer token
matches the character before it too and writes it back (`\\1`).

`Redactor` applies a chosen set (detectors, custom patterns, a marker) to a string column and
says which values it changed. `HIPAA` is the preset for protected health information: every
detector here. The stage that walks a batch's columns and fields is ingest/stages/redact.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_MARKER = "[REDACTED]"
DETECTOR_PLACEHOLDER = "{detector}"  # in a marker: the name of the detector that matched
CUSTOM = "custom"  # the detector name of custom patterns, for the placeholder

_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}"
_H16 = r"[0-9A-Fa-f]{1,4}"
# Longest forms first: RE2 takes the first alternative that matches, so a compressed address
# is matched whole rather than up to its `::`.
_IPV6 = "|".join(
    (
        rf"(?:{_H16}:){{7}}{_H16}",
        rf"(?:{_H16}:){{6}}{_IPV4}",
        rf"::(?:[fF]{{4}}(?::0{{1,4}})?:)?{_IPV4}",
        rf"(?:{_H16}:){{1,4}}:{_IPV4}",
        rf"[fF][eE]80:(?::{_H16}){{0,4}}%[0-9A-Za-z]+",
        rf"{_H16}:(?::{_H16}){{1,6}}",
        rf"(?:{_H16}:){{1,2}}(?::{_H16}){{1,5}}",
        rf"(?:{_H16}:){{1,3}}(?::{_H16}){{1,4}}",
        rf"(?:{_H16}:){{1,4}}(?::{_H16}){{1,3}}",
        rf"(?:{_H16}:){{1,5}}(?::{_H16}){{1,2}}",
        rf"(?:{_H16}:){{1,6}}:{_H16}",
        rf"(?:{_H16}:){{1,7}}:",
        rf":(?::{_H16}){{1,7}}",
    )
)

# Card numbers: the lines worth checking (RE2), then the runs of digits in them (Python).
CARD_CANDIDATE = r"[2-6](?:[ -]?[0-9]){12}"
_DIGIT_RUN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_GROUPS = re.compile(r"[0-9]+|[ -]")
CARD_DIGITS = (13, 19)

# Field names whose values are secrets whatever they look like (`{"password": "hunter2"}`).
SECRET_KEY = r"(?i)(?:password|passwd|pwd|passphrase|secret)$"
_SECRET_KEY = re.compile(SECRET_KEY)


@dataclass(frozen=True)
class Find:
    """One RE2 pattern of a detector. A match is replaced by `rewrite`, in which `{marker}`
    stands for the marker and `\\1`, `\\2` put back the pattern's groups (context, such as
    `password=`, that is kept)."""

    pattern: str
    rewrite: str = "{marker}"


@dataclass(frozen=True)
class Detector:
    name: str
    title: str
    description: str
    finds: tuple[Find, ...]
    example: str  # a line it redacts, for the docs and the UI
    python: Callable[[str, str], str] | None = None  # (text, marker) -> text, on lines `finds` flag
    secret_keys: bool = False  # also redacts whole values of fields named like password or secret


def luhn_valid(digits: str) -> bool:
    """Luhn's checksum over a string of digits: true for every real card number (and for one
    in ten random digit strings, hence the length and prefix rules around it)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def card_spans(text: str) -> list[tuple[int, int]]:
    """Where card numbers are in `text`: 13-19 digits starting with 2-6 that pass Luhn's check,
    written together or in groups split by one kind of separator (space or dash), not part of a
    longer run of digits than the card (a 20-digit id holds no card)."""
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        written = run.group()
        if len(written) - written.count(" ") - written.count("-") < CARD_DIGITS[0]:
            continue  # too few digits for a card: most runs (times, ports, counters)
        parts = [(m.start(), m.group()) for m in _GROUPS.finditer(written)]
        groups = [(start, digits) for start, digits in parts if digits[0].isdigit()]
        separators = [digits for _, digits in parts if not digits[0].isdigit()]
        first = 0
        while first < len(groups):
            found = _card_from(groups, separators, first)
            if found is None:
                first += 1
                continue
            last = found
            start = run.start() + groups[first][0]
            end = run.start() + groups[last][0] + len(groups[last][1])
            spans.append((start, end))
            first = last + 1
    return spans


def _card_from(groups: list[tuple[int, str]], separators: list[str], first: int) -> int | None:
    """The last group of the longest card starting at group `first`, if any."""
    low, high = CARD_DIGITS
    if groups[first][1][0] not in "23456":
        return None
    digits = ""
    best = None
    for last in range(first, len(groups)):
        if last > first and separators[last - 1] != separators[first]:
            break
        digits += groups[last][1]
        if len(digits) > high:
            break
        if len(digits) >= low and luhn_valid(digits):
            best = last
    return best


def mask_cards(text: str, marker: str) -> str:
    spans = card_spans(text)
    if not spans:
        return text
    pieces, last = [], 0
    for start, end in spans:
        pieces.append(text[last:start])
        pieces.append(marker)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


DETECTORS: dict[str, Detector] = {
    detector.name: detector
    for detector in (
        Detector(
            "url_password",
            "Passwords in URLs",
            "The password of user:password@ in a URL (scheme://user:password@host).",
            (Find(r"([A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@]*:)[^\s/?#]+(@)", r"\1{marker}\2"),),
            "GET https://bob:[REDACTED]@db.internal/",
        ),
        Detector(
            "password_pair",
            "password= pairs",
            "The value after password, passwd, pwd, passphrase or secret with = or : (quoted or not, "
            "JSON included), and whole values of fields with those names.",
            (
                Find(
                    r"(?i)((?:password|passwd|pwd|passphrase|secret)[\"']?\s*[=:]\s*)"
                    r"(?:\"(?:[^\"\\]|\\.)*\"|'[^']*'|[^\s\"',;&]+)",
                    r"\1{marker}",
                ),
            ),
            "login user=bob password=[REDACTED]",
            secret_keys=True,
        ),
        Detector(
            "bearer_token",
            "Bearer tokens",
            "The token after Bearer (Authorization headers; one with a digit or of 16+ characters), and "
            "JSON web tokens anywhere.",
            (
                # A token has a digit or 16+ characters ("the bearer of bad news" has neither).
                Find(
                    r"(?i)(\bbearer\s+)(?:[A-Za-z._~+/=-]*[0-9][A-Za-z0-9._~+/=-]*|[A-Za-z0-9._~+/=-]{16,})",
                    r"\1{marker}",
                ),
                Find(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
            ),
            "Authorization: Bearer [REDACTED]",
        ),
        Detector(
            "aws_access_key",
            "AWS access keys",
            "AWS access key ids (AKIA..., ASIA... and the other 20-character key prefixes) and the "
            "value of aws_secret_access_key.",
            (
                Find(r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}"),
                Find(r"(?i)(aws_?secret_?access_?key[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9/+=]{40}", r"\1{marker}"),
            ),
            "key=[REDACTED]",
        ),
        Detector(
            "email",
            "Email addresses",
            "local-part@domain.tld, with any local part an address may have (a key= before it is kept).",
            (
                Find(
                    r"([A-Za-z_][A-Za-z0-9_.-]*=)?[A-Za-z0-9._%+!#$&*/=?^{|}~'`-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+",
                    r"\1{marker}",
                ),
            ),
            "signup from [REDACTED]",
        ),
        Detector(
            "credit_card",
            "Credit card numbers",
            "13 to 19 digits starting with 2-6, together or in groups split by spaces or dashes, "
            "that pass Luhn's checksum.",
            (Find(CARD_CANDIDATE),),
            "charged card [REDACTED]",
            python=mask_cards,
        ),
        Detector(
            "ssn",
            "US Social Security numbers",
            "123-45-6789, and 9 digits right after SSN or social security number.",
            (
                Find(r"[0-9]{3}-[0-9]{2}-[0-9]{4}"),
                Find(r"(?i)(\b(?:ssn|social security(?: number| no\.?)?)\s*[:#=]?\s*)[0-9]{9}", r"\1{marker}"),
            ),
            "patient ssn [REDACTED]",
        ),
        Detector(
            "mrn",
            "Medical record numbers",
            "The value after MRN or medical record number.",
            (Find(r"(?i)(\b(?:mrn|medical record (?:number|no\.?|#))\s*[:#=]?\s*)[A-Za-z0-9-]{4,20}", r"\1{marker}"),),
            "admitted MRN: [REDACTED]",
        ),
        Detector(
            "date_of_birth",
            "Dates of birth",
            "A date after DOB, date of birth or birthdate.",
            (
                Find(
                    r"(?i)(\b(?:dob|date of birth|birth ?date)\s*[:=]?\s*)"
                    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4})",
                    r"\1{marker}",
                ),
            ),
            "dob=[REDACTED]",
        ),
        Detector(
            "phone",
            "Phone numbers",
            "North American numbers written with separators ((555) 123-4567, +1 555-123-4567) and "
            "international numbers with a leading + (+44 20 7946 0958).",
            (
                Find(r"(^|[^0-9+])(\+[1-9][0-9]{0,2}(?:[ .-]?[0-9]){6,12})", r"\1{marker}"),
                Find(
                    r"(^|[^0-9])((?:1[ .-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .-])[2-9][0-9]{2}[ .-][0-9]{4})",
                    r"\1{marker}",
                ),
            ),
            "callback [REDACTED]",
        ),
        Detector(
            "ipv4",
            "IPv4 addresses",
            "Dotted quads with every part 0-255.",
            (Find(rf"(^|[^0-9])(?:{_IPV4})", r"\1{marker}"),),
            "client [REDACTED] connected",
        ),
        Detector(
            "ipv6",
            "IPv6 addresses",
            "Full and compressed IPv6 addresses, with an embedded IPv4 or a zone.",
            (Find(rf"(^|[^0-9A-Za-z.])(?:{_IPV6})", r"\1{marker}"),),
            "client [REDACTED] connected",
        ),
    )
}

# Protected health information and the credentials that guard it: every detector.
PRESETS: dict[str, tuple[str, ...]] = {"hipaa": tuple(DETECTORS)}
PRESET_TITLES = {"hipaa": "HIPAA: every detector (identifiers, contact details, network addresses and secrets)"}


@dataclass(frozen=True)
class _Step:
    detector: str
    pattern: str
    rewrite: str | None  # RE2 rewrite; None: `python` rewrites the matching values
    python: Callable[[str, str], str] | None
    marker: str


class Redactor:
    """Detectors and custom patterns (RE2, already checked) applied in a fixed order, the most
    specific first, so `https://bob:pw@host` loses its password rather than looking like an
    email address."""

    def __init__(self, detectors: Iterable[str], patterns: Sequence[str] = (), marker: str = DEFAULT_MARKER) -> None:
        chosen = set(detectors)
        unknown = chosen - set(DETECTORS)
        assert not unknown, unknown
        self.detectors = tuple(name for name in DETECTORS if name in chosen)
        self.marker = marker
        steps = []
        for name in self.detectors:
            detector = DETECTORS[name]
            label = marker.replace(DETECTOR_PLACEHOLDER, name)
            for find in detector.finds:
                if detector.python is not None:
                    steps.append(_Step(name, find.pattern, None, detector.python, label))
                else:
                    steps.append(_Step(name, find.pattern, find.rewrite.replace("{marker}", _rewrite_literal(label)), None, label))
        custom = _rewrite_literal(marker.replace(DETECTOR_PLACEHOLDER, CUSTOM))
        steps.extend(_Step(CUSTOM, pattern, custom, None, marker) for pattern in patterns)
        self._steps = tuple(steps)
        # One pass of all patterns at once finds the values worth the per-pattern passes.
        self._screen = "|".join(f"(?:{step.pattern})" for step in steps)
        self.secret_keys = any(DETECTORS[name].secret_keys for name in self.detectors)

    def redact(self, values: pa.Array) -> tuple[pa.Array, pa.BooleanArray]:
        """`values` (strings) with every match replaced, and which of them changed."""
        if not self._steps or not len(values):
            return values, _none(len(values))
        hit = pc.fill_null(pc.match_substring_regex(values, self._screen), False)
        positions = pc.indices_nonzero(hit)
        if not len(positions):
            return values, _none(len(values))
        before = values.take(positions)
        after = before
        for step in self._steps:
            found = pc.fill_null(pc.match_substring_regex(after, step.pattern), False)
            where = pc.indices_nonzero(found)
            if not len(where):
                continue
            chosen = after.take(where)
            if step.python is not None:
                texts = [step.python(text, step.marker) for text in chosen.to_pylist()]
                replaced = pa.array(texts, pa.string())
            else:
                replaced = pc.replace_substring_regex(chosen, step.pattern, step.rewrite)
            after = pc.replace_with_mask(after, found, replaced.cast(after.type))
        changed = pc.fill_null(pc.not_equal(before, after), False)
        if not pc.any(changed).as_py():
            return values, _none(len(values))
        return pc.replace_with_mask(values, hit, after), pc.replace_with_mask(hit, hit, changed)

    def redact_text(self, text: str) -> str:
        """One value (for JSON leaves and the like); the same as `redact` on a column of one."""
        return self.redact(pa.array([text], pa.string()))[0][0].as_py()  # type: ignore[no-any-return]

    def is_secret_key(self, path: str) -> bool:
        """Whether a field named `path` holds a secret whatever its value (password, secret...)."""
        return self.secret_keys and bool(_SECRET_KEY.search(path.rsplit(".", 1)[-1]))

    @property
    def secret_marker(self) -> str:
        return self.marker.replace(DETECTOR_PLACEHOLDER, "password_pair")


def _rewrite_literal(text: str) -> str:
    """Text as it must be written in an RE2 rewrite string: backslashes doubled."""
    return text.replace("\\", "\\\\")


def _none(length: int) -> pa.BooleanArray:
    return pa.array(np.zeros(length, dtype=bool))
