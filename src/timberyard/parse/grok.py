"""Grok: named, reusable pieces of regular expressions, compiled to one RE2 pattern.

`%{IP:client} %{NUMBER:bytes:int}` means "an IP address, kept as the field `client`, a space,
a number, kept as the field `bytes` converted to an integer". `%{NAME}` alone matches without
keeping anything. Text outside `%{...}` is regular expression text, as in Logstash.

Every pattern here was written for RE2 (Arrow's regex engine): no lookaround, no
backreferences, no atomic groups, so a grok pattern, like any of our patterns, runs in time
linear in the line's length whatever the input. Where Logstash's pattern leans on backtracking
(`(?>...)`, `(?<![0-9])`), these patterns say the same thing with alternation and classes, so
they can differ at the edges; docs/rules.md lists them.

Fields become named groups: a dotted path `request.path` becomes the group `request__path`
(parse/format.py turns `__` back into `.`); types are recorded per group for
parse/format.py's conversions (int, float, bool).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from timberyard.core.errors import BadRequest

TYPES = ("int", "float", "bool")
MAX_EXPANDED_CHARS = 50_000
MAX_DEPTH = 20

# A field path: names of letters, digits and _, joined by dots; or Logstash's [a][b].
FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_BRACKETED = re.compile(r"(?:\[[A-Za-z][A-Za-z0-9_]*\])+")
PATTERN_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
_REFERENCE = re.compile(r"%\{([^{}]*)\}")

_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_H16 = r"[0-9A-Fa-f]{1,4}"

# The library. Names are upper case; a pattern may use others with %{NAME}. Only the composite
# log formats at the end keep fields of their own.
PATTERNS: dict[str, str] = {
    # text
    "WORD": r"\b\w+\b",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r"(?s:.*?)",
    "GREEDYDATA": r"(?s:.*)",
    "QUOTEDSTRING": r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`",
    "UUID": r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    "USERNAME": r"[a-zA-Z0-9._-]+",
    "USER": r"%{USERNAME}",
    "EMAILLOCALPART": r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*",
    "EMAILADDRESS": r"%{EMAILLOCALPART}@%{HOSTNAME}",
    "LOGLEVEL": (
        r"\b(?i:trace|debug|dbug|info(?:rmation(?:al)?)?|notice|warn(?:ing)?|err(?:or)?|crit(?:ical)?"
        r"|fatal|severe|emerg(?:ency)?|alert|panic)\b"
    ),
    # numbers
    "INT": r"[+-]?[0-9]+",
    "BASE10NUM": r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)",
    "NUMBER": r"%{BASE10NUM}(?:[eE][+-]?[0-9]+)?",
    "BASE16NUM": r"(?:0[xX])?[0-9A-Fa-f]+",
    "POSINT": r"\b[1-9][0-9]*\b",
    "NONNEGINT": r"\b[0-9]+\b",
    # networks
    "IPV4": rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}",
    "IPV6": "|".join(
        (
            rf"(?:{_H16}:){{7}}{_H16}",
            rf"(?:{_H16}:){{6}}%{{IPV4}}",
            r"::(?:[fF]{4}(?::0{1,4})?:)?%{IPV4}",
            rf"(?:{_H16}:){{1,4}}:%{{IPV4}}",
            rf"[fF][eE]80:(?::{_H16}){{0,4}}%[0-9A-Za-z]+",
            rf"{_H16}:(?::{_H16}){{1,6}}",
            rf"(?:{_H16}:){{1,2}}(?::{_H16}){{1,5}}",
            rf"(?:{_H16}:){{1,3}}(?::{_H16}){{1,4}}",
            rf"(?:{_H16}:){{1,4}}(?::{_H16}){{1,3}}",
            rf"(?:{_H16}:){{1,5}}(?::{_H16}){{1,2}}",
            rf"(?:{_H16}:){{1,6}}:{_H16}",
            rf"(?:{_H16}:){{1,7}}:",
            rf":(?::{_H16}){{1,7}}",
            r"::",
        )
    ),
    "IP": r"%{IPV6}|%{IPV4}",
    "HOSTNAME": r"\b[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?(?:\.[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?)*\.?",
    "IPORHOST": r"%{IP}|%{HOSTNAME}",
    "HOSTPORT": r"%{IPORHOST}:%{POSINT}",
    "MAC": r"(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}|(?:[A-Fa-f0-9]{4}\.){2}[A-Fa-f0-9]{4}",
    # paths and URIs
    "UNIXPATH": r"(?:/[A-Za-z0-9_%!$@:.,+~=-]*)+",
    "WINPATH": r"(?:[A-Za-z]:|\\)(?:\\[^\\?*\s]*)+",
    "PATH": r"%{UNIXPATH}|%{WINPATH}",
    "URIPROTO": r"[A-Za-z][A-Za-z0-9+.-]*",
    "URIHOST": r"%{IPORHOST}(?::%{POSINT})?",
    "URIPATH": r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@%&_-]*)+",
    "URIPARAM": r"\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\[\]<>^-]*",
    "URIPATHPARAM": r"%{URIPATH}(?:%{URIPARAM})?",
    "URI": r"%{URIPROTO}://(?:%{USER}(?::[^@\s]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?",
    # dates and times
    "YEAR": r"[0-9]{4}|[0-9]{2}",
    "MONTHNUM": r"0?[1-9]|1[0-2]",
    "MONTHDAY": r"0[1-9]|[12][0-9]|3[01]|[1-9]",
    "MONTH": (
        r"\b(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
        r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
    ),
    "DAY": r"\b(?i:mon(?:day)?|tue(?:sday)?|wed(?:nesday)?|thu(?:rsday)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)\b",
    "HOUR": r"2[0-3]|[01]?[0-9]",
    "MINUTE": r"[0-5][0-9]",
    "SECOND": r"(?:[0-5]?[0-9]|60)(?:[.,][0-9]+)?",
    "TIME": r"%{HOUR}:%{MINUTE}(?::%{SECOND})?",
    "ISO8601_TIMEZONE": r"Z|[+-](?:%{HOUR})(?::?%{MINUTE})?",
    "TIMESTAMP_ISO8601": (
        r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?(?:%{ISO8601_TIMEZONE})?"
    ),
    "DATE_US": r"%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}",
    "DATE_EU": r"%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}",
    "HTTPDATE": r"%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}",
    "SYSLOGTIMESTAMP": r"%{MONTH} +%{MONTHDAY} %{TIME}",
    # whole formats (these keep fields)
    "COMMONAPACHELOG": (
        r"%{IPORHOST:clientip} %{USER:ident} %{USER:auth} \[%{HTTPDATE:timestamp}\] "
        r"\"(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})\" "
        r"%{NUMBER:response:int} (?:%{NUMBER:bytes:int}|-)"
    ),
    "COMBINEDAPACHELOG": r"%{COMMONAPACHELOG} %{QUOTEDSTRING:referrer} %{QUOTEDSTRING:agent}",
}

DESCRIPTIONS: dict[str, str] = {
    "WORD": "letters, digits and _ between word boundaries",
    "NOTSPACE": "anything up to the next whitespace",
    "SPACE": "optional whitespace",
    "DATA": "anything, as little as possible",
    "GREEDYDATA": "anything, as much as possible (newlines too)",
    "QUOTEDSTRING": "a double-, single- or back-quoted string, quotes included",
    "UUID": "8-4-4-4-12 hexadecimal",
    "USERNAME": "letters, digits, . _ -",
    "USER": "same as USERNAME",
    "EMAILADDRESS": "local-part@hostname",
    "LOGLEVEL": "a level word: trace, debug, info, notice, warn(ing), err(or), crit(ical), fatal, severe, emerg(ency), alert, panic",
    "INT": "an integer with optional sign",
    "BASE10NUM": "a decimal number with optional sign and fraction",
    "NUMBER": "a decimal number, optionally with an exponent",
    "BASE16NUM": "hexadecimal, optionally 0x-prefixed",
    "POSINT": "a positive integer",
    "NONNEGINT": "zero or a positive integer",
    "IPV4": "a dotted-quad IPv4 address (each part 0-255)",
    "IPV6": "an IPv6 address, full or compressed, with an embedded IPv4 or a zone",
    "IP": "IPV6 or IPV4",
    "HOSTNAME": "a DNS name",
    "IPORHOST": "IP or HOSTNAME",
    "HOSTPORT": "IPORHOST:port",
    "MAC": "a MAC address: 6 pairs with : or -, or Cisco's 3 groups of 4 with .",
    "UNIXPATH": "a /unix/path",
    "WINPATH": "a C:\\windows\\path",
    "PATH": "UNIXPATH or WINPATH",
    "URIPROTO": "a URI scheme",
    "URIHOST": "IPORHOST with an optional :port",
    "URIPATH": "the path of a URI",
    "URIPARAM": "a ?query string",
    "URIPATHPARAM": "URIPATH with an optional URIPARAM",
    "URI": "scheme://user@host:port/path?query",
    "YEAR": "2 or 4 digits",
    "MONTHNUM": "1-12",
    "MONTHDAY": "1-31",
    "MONTH": "an English month name, full or abbreviated",
    "DAY": "a weekday name",
    "HOUR": "0-23",
    "MINUTE": "00-59",
    "SECOND": "00-60 with an optional fraction",
    "TIME": "HH:MM[:SS]",
    "ISO8601_TIMEZONE": "Z or +hh[:mm]",
    "TIMESTAMP_ISO8601": "2024-03-01T12:00:00.123Z and its variants",
    "DATE_US": "MM/DD/YYYY",
    "DATE_EU": "DD.MM.YYYY",
    "HTTPDATE": "01/Mar/2024:12:00:00 +0000 (access logs)",
    "SYSLOGTIMESTAMP": "Mar  1 12:00:00",
    "COMMONAPACHELOG": "an Apache/nginx common log line (fields clientip, ident, auth, timestamp, verb, request, httpversion, rawrequest, response, bytes)",
    "COMBINEDAPACHELOG": "COMMONAPACHELOG followed by referrer and agent",
    "EMAILLOCALPART": "the part of an email address before @",
}


class GrokError(BadRequest):
    """A grok pattern we cannot compile; the message names the problem."""

    code = "InvalidRule"


@dataclass(frozen=True)
class Grok:
    """A compiled grok pattern: RE2 text with one named group per kept field."""

    regex: str
    kinds: Mapping[str, str] = field(default_factory=dict)  # group -> int | float | bool
    fields: tuple[str, ...] = ()  # field paths, in the order they appear


def group_name(path: str) -> str:
    """The regex group that holds the field `path` (`request.path` -> `request__path`)."""
    return path.replace(".", "__")


def field_path(name: str, where: str = "grok") -> str:
    """A field name as written in a pattern, checked; Logstash's `[a][b]` becomes `a.b`."""
    if _BRACKETED.fullmatch(name):
        name = ".".join(part[1:-1] for part in re.findall(r"\[[^\]]+\]", name))
    if not FIELD_NAME.fullmatch(name) or "__" in name or len(name) > 200:
        raise GrokError(
            f"{where}: {name!r} is not a field name we can keep: use letters, digits and _ "
            "(starting with a letter, no double __), with dots for nesting, like client or request.path",
            field=where,
        )
    return name


def compile_grok(text: str, definitions: Mapping[str, str] | None = None, where: str = "grok") -> Grok:
    """`text` with every `%{NAME[:field[:type]]}` expanded; a GrokError naming the problem
    (an unknown name, a bad field name or type, a cycle in `definitions`)."""
    extra = dict(definitions or {})
    for name in extra:
        if not isinstance(name, str) or not PATTERN_NAME.fullmatch(name):
            raise GrokError(
                f"grok_definitions: {name!r} is not a pattern name: use upper-case letters, digits and _, like MYID",
                field="grok_definitions",
            )
    compiler = _Compiler({**PATTERNS, **extra}, set(extra), where)
    regex = compiler.expand(text, (), top=True)
    if len(regex) > MAX_EXPANDED_CHARS:
        raise GrokError(
            f"{where}: the pattern is {len(regex):,} characters once expanded, more than {MAX_EXPANDED_CHARS:,}; "
            "use fewer or smaller patterns",
            field=where,
        )
    return Grok(regex, dict(compiler.kinds), tuple(compiler.fields))


class _Compiler:
    def __init__(self, library: dict[str, str], custom: set[str], where: str) -> None:
        self.library = library
        self.custom = custom
        self.where = where
        self.kinds: dict[str, str] = {}
        self.fields: list[str] = []
        self._expanded: dict[str, str] = {}

    def expand(self, text: str, stack: tuple[str, ...], top: bool = False) -> str:
        if len(stack) > MAX_DEPTH:
            raise GrokError(f"{self.where}: patterns nest more than {MAX_DEPTH} deep ({' -> '.join(stack)})", field=self.where)
        self._check_braces(text, stack)
        return _REFERENCE.sub(lambda match: self._reference(match.group(1), stack), text)

    def _check_braces(self, text: str, stack: tuple[str, ...]) -> None:
        opened = text.find("%{")
        while opened != -1:
            close = text.find("}", opened)
            if close == -1:
                inside = f" (inside %{{{stack[-1]}}})" if stack else ""
                raise GrokError(
                    f"{self.where}: %{{ at character {opened + 1} is not closed with }}{inside}", field=self.where
                )
            opened = text.find("%{", close)

    def _reference(self, inner: str, stack: tuple[str, ...]) -> str:
        parts = inner.split(":")
        if len(parts) > 3:
            raise GrokError(
                f"{self.where}: %{{{inner}}} has too many parts: write %{{PATTERN}}, %{{PATTERN:field}} or %{{PATTERN:field:type}}",
                field=self.where,
            )
        name = parts[0].strip()
        body = self._pattern(name, stack)
        if len(parts) == 1 or not parts[1]:
            if len(parts) == 3:
                raise GrokError(f"{self.where}: %{{{inner}}} gives a type but no field to convert", field=self.where)
            return f"(?:{body})"
        path = field_path(parts[1], self.where)
        group = group_name(path)
        if path in self.fields:
            raise GrokError(
                f"{self.where}: the field {path} is captured twice; give each capture its own name", field=self.where
            )
        self.fields.append(path)
        if len(parts) == 3:
            kind = parts[2].strip()
            if kind not in TYPES:
                raise GrokError(
                    f"{self.where}: unknown type {kind!r} in %{{{inner}}}: types are {', '.join(TYPES)} "
                    "(a field without a type is kept as text)",
                    field=self.where,
                )
            self.kinds[group] = kind
        return f"(?P<{group}>{body})"

    def _pattern(self, name: str, stack: tuple[str, ...]) -> str:
        if name in stack:
            raise GrokError(
                f"{self.where}: pattern {name} refers to itself ({' -> '.join((*stack, name))})", field=self.where
            )
        if name not in self.library:
            close = difflib.get_close_matches(name.upper(), list(self.library), n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else "; GET /api/v1/rules/catalog lists them"
            raise GrokError(f"{self.where}: unknown grok pattern %{{{name}}}{hint}", field=self.where)
        if name in self._expanded and not _has_fields(self.library[name], self.library):
            return self._expanded[name]
        expanded = self.expand(self.library[name], (*stack, name))
        self._expanded[name] = expanded
        return expanded


def _has_fields(text: str, library: Mapping[str, str], seen: frozenset[str] = frozenset()) -> bool:
    """Whether a pattern keeps fields itself (then each use adds its groups again)."""
    for inner in _REFERENCE.findall(text):
        parts = inner.split(":")
        if len(parts) > 1 and parts[1]:
            return True
        name = parts[0].strip()
        if name in library and name not in seen and _has_fields(library[name], library, seen | {name}):
            return True
    return False
