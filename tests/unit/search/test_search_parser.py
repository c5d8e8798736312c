"""The parser: every construct of LogDNA's syntax, its precedence, and its errors."""

from __future__ import annotations

import pytest

from timberyard.core.errors import BadRequest
from timberyard.search import QuerySyntaxError, parse
from timberyard.search.ast import (
    And,
    Compare,
    Field,
    FieldExists,
    FieldIn,
    FieldMatch,
    MatchAll,
    Not,
    Or,
    Phrase,
    Term,
)
from timberyard.search.lexer import MAX_QUERY_CHARS
from timberyard.search.parser import MAX_DEPTH

HOST = Field("column", name="host")
LEVEL = Field("column", name="level", fold_case=True)
STATUS = Field("path", path=("status",))


def t(text: str) -> Term:
    return Term(text)


@pytest.mark.parametrize(
    ("query", "tree"),
    [
        ("", MatchAll()),
        ("  \t\n", MatchAll()),
        ("lin", t("lin")),
        ("a b", And((t("a"), t("b")))),
        ("a AND b", And((t("a"), t("b")))),
        ("a OR b", Or((t("a"), t("b")))),
        ("a or b", And((t("a"), t("or"), t("b")))),
        ("a and b", And((t("a"), t("and"), t("b")))),
        ("me myself OR I", And((t("me"), Or((t("myself"), t("I")))))),
        ("a OR b c", And((Or((t("a"), t("b"))), t("c")))),
        ("a OR b OR c", Or((t("a"), t("b"), t("c")))),
        ("(a b) OR c", Or((And((t("a"), t("b"))), t("c")))),
        ("-a", Not(t("a"))),
        ("NOT a", Not(t("a"))),
        ("-a OR b", Or((Not(t("a")), t("b")))),
        ("NOT a b", And((Not(t("a")), t("b")))),
        ("-(a OR b)", Not(Or((t("a"), t("b"))))),
        ("--a", Not(Not(t("a")))),
        ("a-b", t("a-b")),
        ("a -b", And((t("a"), Not(t("b"))))),
        ('"a b"', Phrase("a b")),
        ("'a b'", Phrase("a b")),
        ('-"a b"', Not(Phrase("a b"))),
        ('"say \\"hi\\""', Phrase('say "hi"')),
        ("'it\\'s'", Phrase("it's")),
        ("it's", t("it's")),
        ('"a\\\\b"', Phrase("a\\b")),
        ("a\\ b", t("a b")),
        ("\\(x\\)", t("(x)")),
        ("\\\\", t("\\")),
        ("\\OR", t("OR")),
        ('"OR"', Phrase("OR")),
        ("\\-a", t("-a")),
        ("a\\:b", t("a:b")),
        ("10:30:00", t("10:30:00")),
        ("host:web", FieldMatch(HOST, "prefix", "web")),
        ("host:=web", FieldMatch(HOST, "prefix_cs", "web")),
        ("host:==web", FieldMatch(HOST, "eq", "web")),
        ("host:===web", FieldMatch(HOST, "eq_cs", "web")),
        ('host:"a b"', FieldMatch(HOST, "prefix", "a b")),
        ('host:=="a b"', FieldMatch(HOST, "eq", "a b")),
        ("host:a\\ b", FieldMatch(HOST, "prefix", "a b")),
        ("host:[a,b]", FieldIn(HOST, ("a", "b"))),
        ('host:[ a , "b c" ,d ]', FieldIn(HOST, ("a", "b c", "d"))),
        ("host:[a\\,b]", FieldIn(HOST, ("a,b",))),
        ("host:*", FieldExists(HOST)),
        ("host:*x", FieldMatch(HOST, "prefix", "*x")),
        ("-host:*", Not(FieldExists(HOST))),
        ("level:=Err", FieldMatch(LEVEL, "prefix", "ERROR")),
        ("level:===Err", FieldMatch(LEVEL, "eq", "ERROR")),
        ("level:warning", FieldMatch(LEVEL, "prefix", "WARN")),
        ("level:[Warning, e, panic]", FieldIn(LEVEL, ("WARN", "e", "FATAL"))),
        ("level:>3", Compare(LEVEL, ">", 3.0)),
        ('level:" warning"', FieldMatch(LEVEL, "prefix", " warning")),
        ("_ingester:http", FieldMatch(Field("column", name="ingester"), "prefix", "http")),
        ("_format:==json", FieldMatch(Field("column", name="format"), "eq", "json")),
        ("host:warning", FieldMatch(HOST, "prefix", "warning")),
        ("source:x", FieldMatch(Field("column", name="file"), "prefix", "x")),
        ("file:x", FieldMatch(Field("column", name="file"), "prefix", "x")),
        ("tag:x", FieldMatch(Field("tags"), "prefix", "x")),
        ("env:x", FieldMatch(Field("column", name="env"), "prefix", "x")),
        ("namespace:x", FieldMatch(Field("column", name="k8s_namespace"), "prefix", "x")),
        ("pod:x", FieldMatch(Field("column", name="k8s_pod"), "prefix", "x")),
        ("container:x", FieldMatch(Field("column", name="k8s_container"), "prefix", "x")),
        ("node:x", FieldMatch(Field("column", name="k8s_node"), "prefix", "x")),
        ("label.team:x", FieldMatch(Field("label", name="team"), "prefix", "x")),
        ("user.id:42", FieldMatch(Field("path", path=("user", "id")), "prefix", "42")),
        ("meta.user.id:42", FieldMatch(Field("path", path=("user", "id")), "prefix", "42")),
        ("status:>400", Compare(STATUS, ">", 400.0)),
        ("status:>=400", Compare(STATUS, ">=", 400.0)),
        ("status:<3", Compare(STATUS, "<", 3.0)),
        ("status:<=-3.5", Compare(STATUS, "<=", -3.5)),
        ("status:>1e3", Compare(STATUS, ">", 1000.0)),
        (
            "status:(>=400 <500 -404)",
            And((Compare(STATUS, ">=", 400.0), Compare(STATUS, "<", 500.0), Not(FieldMatch(STATUS, "prefix", "404")))),
        ),
        ("status:(>100 AND <=503)", And((Compare(STATUS, ">", 100.0), Compare(STATUS, "<=", 503.0)))),
        ("status:(1 OR 2)", Or((FieldMatch(STATUS, "prefix", "1"), FieldMatch(STATUS, "prefix", "2")))),
        ("status:(NOT ==1)", Not(FieldMatch(STATUS, "eq", "1"))),
        ("status:(a:b)", FieldMatch(STATUS, "prefix", "a:b")),
        ("status:((1 OR 2) 3)", And((Or((FieldMatch(STATUS, "prefix", "1"), FieldMatch(STATUS, "prefix", "2"))), FieldMatch(STATUS, "prefix", "3")))),
        ("status:([1,2] *)", And((FieldIn(STATUS, ("1", "2")), FieldExists(STATUS)))),
        ('status:("a b")', FieldMatch(STATUS, "prefix", "a b")),
        ("status:(1) x", And((FieldMatch(STATUS, "prefix", "1"), t("x")))),
        ("(host:a OR b)", Or((FieldMatch(HOST, "prefix", "a"), t("b")))),
        ("http://x", FieldMatch(Field("path", path=("http",)), "prefix", "//x")),
        ("x -host:y", And((t("x"), Not(FieldMatch(HOST, "prefix", "y"))))),
    ],
)
def test_parses(query: str, tree: object) -> None:
    assert parse(query) == tree


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("(a", 0, "never closed"),
        ("a (b (c)", 2, "never closed"),
        ("a)", 1, "no matching"),
        (")", 0, "no matching"),
        ("()", 0, "empty parentheses"),
        ('"abc', 0, "never closed"),
        ("x 'abc", 2, "never closed"),
        ('"abc\\"', 0, "never closed"),
        ("OR a", 0, "both sides"),
        ("a OR", 2, "both sides"),
        ("a OR OR b", 2, "both sides"),
        ("a AND", 2, "both sides"),
        ("AND", 0, "both sides"),
        ("(a OR) b", 3, "both sides"),
        ("a NOT", 2, "nothing to exclude"),
        ("a -", 2, "nothing to exclude"),
        ("- a", 0, "nothing to exclude"),
        ("(-)", 1, "nothing to exclude"),
        ("host:", 5, "no value"),
        ("host: x", 5, "no value"),
        ("host:=", 6, "no value"),
        ("host:==)", 7, "no value"),
        ("status:>abc", 8, "needs a number"),
        ("status:>", 8, "no value"),
        ("status:>=1.2.3", 9, "needs a number"),
        ("status:>1e400", 8, "too large"),
        ("status:<-1e999", 8, "too large"),
        ("host:[a,", 5, "never closed"),
        ("host:[a", 5, "never closed"),
        ("host:[]", 5, "empty"),
        ("host:[a,,b]", 8, "empty item"),
        ("host:[a b", 5, "never closed"),
        ('host:["a" b]', 10, "expected , or ]"),
        ("host:(", 5, "never closed"),
        ("host:()", 5, "empty parentheses"),
        ("host:(>x)", 7, "needs a number"),
        ("a\\", 1, "lone backslash"),
        ("a..b:x", 0, "empty part"),
        ("meta.:x", 0, "empty part"),
        ("x.:y", 0, "empty part"),
        ("template:abc", 0, "not a whole number"),
        ("template:-1", 0, "not a whole number"),
        ("template:1.5", 0, "not a whole number"),
        ("template:18446744073709551616", 0, "not a whole number"),
        ("a template:" + "9" * 4000, 2, "not a whole number"),
        ("template:[1,x]", 0, "not a whole number"),
        ("template:>1", 0, "not a comparison"),
        ("template:*", 0, "not a comparison"),
    ],
)
def test_errors(query: str, position: int, fragment: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    error = caught.value
    assert fragment in error.message
    assert error.position == position
    assert error.hint
    assert isinstance(error, BadRequest)
    assert error.status == 400
    body = error.to_dict()
    assert body["position"] == position and body["hint"] == error.hint


def test_too_long() -> None:
    parse("a" * MAX_QUERY_CHARS)
    with pytest.raises(QuerySyntaxError, match="longer") as caught:
        parse("a" * (MAX_QUERY_CHARS + 1))
    assert caught.value.position == MAX_QUERY_CHARS


@pytest.mark.parametrize("make", [lambda n: "(" * n + "a" + ")" * n, lambda n: "-" * n + "a", lambda n: "NOT " * n + "a", lambda n: "f:" + "(" * n + "1" + ")" * n])
def test_depth_limit(make: object) -> None:
    parse(make(MAX_DEPTH - 1))  # type: ignore[operator]
    with pytest.raises(QuerySyntaxError, match="nests deeper"):
        parse(make(MAX_DEPTH + 1))  # type: ignore[operator]


def test_deep_nesting_within_length_limit_is_an_error_not_a_crash() -> None:
    for query in ("(" * 2000 + "a" + ")" * 2000, "-" * 4000 + "a", "a OR " * 800 + "a", "a " * 2000):
        try:
            parse(query)
        except QuerySyntaxError:
            pass
