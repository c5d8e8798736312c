"""Ingest rules (ingest/rules.py and the redact and exclude stages): checking with 400s that
name the problem, what each kind does to a batch, the RuleBook's storage, cache, counts and
sample runs. Batches go through the real stages (conftest.py), rules through a real
metadata database in a temporary directory."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unit.ingest.conftest import MS, column, fields_of, run
from timberyard.core.errors import BadRequest, Conflict, NotFound, PermissionDenied
from timberyard.core.fields import FieldColumns, JsonColumn, flatten
from timberyard.ingest.batch import line_batch
from timberyard.ingest.rules.book import RuleBook
from timberyard.ingest.rules.check import check_rule
from timberyard.ingest.rules.compiled import AccountRules, ExcludeRule, RetainRule, RuleTally
from timberyard.parse.re2 import re2_pattern
from timberyard.ingest.stages import Context
from timberyard.meta import field_types as field_type_repository
from timberyard.meta.database import MetaDB
from timberyard.search import QuerySyntaxError

Make = Callable[..., Context]
DAY = "2024-03-01"  # the UTC day of MS


def rules_of(*definitions: tuple[str, dict[str, Any]], tally: RuleTally | None = None) -> AccountRules:
    compiled = [check_rule(kind, f"rule {index}", definition, f"id{index}").compiled for index, (kind, definition) in enumerate(definitions)]
    return AccountRules(
        parsers=tuple(r for r in compiled if type(r).__name__ == "ParseRule"),  # type: ignore[misc]
        redactions=tuple(r for r in compiled if type(r).__name__ == "RedactRule"),  # type: ignore[misc]
        exclusions=tuple(r for r in compiled if isinstance(r, ExcludeRule)),
        retentions=tuple(r for r in compiled if isinstance(r, RetainRule)),
        tally=tally,
    )


# -- checking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "definition", "field", "message"),
    [
        ("parse", {"regex": "(?P<x>a"}, "regex", "a ( has no matching )"),
        ("parse", {"regex": "(?P<x>a))"}, "regex", "a ) has no matching ("),
        ("parse", {"regex": "(?P<x>[a-"}, "regex", "a [ has no matching ]"),
        ("parse", {"regex": "(?P<x>a)(?=b)"}, "regex", "lookahead (?= or (?! at character 9 needs a backtracking regex engine"),
        ("parse", {"regex": "(?<=a)(?P<x>b)"}, "regex", "lookbehind"),
        ("parse", {"regex": "(?P<x>a)\\1"}, "regex", "the backreference \\1"),
        ("parse", {"regex": "(?P<x>a)(?P=x)"}, "regex", "a backreference, recursion or condition"),
        ("parse", {"regex": "(?>(?P<x>a+))"}, "regex", "the atomic group"),
        ("parse", {"regex": "(?P<x>a++)b"}, "regex", "the possessive quantifier"),
        ("parse", {"regex": "(?P<x>\\p{L}{1000})"}, "regex", "too large once compiled"),
        ("parse", {"regex": "(?P<x>a{1001})"}, "regex", "larger than RE2's limit of 1000"),
        ("parse", {"regex": "(?P<x>a)\\Z"}, "regex", "an escape RE2 does not know"),
        ("parse", {"regex": "(?P<x>a)|(?P<x>b)"}, "regex", "the group name 'x' is used twice"),
        ("parse", {"regex": "(?P<_x>a)"}, "regex", "is not a field name we can keep"),
        ("parse", {"regex": "(?P<a-b>x)"}, "regex", "is malformed"),
        ("parse", {"regex": "no groups here"}, "regex", "the pattern keeps no field"),
        ("parse", {"regex": "(?P<bytes>\\d+)", "types": {"bytes": "long"}}, "types", "unknown type 'long' for bytes"),
        ("parse", {"regex": "(?P<bytes>\\d+)", "types": {"size": "int"}}, "types", "types names 'size', which the regex does not capture; it captures bytes"),
        ("parse", {"grok": "%{IPV:client}"}, "grok", "unknown grok pattern %{IPV}; did you mean"),
        ("parse", {"grok": "%{NUMBER:bytes:long}"}, "grok", "unknown type 'long'"),
        ("parse", {"grok": "%{IP:x}", "types": {"x": "int"}}, "types", "in grok write the type in the pattern"),
        ("parse", {"grok": "%{IP:x}", "regex": "(?P<x>.)"}, "grok", "exactly one of regex"),
        ("parse", {}, "regex", "exactly one of regex"),
        ("parse", {"regex": "(?P<x>.)", "scope": "app:(nginx"}, "scope", "scope: "),
        ("parse", {"regex": "(?P<x>.)", "query": "x"}, None, "unknown fields: query; parse rules have"),
        ("redact", {}, "detectors", "a redaction rule needs detectors"),
        ("redact", {"detectors": ["sin"]}, "detectors", "unknown detector 'sin'; detectors are url_password, password_pair"),
        ("redact", {"preset": "gdpr"}, "preset", "unknown preset 'gdpr'; presets are hipaa"),
        ("redact", {"patterns": ["x", "a*"]}, "patterns[1]", "the pattern matches empty text"),
        ("redact", {"patterns": ["(?=x)y"]}, "patterns[0]", "lookahead"),
        ("redact", {"patterns": "PID-[0-9]+"}, "patterns", "patterns must be a list of non-empty strings"),
        ("redact", {"detectors": ["ssn"], "marker": "a\nb"}, "marker", "control characters"),
        ("redact", {"detectors": ["ssn"], "marker": "x" * 65}, "marker", "at most 64"),
        ("exclude", {}, "query", "an exclusion needs a query"),
        ("exclude", {"query": "   "}, "query", "an exclusion needs a query"),
        ("exclude", {"query": "x", "preserve_for_tail": "yes"}, "preserve_for_tail", "must be true"),
        ("retain", {"days": 3}, "query", "a retention rule needs a query"),
        ("retain", {"query": "level:debug"}, "days", "days must be a whole number from 1 to 65,535"),
        ("retain", {"query": "level:debug", "days": 0}, "days", "days must be a whole number"),
        ("retain", {"query": "level:debug", "days": 65_536}, "days", "days must be a whole number"),
        ("retain", {"query": "level:debug", "days": 2.5}, "days", "days must be a whole number"),
        ("retain", {"query": "level:debug", "days": True}, "days", "days must be a whole number"),
        ("retain", {"query": "x", "days": 3, "preserve_for_tail": True}, None, "unknown fields: preserve_for_tail; retain rules have"),
    ],
)
def test_bad_rules_are_400s_that_name_the_field_and_the_problem(kind: str, definition: dict[str, Any], field: str | None, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_rule(kind, "a rule", definition)
    error = caught.value
    assert error.status == 400
    assert message in error.message, error.message
    assert error.fields.get("field") == field
    if "backreference" in message or "look" in message or "atomic" in message or "possessive" in message:
        assert "RE2" in error.message and "linear" in error.message and "backtrack" in error.message


def test_scope_syntax_errors_keep_their_position_and_hint() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        check_rule("exclude", "x", {"query": "app:nginx AND (level:error"})
    assert caught.value.message.startswith("query: ")
    assert caught.value.position >= 0 and caught.value.fields["field"] == "query"


@pytest.mark.parametrize(
    ("kind", "name", "message"),
    [("nope", "x", "kind must be one of parse, redact, exclude"), ("parse", None, "name is required"), ("parse", "x" * 101, "1 to 100"), ("parse", "a\tb", "control")],
)
def test_kind_and_name_are_checked(kind: str, name: Any, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        check_rule(kind, name, {"regex": "(?P<x>.)"})


@pytest.mark.parametrize(
    ("pattern", "translated", "groups"),
    [
        ("(?<host>\\S+) (\\d+)", "(?P<host>\\S+) (?:\\d+)", ["host"]),
        ("(?'user'\\w+)", "(?P<user>\\w+)", ["user"]),
        ("[(](?P<a>x)\\(", "[(](?P<a>x)\\(", ["a"]),
        ("(?P<a>\\p{L}+)\\x{41}+ (?P<b>a+?)", "(?P<a>\\p{L}+)\\x{41}+ (?P<b>a+?)", ["a", "b"]),
        ("\\Q(x)\\E(?P<a>y{2}?)", "\\Q(x)\\E(?P<a>y{2}?)", ["a"]),
        ("(?i:(?P<a>x))[[:alpha:]()]", "(?i:(?P<a>x))[[:alpha:]()]", ["a"]),
    ],
)
def test_patterns_are_translated_for_re2(pattern: str, translated: str, groups: list[str]) -> None:
    assert re2_pattern(pattern, "regex", keep_groups=True) == (translated, groups)


def test_checking_a_long_pattern_takes_linear_time() -> None:
    started = time.perf_counter()
    re2_pattern("(?:a)" * 9000, "regex", keep_groups=False)
    assert time.perf_counter() - started < 2


def test_redaction_patterns_capture_nothing() -> None:
    assert re2_pattern("(?<id>PID)-(\\d+)", "patterns[0]", keep_groups=False) == ("(?:PID)-(?:\\d+)", [])


def test_stored_definitions_are_complete_and_normalised() -> None:
    parse = check_rule("parse", " access ", {"scope": " app:nginx ", "grok": "%{IP:client} %{NUMBER:bytes:int}"})
    assert parse.name == "access"
    assert parse.definition == {"scope": "app:nginx", "regex": None, "grok": "%{IP:client} %{NUMBER:bytes:int}", "grok_definitions": {}, "types": {}}
    redact = check_rule("redact", "r", {"detectors": ["email", "ssn", "email"], "preset": "hipaa"})
    assert redact.definition == {"scope": "", "detectors": ["email", "ssn"], "preset": "hipaa", "patterns": [], "marker": "[REDACTED]"}
    exclude = check_rule("exclude", "e", {"query": "healthz"})
    assert exclude.definition == {"query": "healthz", "preserve_for_tail": False}


REGEXISH = st.one_of(
    st.text(alphabet=st.sampled_from(list("()[]{}?*+|\\^$.:<>=!'P0123456789abcxyzQEpLk_-,&# \n%")), max_size=30),
    st.text(max_size=20),  # any Unicode, lone surrogates and NULs included
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["regex", "grok", "patterns", "scope", "query"]),
    REGEXISH,
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
)
def test_checking_any_rule_raises_nothing_but_a_400(where: str, text: str, types: dict[str, str]) -> None:
    kind, definition = {
        "regex": ("parse", {"regex": text, "types": types}),
        "grok": ("parse", {"grok": text, "grok_definitions": types}),
        "patterns": ("redact", {"patterns": [text]}),
        "scope": ("redact", {"detectors": ["ssn"], "scope": text}),
        "query": ("exclude", {"query": text}),
    }[where]
    try:
        checked = check_rule(kind, "fuzz", definition)
    except BadRequest as exc:
        assert exc.status == 400 and exc.message
    else:
        assert checked.kind == kind


# -- what the stages do ------------------------------------------------------------------------


SECRETS = {"ssn": "123-45-6789", "card": "4111 1111 1111 1111", "email": "jane.doe@clinic.example.org"}


def test_redaction_reaches_every_text_a_line_carries(context: Make) -> None:
    tally = RuleTally()
    meta = [
        flat({"note": f"call me at {SECRETS['email']}", "card_number": 4111111111111111, "password": "hunter2",
              "_unparsed": f"{{bad meta ssn {SECRETS['ssn']}", "_conflicts.id": SECRETS["card"],
              "_overflow": f'{{"x":"{SECRETS["email"]}"}}', "amount": 12.5}),
        flat({"contacts": [SECRETS["email"], 4111111111111111, "ok"], SECRETS["email"]: "keyed by address"}),
        None,
    ]
    batch = line_batch(
        "acct", "http",
        [f"patient {SECRETS['ssn']} paid with {SECRETS['card']}", "nothing here", "a plain line"],
        meta=meta,
        host="web-1",
        app=["billing", "billing", f"app-{SECRETS['email']}"],
        tags=("ward-3", SECRETS["email"]),
        labels={"owner": SECRETS["email"], "team": "care"},
        annotations={"ssn": SECRETS["ssn"]},
    )
    record = run(batch, context(rules=rules_of(("redact", {"preset": "hipaa"}), tally=tally)))
    dumped = str(record.to_pylist())
    for value in SECRETS.values():
        assert value not in dumped
    assert "4111111111111111" not in dumped and "hunter2" not in dumped
    assert column(record, "line") == ["patient [REDACTED] paid with [REDACTED]", "nothing here", "a plain line"]
    assert column(record, "tags")[0] == ["ward-3", "[REDACTED]"]
    assert column(record, "labels")[0] == [("owner", "[REDACTED]"), ("team", "care")]
    assert column(record, "app") == ["billing", "billing", "[REDACTED]"]  # "app-jane.doe" could be the address's own start
    first, second, _ = fields_of(record)
    assert first["note"] == "call me at [REDACTED]"
    assert "card_number" not in first  # a number cannot hold the marker: it is removed
    assert first["password"] == "[REDACTED]" and first["amount"] == 12.5
    assert second["contacts"] == ["[REDACTED]", None, "ok"]
    assert second["[REDACTED]"] == "keyed by address"
    assert tally.pending() == {("id0", DAY): 3}  # every line carries the email in its tags


def flat(obj: dict[str, Any]) -> dict[str, Any]:
    """Sender meta as a source hands it to the pipeline: flattened, arrays as JSON."""
    into: dict[str, Any] = {}
    flatten(obj, into)
    return into


def test_redaction_rules_apply_in_order_with_their_own_markers(context: Make) -> None:
    rules = rules_of(
        ("redact", {"patterns": ["PID-[0-9]{6}"], "marker": "<pid>"}),
        ("redact", {"detectors": ["email"], "marker": "<{detector}>"}),
    )
    record = run(line_batch("acct", "http", ["PID-123456 wrote a@b.io", "clean"]), context(rules=rules))
    assert column(record, "line") == ["<pid> wrote <email>", "clean"]


def test_a_scoped_redaction_touches_only_lines_in_its_scope(context: Make) -> None:
    tally = RuleTally()
    rules = rules_of(("redact", {"scope": "app:billing", "detectors": ["email"]}), tally=tally)
    batch = line_batch("acct", "http", ["from a@b.io", "from a@b.io"], app=["billing", "web"], labels={"to": "c@d.io"})
    record = run(batch, context(rules=rules))
    assert column(record, "line") == ["from [REDACTED]", "from a@b.io"]
    assert column(record, "labels") == [[("to", "[REDACTED]")], [("to", "c@d.io")]]
    assert tally.pending() == {("id0", DAY): 1}


def test_exclusion_drops_or_keeps_for_tail_and_the_first_matching_rule_decides(context: Make) -> None:
    tally = RuleTally()
    rules = rules_of(
        ("exclude", {"query": "healthz", "preserve_for_tail": True}),
        ("exclude", {"query": "debug OR healthz"}),
        tally=tally,
    )
    batch = line_batch("acct", "http", ["GET /healthz 200", "debug cache warm", "order placed", "debug healthz"])
    record = run(batch, context(rules=rules))
    assert column(record, "line") == ["GET /healthz 200", "order placed", "debug healthz"]
    assert column(record, "stored") == [False, True, False]
    assert tally.pending() == {("id0", DAY): 2, ("id1", DAY): 1}


def test_exclusion_queries_see_fields_and_redacted_text(context: Make) -> None:
    rules = rules_of(("redact", {"detectors": ["email"]}), ("exclude", {"query": "status:>=500 OR a@b.io"}))
    batch = line_batch("acct", "http", ['{"status": 503, "msg": "x"}', '{"status": 200}', "mail a@b.io"])
    record = run(batch, context(rules=rules))
    assert column(record, "line") == ['{"status": 200}', "mail [REDACTED]"]


def test_retention_rules_shorten_the_first_matching_lines_and_never_lengthen(context: Make) -> None:
    tally = RuleTally()
    rules = rules_of(
        ("retain", {"query": "level:debug", "days": 3}),
        ("retain", {"query": "healthz OR level:debug", "days": 7}),
        ("retain", {"query": "audit", "days": 60_000}),
        ("exclude", {"query": "dropped"}),
        tally=tally,
    )
    lines = ["cache warm", "GET /healthz", "order placed", "audit: user deleted", "dropped debug"]
    batch = line_batch("acct", "http", lines, level=["debug", "info", "info", "info", "debug"])
    record = run(batch, context(rules=rules, retention_days=90))
    assert column(record, "line") == lines[:4]  # excluded lines are gone before retention is decided
    assert column(record, "retention_days") == [3, 7, 90, 90]  # first match; the account's 90 caps 60,000
    assert tally.pending() == {("id0", DAY): 1, ("id1", DAY): 1, ("id2", DAY): 1, ("id3", DAY): 1}  # the exclusion too


def test_without_retention_rules_every_line_keeps_the_accounts_retention(context: Make) -> None:
    rules = rules_of(("retain", {"query": "never-in-these-lines", "days": 1}))
    record = run(line_batch("acct", "http", ["a", "b"]), context(rules=rules, retention_days=45))
    assert column(record, "retention_days") == [45, 45]
    assert column(run(line_batch("acct", "http", ["c"]), context(retention_days=45)), "retention_days") == [45]


def test_parse_rules_come_first_in_order_within_their_scope(context: Make) -> None:
    rules = rules_of(
        ("parse", {"scope": "app:shop", "grok": "%{IP:client} %{WORD:method} %{NUMBER:status:int}"}),
        ("parse", {"regex": "^(?P<client>\\S+) (?P<verb>[A-Z]+)$"}),
        ("parse", {"regex": "^user (?P<user>\\w+) (?P<level>\\w+)$"}),
    )
    batch = line_batch("acct", "http", ["10.0.0.1 GET 200", "10.0.0.1 GET 200", "10.0.0.2 PUT", '{"a": 1}', "user bob warning"], app=["shop", "web", "web", "web", "web"])
    record = run(batch, context(rules=rules))
    assert column(record, "format") == ["rule 0", "", "rule 1", "json", "rule 2"]
    assert fields_of(record)[:3] == [{"client": "10.0.0.1", "method": "GET", "status": 200}, {}, {"client": "10.0.0.2", "verb": "PUT"}]
    assert fields_of(record)[4] == {"user": "bob"}
    assert column(record, "level")[4] == "WARN"  # a group named level is the line's level


def test_no_rules_leave_the_batch_alone(context: Make) -> None:
    record = run(line_batch("acct", "http", ["a@b.io 123-45-6789"]), context())
    assert column(record, "line") == ["a@b.io 123-45-6789"] and column(record, "stored") == [True]


# -- the rule book -------------------------------------------------------------------------------


@pytest.fixture
def book(metadata: MetaDB) -> RuleBook:
    return RuleBook(metadata, clock=lambda: MS / 1000)


def test_rules_are_stored_listed_moved_and_deleted_in_order(book: RuleBook, account: str) -> None:
    first, _ = book.create_rule(account, {"kind": "exclude", "name": "probes", "query": "kube-probe"}, "admin@example.com", role="admin")
    second, _ = book.create_rule(account, {"kind": "exclude", "name": "debug", "query": "level:debug", "preserve_for_tail": True}, "admin@example.com", role="admin")
    parse, _ = book.create_rule(account, {"kind": "parse", "name": "shop", "grok": "%{IP:client}", "position": 5}, "admin@example.com", role="admin")
    assert (first.position, second.position, parse.position) == (1, 2, 1)
    listed = book.list_rules(account)
    assert [(r["kind"], r["name"], r["position"]) for r in listed] == [("parse", "shop", 1), ("exclude", "probes", 1), ("exclude", "debug", 2)]
    assert listed[2] | {"id": "", "created_at": "", "updated_at": ""} == {
        "id": "", "kind": "exclude", "name": "debug", "position": 2, "enabled": True, "query": "level:debug", "preserve_for_tail": True,
        "created_by": "admin@example.com", "created_at": "", "updated_at": "", "lines_today": 0, "lines_total": 0,
    }
    before, after, _ = book.update_rule(account, second.id, {"position": 1, "enabled": False}, role="admin")
    assert (before.position, after.position, after.enabled) == (2, 1, False)
    assert [r["name"] for r in book.list_rules(account) if r["kind"] == "exclude"] == ["debug", "probes"]
    book.delete_rule(account, second.id, role="admin")
    assert [(r["name"], r["position"]) for r in book.list_rules(account) if r["kind"] == "exclude"] == [("probes", 1)]


def test_only_a_role_that_manages_retention_changes_retention_rules(book: RuleBook, account: str) -> None:
    rule = {"kind": "retain", "name": "debug noise", "query": "level:debug", "days": 3}
    with pytest.raises(PermissionDenied) as caught:
        book.create_rule(account, dict(rule), "admin@example.com", role="admin")
    assert "retention.manage" in str(caught.value.fields) and "owner" in caught.value.message
    made, _ = book.create_rule(account, dict(rule), "owner@example.com", role="owner")
    for attempt in (lambda: book.update_rule(account, made.id, {"days": 1}, role="admin"),
                    lambda: book.delete_rule(account, made.id, role="admin")):
        with pytest.raises(PermissionDenied):
            attempt()
    assert book.get_rule(account, made.id)["days"] == 3
    book.create_rule(account, {"kind": "exclude", "name": "e", "query": "x"}, "admin@example.com", role="admin")  # other kinds: admins
    _, changed, _ = book.update_rule(account, made.id, {"days": 1}, role="owner")
    assert changed.definition["days"] == 1
    book.delete_rule(account, made.id, role="owner")


def test_names_are_unique_per_kind_and_other_accounts_rules_are_missing(book: RuleBook, account: str, metadata: MetaDB) -> None:
    made, _ = book.create_rule(account, {"kind": "exclude", "name": "probes", "query": "probe"}, "a", role="admin")
    with pytest.raises(Conflict, match="an exclude rule named 'probes' already exists"):
        book.create_rule(account, {"kind": "exclude", "name": "probes", "query": "other"}, "a", role="admin")
    book.create_rule(account, {"kind": "redact", "name": "probes", "detectors": ["ssn"]}, "a", role="admin")  # another kind: fine
    other = metadata.create_account("other").id
    for attempt in (lambda: book.get_rule(other, made.id), lambda: book.delete_rule(other, made.id, role="admin"), lambda: book.update_rule(other, made.id, {}, role="admin")):
        with pytest.raises(NotFound):
            attempt()


def test_updates_merge_switch_syntax_and_refuse_a_new_kind(book: RuleBook, account: str) -> None:
    made, _ = book.create_rule(account, {"kind": "parse", "name": "p", "regex": "(?P<n>\\d+)", "types": {"n": "int"}}, "a", role="admin")
    _, after, _ = book.update_rule(account, made.id, {"grok": "%{INT:n:int}"}, role="admin")
    assert after.definition["grok"] == "%{INT:n:int}" and after.definition["regex"] is None and after.definition["types"] == {}
    _, renamed, _ = book.update_rule(account, made.id, {"name": "numbers", "scope": "app:x"}, role="admin")
    assert renamed.name == "numbers" and renamed.definition["scope"] == "app:x" and renamed.definition["grok"] == "%{INT:n:int}"
    with pytest.raises(BadRequest, match="kind cannot change"):
        book.update_rule(account, made.id, {"kind": "redact"}, role="admin")
    with pytest.raises(BadRequest, match="unknown grok pattern"):
        book.update_rule(account, made.id, {"grok": "%{NOPE:x}"}, role="admin")
    assert book.get_rule(account, made.id)["grok"] == "%{INT:n:int}"


def test_the_stages_get_enabled_rules_cached_until_a_rule_changes(book: RuleBook, account: str) -> None:
    assert book.for_account(account).exclusions == ()
    made, _ = book.create_rule(account, {"kind": "exclude", "name": "e", "query": "x"}, "a", role="admin")
    compiled = book.for_account(account)
    assert [r.name for r in compiled.exclusions] == ["e"]
    assert book.for_account(account) is compiled
    book.update_rule(account, made.id, {"enabled": False}, role="admin")
    assert book.for_account(account).exclusions == ()


def test_counts_are_kept_per_rule_per_day_and_flushed(book: RuleBook, account: str, context: Make) -> None:
    made, _ = book.create_rule(account, {"kind": "exclude", "name": "e", "query": "drop"}, "a", role="admin")
    doomed, _ = book.create_rule(account, {"kind": "exclude", "name": "gone", "query": "gone"}, "a", role="admin")
    rules = book.for_account(account)
    run(line_batch("acct", "http", ["drop me", "drop me too", "keep", "gone"]), context(rules=rules))
    assert book.get_rule(account, made.id)["lines_today"] == 2  # pending, not yet flushed
    book.delete_rule(account, doomed.id, role="admin")
    book.flush()
    book.flush()  # nothing pending: nothing written twice
    run(line_batch("acct", "http", ["drop"]), context(rules=rules, received_ms=MS - 86_400_000))
    found = book.get_rule(account, made.id)
    assert (found["lines_today"], found["lines_total"]) == (2, 3)
    book.flush()
    assert book.list_rules(account)[0]["lines_total"] == 3


def test_trying_a_rule_on_samples_reports_each_line_and_stores_nothing(book: RuleBook, account: str, metadata: MetaDB) -> None:
    parsed = book.try_rule(account, {
        "kind": "parse", "grok": "%{IP:client} %{NUMBER:bytes:int}",
        "samples": ["10.0.0.1 512", "10.0.0.2 lots", "nothing", {"line": "10.0.0.3 7", "app": "web", "meta": {"region": "eu"}}],
    })
    assert [r["matched"] for r in parsed["results"]] == [True, False, False, True]
    assert parsed["results"][0]["extracted"] == {"client": "10.0.0.1", "bytes": 512}
    assert parsed["results"][3]["fields"] == {"client": "10.0.0.3", "bytes": 7, "region": "eu"}
    assert parsed["matched"] == 2 and parsed["lines"] == 4
    redacted = book.try_rule(account, {"kind": "redact", "preset": "hipaa", "samples": ["ssn 123-45-6789", "fine"]})
    assert [(r["matched"], r["line"]) for r in redacted["results"]] == [(True, "ssn [REDACTED]"), (False, "fine")]
    excluded = book.try_rule(account, {"kind": "exclude", "query": "debug", "preserve_for_tail": True, "samples": ["debug x", "info y"]})
    assert [(r["excluded"], r["stored"], r["live_tail"]) for r in excluded["results"]] == [(True, False, True), (False, True, True)]
    assert book.list_rules(account) == []
    assert metadata.transact(field_type_repository.kinds, account, write=False) == {}


def test_sample_runs_warn_about_values_that_do_not_convert(book: RuleBook, account: str) -> None:
    result = book.try_rule(account, {"kind": "parse", "regex": "^(?P<n>\\S+)$", "types": {"n": "int"}, "samples": ["12", "twelve"]})
    assert result["warnings"] == ["sample 2 (1-based): n = 'twelve' is not an int; the field is left out"]
    with pytest.raises(BadRequest, match="samples must be a list of 1 to 100"):
        book.try_rule(account, {"kind": "exclude", "query": "x", "samples": []})
    with pytest.raises(BadRequest, match="samples is required"):
        book.try_rule(account, {"kind": "exclude", "query": "x"})


def test_create_with_samples_tests_the_rule_it_saved(book: RuleBook, account: str) -> None:
    made, test = book.create_rule(account, {"kind": "redact", "name": "r", "detectors": ["email"], "samples": ["to a@b.io"]}, "a", role="admin")
    assert test is not None and test["results"][0]["line"] == "to [REDACTED]"
    assert "samples" not in made.definition
    with pytest.raises(BadRequest, match="samples must be a list"):
        book.create_rule(account, {"kind": "redact", "name": "r2", "detectors": ["email"], "samples": "to a@b.io"}, "a", role="admin")
    assert [r["name"] for r in book.list_rules(account)] == ["r"]  # a bad sample is refused before saving


def test_a_stored_rule_that_no_longer_compiles_is_skipped_not_fatal(book: RuleBook, account: str, metadata: MetaDB) -> None:
    from timberyard.meta import rules as repository

    metadata.transact(lambda s: repository.create_rule(s, account, "parse", "old", {"grok": "%{GONE:x}"}, enabled=True, position=None, created_by="upgrade"), write=True)
    book.create_rule(account, {"kind": "exclude", "name": "e", "query": "x"}, "a", role="admin")
    compiled = book.for_account(account)
    assert compiled.parsers == () and len(compiled.exclusions) == 1


def test_json_arrays_stay_valid_json_after_redaction(context: Make) -> None:
    meta = [flat({"list": ["password=x", {"password": "y", "n": 1}, 'a"b@c.io']})]
    record = run(line_batch("acct", "http", ["x"], meta=meta), context(rules=rules_of(("redact", {"preset": "hipaa"}))))
    values = FieldColumns.from_struct(record.column("fields")).get("list")
    assert values is not None and isinstance(values.type, JsonColumn)
    assert fields_of(record)[0]["list"] == ["password=[REDACTED]", {"password": "[REDACTED]", "n": 1}, 'a"[REDACTED]']


def test_numbers_that_are_not_sensitive_are_kept(context: Make) -> None:
    meta = [{"n": 1709294400000}, {"n": 4111111111111111}]
    record = run(line_batch("acct", "http", ["a", "b"], meta=meta), context(rules=rules_of(("redact", {"detectors": ["credit_card"]}))))
    assert [row.get("n") for row in fields_of(record)] == [1709294400000, None]
    assert pa.types.is_integer(FieldColumns.from_struct(record.column("fields")).get("n").type)  # type: ignore[union-attr]
