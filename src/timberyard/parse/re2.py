"""Users' regular expressions, made ready for RE2 (the engine Arrow runs them with).

Every pattern a person gives (parse and redaction rules) runs in RE2, which guarantees time
linear in the text, so no pattern can backtrack catastrophically. The constructs that need
backtracking (backreferences, lookaround, atomic groups, possessive quantifiers) are refused
here with a message that says why and what to write instead; Perl's and .NET's `(?<name>`
become RE2's `(?P<name>`; RE2's own compile errors are reworded for people.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from timberyard.parse.grok import GrokError, field_path

MAX_PATTERN_CHARS = 80_000  # after grok expansion


class PatternError(ValueError):
    """A pattern RE2 cannot run, or one we refuse; `where` names the setting it came from."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.message = message
        self.where = where


_GROUP_NAME = re.compile(r"[A-Za-z0-9_]+")

_NAMED_GROUP = re.compile(r"\?P?<([^>]*)>|\?'([^']*)'")

_RECURSION = re.compile(r"\?[+-]?[0-9]")

_COUNTED = re.compile(r"\{[0-9]*(?:,[0-9]*)?\}")

_NEEDS_BACKTRACKING = (
    "needs a backtracking regex engine, and backtracking risks catastrophic (exponential) time on some "
    "lines; Timberyard runs every pattern with RE2, which never backtracks, so a match takes time linear "
    "in the line's length"
)

_RE2_MESSAGES = (
    ("missing )", "a ( has no matching )"),
    ("unexpected )", "a ) has no matching ("),
    ("missing ]", "a [ has no matching ]"),
    ("invalid repetition size", "a repetition count is larger than RE2's limit of 1000"),
    ("bad repetition operator", "a repetition operator follows another one (like ** or {2}{3})"),
    ("no argument for repetition operator", "a repetition operator (*, + or ?) has nothing before it to repeat"),
    ("missing argument to repetition operator", "a repetition operator (*, + or ?) has nothing before it to repeat"),
    ("invalid escape sequence", "an escape RE2 does not know (\\Z is written \\z; \\h, \\R and \\X do not exist)"),
    ("trailing \\", "the pattern ends with a lone \\"),
    ("invalid character class range", "a character range is backwards (like z-a) or names an unknown class"),
    ("invalid character class", "a character class is malformed"),
    ("missing closing", "something is not closed"),
    ("invalid named capture group", "a group name is malformed: names use letters, digits and _"),
    ("duplicate capture group name", "two groups have the same name"),
    ("invalid perl operator", "a (? construct RE2 does not support"),
    ("invalid UTF-8", "the pattern is not valid UTF-8"),
    ("pattern too large", "the pattern is too large once compiled (RE2 caps a compiled pattern's memory): use smaller repetition counts or fewer alternatives"),
)

def re2_pattern(text: str, where: str, *, keep_groups: bool) -> tuple[str, list[str]]:
    """A user's regex ready for RE2, and its named groups (the fields it keeps): `(?<name>...)`
    becomes `(?P<name>...)`, unnamed groups become non-capturing (all groups, unless
    `keep_groups`). A RuleError names anything RE2 cannot run and why."""
    if len(text) > MAX_PATTERN_CHARS:
        raise PatternError(f"{where}: the pattern is too long", where)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PatternError(f"{where} is not valid Unicode text", where) from None
    translated, groups = _translate(text, where, keep_groups)
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), translated)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise PatternError(f"{where}: {_reworded(str(exc))}", where) from None
    for group in groups:
        try:
            field_path(group.replace("__", "."), where)
        except GrokError:
            raise PatternError(
                f"{where}: the group name {group!r} is not a field name we can keep: use letters, digits and _ "
                "starting with a letter (write request__path for the nested field request.path)",
                where,
            ) from None
    duplicates = sorted({group for group in groups if groups.count(group) > 1})
    if duplicates:
        raise PatternError(f"{where}: the group name {duplicates[0]!r} is used twice; give each group its own name", where)
    return translated, groups

def _reworded(message: str) -> str:
    detail = message.removeprefix("Invalid regular expression: ").strip()
    for known, meaning in _RE2_MESSAGES:
        if detail.startswith(known):
            fragment = detail[len(known):].lstrip(": ")
            return f"{meaning}" + (f" (at {fragment!r})" if fragment else "")
    return f"not a regex RE2 can run: {detail}"

def _translate(text: str, where: str, keep_groups: bool) -> tuple[str, list[str]]:
    """One pass over the pattern's syntax, outside character classes: refuse what needs
    backtracking, rename and un-capture groups. RE2 itself checks everything else."""
    out: list[str] = []
    groups: list[str] = []
    i, n = 0, len(text)
    quantified = False  # the previous token was a quantifier (for a possessive `+` after it)

    def refuse(construct: str, instead: str) -> PatternError:
        return PatternError(f"{where}: {construct} at character {i + 1} {_NEEDS_BACKTRACKING}: {instead}", where)

    while i < n:
        char = text[i]
        if char == "\\":
            escape = text[i + 1 : i + 2]
            if escape in tuple("123456789"):
                raise refuse(f"the backreference \\{escape}", "match the repeated text again with its own pattern")
            if escape in ("k", "g"):
                raise refuse(f"the backreference \\{escape}", "match the repeated text again with its own pattern")
            if escape == "Q":
                end = text.find("\\E", i + 2)
                end = n if end == -1 else end + 2
                out.append(text[i:end])
                i, quantified = end, False
                continue
            if escape in ("p", "P", "x") and text[i + 2 : i + 3] == "{":
                end = text.find("}", i)
                end = n if end == -1 else end + 1
                out.append(text[i:end])
                i, quantified = end, False
                continue
            out.append(text[i : i + 2])
            i, quantified = i + 2, False
            continue
        if char == "[":
            end = _class_end(text, i)
            out.append(text[i:end])
            i, quantified = end, False
            continue
        if char == "(":
            at = i + 1

            def opens(*prefixes: str, at: int = at) -> bool:
                return any(text.startswith(prefix, at) for prefix in prefixes)

            if opens("?=", "?!"):
                raise refuse("lookahead (?= or (?!", "match the context and keep the part you want in a named group")
            if opens("?<=", "?<!"):
                raise refuse("lookbehind (?<= or (?<!", "match the context and keep the part you want in a named group")
            if opens("?>"):
                raise refuse("the atomic group (?>", "write (?: instead")
            if opens("?P=", "?P>", "?&", "?R", "?(") or _RECURSION.match(text, at):
                raise refuse("a backreference, recursion or condition", "write out what it stands for")
            named = _NAMED_GROUP.match(text, at)
            if named:
                name = named.group(1) if named.group(1) is not None else named.group(2)
                if not _GROUP_NAME.fullmatch(name or ""):
                    raise PatternError(f"{where}: the group name {name!r} is malformed: names use letters, digits and _", where)
                if keep_groups:
                    groups.append(name)
                    out.append(f"(?P<{name}>")
                else:
                    out.append("(?:")
                i = named.end()
                quantified = False
                continue
            out.append("(" if opens("?") else "(?:")
            i += 1
            quantified = False
            continue
        if char in "*+?":
            if char == "+" and quantified:
                raise refuse("the possessive quantifier", "drop the extra + (a++ is a+ in RE2)")
            out.append(char)
            i += 1
            # `a+?` is lazy, `a++` possessive: only a + right after a quantifier is possessive.
            quantified = char != "?" or not quantified
            continue
        if char == "{":
            counted = _COUNTED.match(text, i)
            if counted and counted.group() != "{}":
                out.append(counted.group())
                i = counted.end()
                quantified = True
                continue
        out.append(char)
        i += 1
        quantified = False
    return "".join(out), groups

def _class_end(text: str, start: int) -> int:
    """The index just past the character class opening at `start` (RE2 reports unclosed ones)."""
    i = start + 1
    if text[i : i + 1] == "^":
        i += 1
    if text[i : i + 1] == "]":
        i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith("[:", i):
            close = text.find(":]", i + 2)
            if close != -1:
                i = close + 2
                continue
        if text[i] == "]":
            return i + 1
        i += 1
    return len(text)
