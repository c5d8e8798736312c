"""Checking an ingest rule, in one place: every problem is a 400 naming the setting and what is
wrong, and a rule that passes is compiled for the stages.

Four kinds, applied to new lines in this order (ingest/stages/):
- `parse`: lines matching a scope query are read with a regex of named groups, or a grok
  pattern (parse/grok.py); the groups become fields, converted to int, float or bool on request.
  The account's parse rules run in their order, before the built-in formats; the first that
  reads a line wins.
- `redact`: detectors (parse/redaction.py), a preset of them and custom regexes mask values in
  the line and every string value the line carries, before anything is written to disk.
- `exclude`: lines matching a query are dropped, or kept for live tail and alerts only.
- `retain`: lines matching a query are kept by the store for fewer days than the account's
  retention (debug noise for 3 days, everything else for the account's 2,190).
Every regex runs in RE2 (parse/re2.py); scope queries run vectorised (search/to_arrow.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.core.errors import BadRequest
from timberyard.ingest.rules.compiled import ExcludeRule, ParseRule, RedactRule, RetainRule, Rule, Scope
from timberyard.meta.accounts import MAX_RETENTION_DAYS
from timberyard.meta.rules import KINDS, RuleInfo
from timberyard.parse.format import LineFormat
from timberyard.parse.grok import TYPES, compile_grok, group_name
from timberyard.parse.re2 import PatternError, re2_pattern
from timberyard.parse.redaction import DEFAULT_MARKER, DETECTORS, PRESETS, Redactor
from timberyard.search import QuerySyntaxError, parse
from timberyard.search.ast import MatchAll
from timberyard.search.to_arrow import compile_filter

MAX_NAME_CHARS = 100

MAX_PATTERN_CHARS = 4000

MAX_PATTERNS = 50  # custom regexes of one redaction rule

MAX_GROK_DEFINITIONS = 50

MAX_MARKER_CHARS = 64

MAX_QUERY_CHARS = 4000

COMMON_KEYS = ("kind", "name", "enabled", "position")

DEFINITION_KEYS = {
    "parse": ("scope", "regex", "grok", "grok_definitions", "types"),
    "redact": ("scope", "detectors", "preset", "patterns", "marker"),
    "exclude": ("query", "preserve_for_tail"),
    "retain": ("query", "days"),
}

class RuleError(BadRequest):
    """A rule we will not store: the message names the field and the problem."""

    code = "InvalidRule"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, **({"field": field} if field else {}))

@dataclass(frozen=True)
class CheckedRule:
    """A rule's settings after checking: what is stored, and its compiled form."""

    kind: str
    name: str
    definition: dict[str, Any]
    compiled: Rule

def check_rule(kind: object, name: object, definition: Mapping[str, Any], rule_id: str = "") -> CheckedRule:
    """Check a rule's kind, name and definition (only that kind's keys); the stored form of the
    definition, with defaults filled in, and the rule compiled. Raises only BadRequest errors."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise RuleError(f"kind must be one of {', '.join(KINDS)}", "kind")
    checked_name = _name(name)
    unknown = sorted(set(definition) - set(DEFINITION_KEYS[kind]))
    if unknown:
        raise RuleError(
            f"unknown fields: {', '.join(unknown)}; {kind} rules have {', '.join((*COMMON_KEYS, *DEFINITION_KEYS[kind]))}"
        )
    checker: Callable[[str, str, Mapping[str, Any]], tuple[dict[str, Any], Rule]]
    checker = {"parse": _check_parse, "redact": _check_redact, "exclude": _check_exclude, "retain": _check_retain}[kind]  # type: ignore[assignment]
    stored, compiled = checker(rule_id, checked_name, definition)
    return CheckedRule(kind, checked_name, stored, compiled)

def compile_stored(rule: RuleInfo) -> Rule:
    return check_rule(rule.kind, rule.name, rule.definition, rule.id).compiled

def _name(value: object) -> str:
    if not isinstance(value, str):
        raise RuleError("name is required: a string of 1 to 100 characters", "name")
    value = value.strip()
    if not 1 <= len(value) <= MAX_NAME_CHARS:
        raise RuleError(f"name must have 1 to {MAX_NAME_CHARS} characters", "name")
    if not value.isprintable():
        raise RuleError("name may not contain control characters", "name")
    return _utf8(value, "name")

def _check_parse(rule_id: str, name: str, given: Mapping[str, Any]) -> tuple[dict[str, Any], ParseRule]:
    scope_text, scope = _scope(given.get("scope"), "scope", required=False)
    regex, grok = given.get("regex"), given.get("grok")
    if bool(regex) == bool(grok):
        raise RuleError(
            "a parse rule needs exactly one of regex (named groups, like (?P<client>\\S+)) or grok "
            "(like %{IP:client} %{NUMBER:bytes:int})",
            "grok" if grok else "regex",
        )
    definitions = given.get("grok_definitions") or {}
    types = given.get("types") or {}
    if grok:
        if types:
            raise RuleError("types go with regex; in grok write the type in the pattern: %{NUMBER:bytes:int}", "types")
        text = _text(grok, "grok", MAX_PATTERN_CHARS)
        checked_definitions = _grok_definitions(definitions)
        compiled = compile_grok(text, checked_definitions)
        pattern, groups = _re2(compiled.regex, "grok", keep_groups=True)
        kinds = dict(compiled.kinds)
        stored: dict[str, Any] = {"scope": scope_text, "regex": None, "grok": text, "grok_definitions": checked_definitions, "types": {}}
    else:
        if definitions:
            raise RuleError("grok_definitions go with grok, not regex", "grok_definitions")
        text = _text(regex, "regex", MAX_PATTERN_CHARS)
        pattern, groups = _re2(text, "regex", keep_groups=True)
        kinds = _types(types, groups)
        stored = {"scope": scope_text, "regex": text, "grok": None, "grok_definitions": {}, "types": dict(sorted(types.items()))}
    if not groups:
        where = "grok" if grok else "regex"
        raise RuleError(
            f"{where}: the pattern keeps no field; name what to keep, like (?P<client>\\S+) or %{{IP:client}}", where
        )
    fmt = LineFormat(
        name=name,
        pattern=pattern,
        kinds=kinds,
        absent=frozenset(),
        level="level" if "level" in groups else None,
    )
    return stored, ParseRule(rule_id, name, scope, fmt)

def _grok_definitions(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise RuleError('grok_definitions must be an object of names to regexes, like {"ORDERID": "[A-Z]{3}-[0-9]+"}', "grok_definitions")
    if len(value) > MAX_GROK_DEFINITIONS:
        raise RuleError(f"grok_definitions may have at most {MAX_GROK_DEFINITIONS} patterns", "grok_definitions")
    return {str(name): _text(text, f"grok_definitions.{name}", MAX_PATTERN_CHARS) for name, text in sorted(value.items())}

def _types(value: object, groups: Sequence[str]) -> dict[str, str]:
    """`{"bytes": "int"}` (field paths or group names) as group -> type."""
    if not isinstance(value, dict):
        raise RuleError('types must be an object like {"bytes": "int", "ratio": "float", "ok": "bool"}', "types")
    kinds = {}
    for name, kind in value.items():
        group = group_name(name) if isinstance(name, str) else ""
        if group not in groups:
            raise RuleError(
                f"types names {name!r}, which the regex does not capture; it captures {', '.join(_paths(groups)) or 'nothing'}",
                "types",
            )
        if kind not in TYPES:
            raise RuleError(f"unknown type {kind!r} for {name}: types are {', '.join(TYPES)} (text needs no type)", "types")
        kinds[group] = kind
    return kinds

def _paths(groups: Sequence[str]) -> list[str]:
    return [group.replace("__", ".") for group in groups]

def _check_redact(rule_id: str, name: str, given: Mapping[str, Any]) -> tuple[dict[str, Any], RedactRule]:
    scope_text, scope = _scope(given.get("scope"), "scope", required=False)
    detectors = _string_list(given.get("detectors"), "detectors", len(DETECTORS))
    for detector in detectors:
        if detector not in DETECTORS:
            raise RuleError(f"unknown detector {detector!r}; detectors are {', '.join(DETECTORS)}", "detectors")
    preset = given.get("preset") or None
    if preset is not None and preset not in PRESETS:
        raise RuleError(f"unknown preset {preset!r}; presets are {', '.join(PRESETS)}", "preset")
    patterns = _string_list(given.get("patterns"), "patterns", MAX_PATTERNS)
    checked = [_re2(text, f"patterns[{index}]", keep_groups=False)[0] for index, text in enumerate(patterns)]
    for index, pattern in enumerate(checked):
        if pc.match_substring_regex(pa.array([""], pa.string()), pattern)[0].as_py():
            raise RuleError(
                f"patterns[{index}]: the pattern matches empty text, so it would put the marker between every "
                "character; make it match at least one character (+ instead of *)",
                f"patterns[{index}]",
            )
    marker = given.get("marker")
    marker = DEFAULT_MARKER if marker is None or marker == "" else _text(marker, "marker", MAX_MARKER_CHARS)
    if not marker.isprintable():
        raise RuleError("marker may not contain control characters or newlines", "marker")
    if not (detectors or preset or patterns):
        raise RuleError(
            f"a redaction rule needs detectors ({', '.join(DETECTORS)}), a preset ({', '.join(PRESETS)}) or patterns",
            "detectors",
        )
    chosen = set(detectors) | set(PRESETS.get(preset or "", ()))
    stored = {
        "scope": scope_text,
        "detectors": [d for d in DETECTORS if d in detectors],
        "preset": preset,
        "patterns": patterns,
        "marker": marker,
    }
    return stored, RedactRule(rule_id, name, scope, Redactor(chosen, checked, marker))

def _check_exclude(rule_id: str, name: str, given: Mapping[str, Any]) -> tuple[dict[str, Any], ExcludeRule]:
    query_text, query = _scope(given.get("query"), "query", required=True)
    assert query is not None
    preserve = given.get("preserve_for_tail", False)
    if not isinstance(preserve, bool):
        raise RuleError("preserve_for_tail must be true (keep the lines for live tail and alerts) or false (drop them)", "preserve_for_tail")
    return {"query": query_text, "preserve_for_tail": preserve}, ExcludeRule(rule_id, name, query, preserve)

def _check_retain(rule_id: str, name: str, given: Mapping[str, Any]) -> tuple[dict[str, Any], RetainRule]:
    query_text, query = _scope(given.get("query"), "query", required=True, purpose="a retention rule")
    assert query is not None
    days = given.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise RuleError(
            f"days must be a whole number from 1 to {MAX_RETENTION_DAYS:,}: how long the store keeps the lines the query "
            "matches (the account's retention applies when it is shorter)",
            "days",
        )
    return {"query": query_text, "days": days}, RetainRule(rule_id, name, query, days)

def _text(value: object, where: str, maximum: int) -> str:
    if not isinstance(value, str) or not value:
        raise RuleError(f"{where} must be a non-empty string", where)
    if len(value) > maximum:
        raise RuleError(f"{where} has {len(value):,} characters; at most {maximum:,} are allowed", where)
    return _utf8(value, where)

def _utf8(value: str, where: str) -> str:
    """`value`, if it can be written as UTF-8 (a lone surrogate cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RuleError(f"{where} is not valid Unicode text", where) from None
    return value

def _string_list(value: object, where: str, maximum: int) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise RuleError(f"{where} must be a list of non-empty strings", where)
    if len(value) > maximum:
        raise RuleError(f"{where} may have at most {maximum} entries", where)
    return list(dict.fromkeys(value))

def _scope(value: object, where: str, *, required: bool, purpose: str = "an exclusion") -> tuple[str, Scope | None]:
    """A query's text as stored and its compiled filter (None: every line)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise RuleError(f"{where} must be a search query (a string)", where)
    text = _utf8(value.strip(), where)
    if len(text) > MAX_QUERY_CHARS:
        raise RuleError(f"{where} has {len(text):,} characters; at most {MAX_QUERY_CHARS:,} are allowed", where)
    try:
        node = parse(text)
    except QuerySyntaxError as exc:
        error = QuerySyntaxError(f"{where}: {exc.message}", exc.position, exc.hint)
        error.fields["field"] = where
        raise error from None
    if isinstance(node, MatchAll):
        if required:
            raise RuleError(f"{purpose} needs a {where}: an empty one would match every line", where)
        return "", None
    compiled = compile_filter(node)
    return text, lambda table: pc.fill_null(compiled(table), False)


def _re2(text: str, where: str, *, keep_groups: bool) -> tuple[str, list[str]]:
    try:
        return re2_pattern(text, where, keep_groups=keep_groups)
    except PatternError as exc:
        raise RuleError(exc.message, exc.where) from None
