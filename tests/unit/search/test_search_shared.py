"""Filters sharing one batch (`SharedBatch`) and the sweep of many words at once give, line for
line, what each filter gives alone: over every conformance case, over the alert benchmark's mix
of 1,000 alerts, and over random words and lines."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from records import record

from timberyard.search import parse
from timberyard.search.ast import Phrase, Term
from timberyard.search.text_sweep import sweep
from timberyard.search.to_arrow import SharedBatch, compile_filter
from unit.search.conformance_cases import CASES
from unit.search.conformance_rows import BATCHES

# bench/alerts.py's 1,000 alerts: twenty kinds of query, each made distinct by a word no line has.
BENCH_QUERIES = (
    "error", "timeout", "refused", "exception", "denied", "failed", "OutOfMemory", "disk", "restart",
    "app:nginx", "app:sshd", "level:error", "level:warn", "status:>=500", "status:==404",
    "app:nginx status:>=500", "level:error -app:sshd", '"connection refused"', "user.id:u_1", "region:==eu-west-1",
)
BENCH_MIX = [BENCH_QUERIES[i % len(BENCH_QUERIES)] + f" -zz{i}" for i in range(1000)]


def alone_and_shared(batch: pa.Table | pa.RecordBatch, queries: list[str]) -> tuple[list[list[bool]], list[list[bool]]]:
    """Each query's answer computed alone, and all of them on one swept `SharedBatch`."""
    nodes = [parse(query) for query in queries]
    alone = [compile_filter(node)(batch).to_pylist() for node in nodes]
    shared = SharedBatch(batch)
    sweep(shared, nodes)
    together = [compile_filter(node)(shared).to_pylist() for node in nodes]
    return alone, together


def test_every_conformance_case_answers_the_same_on_a_shared_batch() -> None:
    queries = [query for query, _ in CASES]
    for batch in BATCHES:
        alone, together = alone_and_shared(batch, queries)
        for query, one, shared in zip(queries, alone, together, strict=True):
            assert shared == one, query


def test_the_benchmark_mix_answers_the_same_on_a_shared_batch() -> None:
    lines = [
        "GET /api/cart 502 upstream timeout", "ERROR disk full on /var", "connection REFUSED by peer",
        "zz17 error: OutOfMemory", "java.lang.Exception: failed", "Access denied for user", "restart zz999 pending",
        "errors are fine", "xerror is not a word start", "timeout-zz3 and zz30", "ZZ5 Timeout", "ünicode error ß zz1",
        "", "plain line", "connection refused zz420", "DISK_FULL", "OutOfMemoryError thrown zz0",
    ]
    count = len(lines)
    table = record(
        "acme", lines,
        app=["nginx", "sshd", "api", "nginx", "api", "sshd", "worker", "api", "api", "nginx", "api", "api", "", "api",
             "sshd", "api", "api"],
        level=["error", "warn", "error", "error", "info", "warn", "error", "", "info", "error", "warn", "error", "",
               "info", "error", "warn", "error"],
        fields=[{"status": 500 + i % 3 * 4 - 96 * (i % 2), "user": {"id": f"u_{i % 3}"}, "region": "eu-west-1"}
                if i % 4 else {"status": "404"} for i in range(count)],
    )
    alone, together = alone_and_shared(table, BENCH_MIX)
    assert together == alone
    assert any(any(answer) for answer in alone) and not all(all(answer) for answer in alone)


# Kelvin sign and long s fold to k and s in Unicode (RE2's case-insensitive search) but not in ASCII.
_LETTERS = "aAbBzZsSkK09 -_.:/\"éÉß\u212a\u017f"
_WORD = st.text(alphabet=st.sampled_from(_LETTERS), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(st.tuples(st.booleans(), _WORD), min_size=1, max_size=30),
    lines=st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(_LETTERS), max_size=20)),
                   min_size=1, max_size=40),
)
def test_a_sweep_of_random_words_answers_as_each_word_alone(words: list[tuple[bool, str]], lines: list[str | None]) -> None:
    batch = pa.table({"line": pa.array(lines, pa.string())})
    nodes = [Phrase(text) if phrase else Term(text) for phrase, text in words]
    shared = SharedBatch(batch)
    sweep(shared, nodes)
    for node in nodes:
        assert shared.answers[node].to_pylist() == compile_filter(node)(batch).to_pylist(), node
