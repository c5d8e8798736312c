"""`key=value` pairs (parse.logfmt): whole logfmt lines, and the tails of formats."""

from __future__ import annotations

import math
import re
import time
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from timberyard.core.fields import MAX_FIELDS_PER_LINE, MAX_KEY_CHARS, OVERFLOW
import pyarrow as pa

from timberyard.parse.logfmt import parse_logfmt, parse_pairs, read_pairs


@pytest.mark.parametrize(
    ("line", "pairs"),
    [
        # Heroku's router
        (
            'at=info method=GET path="/" host=myapp.herokuapp.com request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 '
            'fwd="204.204.204.204" dyno=web.1 connect=1ms service=18ms status=200 bytes=13 protocol=https',
            {
                "at": "info", "method": "GET", "path": "/", "host": "myapp.herokuapp.com",
                "request_id": "8601b555-6a83-4c12-8269-97c8e32cdb22", "fwd": "204.204.204.204", "dyno": "web.1",
                "connect": "1ms", "service": "18ms", "status": 200, "bytes": 13, "protocol": "https",
            },
        ),
        # logrus's text formatter, go-kit, slog's TextHandler
        (
            'time="2025-05-31T04:12:38Z" level=warning msg="disk 91% full" mount=/var',
            {"time": "2025-05-31T04:12:38Z", "level": "warning", "msg": "disk 91% full", "mount": "/var"},
        ),
        ("ts=2025-05-31T04:12:38.669Z caller=main.go:42 level=info msg=started", {
            "ts": "2025-05-31T04:12:38.669Z", "caller": "main.go:42", "level": "info", "msg": "started",
        }),
        ('time=2025-05-31T04:12:38.669Z level=ERROR msg="query failed" err="pq: \\"x\\" does not exist" user.id=7', {
            "time": "2025-05-31T04:12:38.669Z", "level": "ERROR", "msg": "query failed",
            "err": 'pq: "x" does not exist', "user.id": 7,
        }),
        # values: numbers, booleans, escapes, empty
        ("a=1 b=-2 c=3.5 d=-0.25 e=1e3 f=.5 g=007", {
            "a": 1, "b": -2, "c": 3.5, "d": -0.25, "e": 1000.0, "f": 0.5, "g": 7,
        }),
        ("big=9223372036854775807 bigger=9223372036854775808 small=-9223372036854775808", {
            "big": 9223372036854775807, "bigger": 9.223372036854776e18, "small": -9223372036854775808,
        }),
        ("huge=1e999 nan=NaN inf=inf plus=+5 hex=0x1f under=1_000", {
            "huge": "1e999", "nan": "NaN", "inf": "inf", "plus": "+5", "hex": "0x1f", "under": "1_000",
        }),
        ("ok=true bad=false caps=True quoted=\"true\"", {"ok": True, "bad": False, "caps": "True", "quoted": True}),
        ('n="42" s="a b" e="" x=', {"n": 42, "s": "a b", "e": "", "x": ""}),
        ('msg="line1\\nline2\\ttab \\\\ back"', None),  # one pair only
        ('msg="line1\\nline2\\ttab \\\\ back" n=1', {"msg": "line1\nline2\ttab \\ back", "n": 1}),
        ("url=/search?q=a=b&c=d n=1", {"url": "/search?q=a=b&c=d", "n": 1}),
        # flags: a bare key is true, but there must be more pairs with values than flags
        ("level=info msg=ok debug", {"level": "info", "msg": "ok", "debug": True}),
        ("a=1 b=2 c d", None),
        # the first of a repeated key wins
        ("a=1 a=2 b=3", {"a": 1, "b": 3}),
        ("  a=1\t b=2  ", {"a": 1, "b": 2}),
        # not logfmt
        ("a=1", None),
        ("", None),
        ("hello world", None),
        ("set x=5 and retry", None),
        ("Error: x=1 y=2", None),  # "Error:" is not a key
        ("a=1 b=\"unterminated", None),
        ('pods=["a"] n=1 m=2', None),
        ('k="v"w n=1', {"k": "v", "w": True, "n": 1}),
        ("a..b=1 c=2", None),
        (".a=1 c=2", None),
        ("a.=1 c=2", None),
        ("=1 a=2 b=3", None),
        ('{"level":"info"} a=1 b=2', None),
        ("GET /index.html?a=1&b=2 HTTP/1.1", None),
    ],
)
def test_parse_logfmt(line: str, pairs: dict[str, Any] | None) -> None:
    assert parse_logfmt(line) == pairs


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ('rt=0.012 uct="0.000" uht="0.010" urt="0.011"', {"rt": 0.012, "uct": 0.0, "uht": 0.01, "urt": 0.011}),
        ('rt=0.000 urt="-" cache=HIT', {"rt": 0.0, "cache": "HIT"}),  # "-" is no value
        ('urt="0.003, 0.001" upstream=10.0.1.5:8080', {"urt": "0.003, 0.001", "upstream": "10.0.1.5:8080"}),
        ('"quoted words" junk a=1 [b] c="x y"', {"a": 1, "c": "x y"}),
        ('[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]', {
            "iut": 3, "eventSource": "Application", "eventID": 1011,
        }),
        ('[meta note="a \\"quoted\\" \\] value"]', {"note": 'a "quoted" ] value'}),
        ('err="boom" pods=["a"] zone="" n=1', {"err": "boom", "n": 1}),
        ("one=1", {"one": 1}),
        ("no pairs here", {}),
        ('a="never closed', {}),
        ("", {}),
    ],
)
def test_parse_pairs(text: str, pairs: dict[str, Any]) -> None:
    assert parse_pairs(text) == pairs


def test_too_many_pairs_overflow_as_json() -> None:
    line = " ".join(f"k{index}={index}" for index in range(MAX_FIELDS_PER_LINE + 50))
    for pairs in (parse_logfmt(line), parse_pairs(line)):
        assert pairs is not None
        assert len(pairs) == MAX_FIELDS_PER_LINE + 1
        assert pairs["k0"] == 0 and f"k{MAX_FIELDS_PER_LINE}" not in pairs
        assert f'"k{MAX_FIELDS_PER_LINE}":{MAX_FIELDS_PER_LINE}' in pairs[OVERFLOW]


def test_long_keys_are_cut() -> None:
    key = "k" * (MAX_KEY_CHARS + 10)
    assert parse_logfmt(f"{key}=1 b=2") == {"k" * MAX_KEY_CHARS: 1, "b": 2}


# -- properties ------------------------------------------------------------------------------------

KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,15}(\.[A-Za-z0-9_]{1,8}){0,2}", fullmatch=True)
# Text that spells a number or a boolean reads back as one; other text reads back as itself.
WORDS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
    lambda text: text not in ("true", "false") and not re.fullmatch(r"[-+0-9.eE]*", text)
)
VALUES = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), WORDS
)


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@given(st.dictionaries(KEYS, VALUES, min_size=2, max_size=10))
@settings(max_examples=300, deadline=None)
def test_logfmt_round_trips(pairs: dict[str, Any]) -> None:
    line = " ".join(f"{key}={_encode(value)}" for key, value in pairs.items())
    read = parse_logfmt(line)
    assert read is not None
    assert [(key, value, type(value)) for key, value in read.items()] == [
        (key, value, type(value)) for key, value in pairs.items()
    ]


@given(st.text(max_size=500))
@example('a="\\')
@example('a=" b="')
@example("= = =")
@example('"' * 50)
@settings(max_examples=1000, deadline=None)
def test_never_raises(text: str) -> None:
    read = parse_logfmt(text)
    assert read is None or (isinstance(read, dict) and len(read) >= 2)
    assert isinstance(parse_pairs(text), dict)


@given(st.text(alphabet='ab =" \\\n\t.1', max_size=300))
@settings(max_examples=1000, deadline=None)
def test_never_raises_on_the_characters_that_matter(text: str) -> None:
    parse_logfmt(text)
    parse_pairs(text)


# -- many lines at once: the vectorised reader agrees with the scanner ---------------------------

# Text near the grammar's edges: the characters that separate, quote and escape, digits and
# signs that make numbers, a word character RE2 and Python disagree on, Unicode spaces.
EDGY_TEXT = st.text(alphabet='ab =" \\\t.-1e9_é\u00a0\u3000truefals', max_size=60)
PAIR_LINES = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "a.b", "é", "x-y", "a..b", "-", "k" * 300, "k" * 301]),
        st.sampled_from(["", "=", '="']),
        st.sampled_from(["", "1", "-2.5", "1e3", "1.", ".5", "9" * 19, "-" + "9" * 18, "1e999", "true", "false", "-", "x y", "é\u00a0z", "a\tb", " ", "v", '"']),
        st.sampled_from(["", '"', " ", "  ", "\t"]),
    ).map(lambda part: "".join(part)),
    max_size=8,
).map(" ".join)


def _per_line(texts: list[str], whole: bool) -> list[dict[str, Any] | None]:
    """`read_pairs` as one dict per decided line (None for a line read as no pairs), the
    scanner's answer for the lines it left."""
    scan = parse_logfmt if whole else parse_pairs
    decided, read, columns = read_pairs(pa.array(texts, pa.string()), whole=whole)
    answers: list[dict[str, Any] | None] = []
    for row, text in enumerate(texts):
        if not decided[row].as_py():
            answers.append(scan(text))
            continue
        pairs = {path: kinds[kind][row].as_py() for path, kinds in columns.items() for kind in kinds if kinds[kind][row].is_valid}
        answers.append(pairs if read[row].as_py() and (pairs or not whole) else (None if whole else {}))
    return answers


@given(st.lists(st.one_of(PAIR_LINES, EDGY_TEXT), min_size=1, max_size=12))
@example(["a=1 a=2 b=3", "a a=1 b=2", "a=- b= c=3"])
@example(["k" * 300 + "x=1 " + "k" * 300 + "y=2 z=3"])
@settings(max_examples=1500, deadline=None)
def test_read_pairs_agrees_with_the_scanner(texts: list[str]) -> None:
    for whole, scan in ((True, parse_logfmt), (False, parse_pairs)):
        expected = [scan(text) for text in texts]
        got = _per_line(texts, whole)
        for text, want, have in zip(texts, expected, got):
            assert _typed(have) == _typed(want), (whole, text)


def _typed(pairs: dict[str, Any] | None) -> Any:
    """Pairs with their kinds: numbers as floats (a column mixing whole and fractional
    numbers holds floats, in one batch as in the scanner's rows), booleans apart from 1 and 0."""
    if pairs is None:
        return None
    return {
        key: (isinstance(value, bool), isinstance(value, str), float(value) if type(value) is int else value)
        for key, value in pairs.items()
    }


# -- time ---------------------------------------------------------------------------------------------

ADVERSARIAL = {
    "unclosed quotes": 'a="' * 10_922,
    "quotes only": '"' * 32_768,
    "equals only": "=" * 32_768,
    "escaped quotes": 'x="' + '\\"' * 16_382,
    "backslashes after a quote": 'a="' + "\\" * 32_765,
    "flags": "a " * 16_384,
    "one long key": "k" * 32_768,
    "pairs": "a=1 " * 8_192,
    "quoted pairs": 'k="v" ' * 5_461,
    "values running into quotes": 'a=b" ' * 6_553,
    "spaces": " " * 32_767 + "a",
    "trailing spaces": "a=1 b=2" + " " * 32_760,
    "equals chains": "a=b=c=d " * 4_096,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_32_kib_adversarial_line_takes_well_under_100_ms(name: str) -> None:
    text = ADVERSARIAL[name]
    assert len(text.encode()) <= 32 * 1024
    best = math.inf
    for _ in range(3):  # the best of three runs, so a busy machine does not decide
        started = time.perf_counter()
        parse_logfmt(text)
        parse_pairs(text)
        best = min(best, time.perf_counter() - started)
    assert best < 0.1, f"{best * 1000:.1f} ms"
