"""Properties of the miner over arbitrary text: it never raises, repeats itself, and restarts."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from timberyard.insights.masking import mask
from timberyard.insights.miner import Limits, TemplateMiner

# Log-like words (so templates do form) mixed with anything Unicode allows.
_WORD = st.one_of(
    st.sampled_from(["user", "login", "failed", "from", "port", "ok", "=", "[x]", "ssh2", "µs", "日志"]),
    st.integers(-(10**12), 10**12).map(str),
    st.ip_addresses().map(str),
    st.uuids().map(str),
    st.text(max_size=12),
)
LINE = st.one_of(st.lists(_WORD, max_size=30).map(" ".join), st.text(max_size=300))
LINES = st.lists(LINE, min_size=1, max_size=40)


@given(LINE)
def test_mask_never_raises(line: str) -> None:
    assert isinstance(mask(line), str)


@given(LINES)
def test_never_raises(lines: list[str]) -> None:
    miner = TemplateMiner("k", Limits(max_templates=10, max_tokens=8, max_chars=200, max_seen=16))
    for line in lines:
        ident, text = miner.add(line)
        assert ident > 0 and isinstance(text, str)
        assert miner.match(line) is not None or text == "<*>"


@given(LINES)
def test_same_line_same_template_once_stable(lines: list[str]) -> None:
    miner = TemplateMiner("k")
    for line in lines:
        miner.add(line)
    stable = [miner.add(line)[0] for line in lines]
    assert [miner.add(line)[0] for line in lines] == stable
    assert [miner.match(line)[0] for line in lines] == stable


@given(LINES, LINES)
def test_state_round_trip_keeps_ids(before: list[str], after: list[str]) -> None:
    miner = TemplateMiner("acct/app")
    ids = [miner.add(line)[0] for line in before]
    restored = TemplateMiner.from_state(json.loads(json.dumps(miner.state())))
    assert [restored.match(line)[0] for line in before] == [miner.match(line)[0] for line in before]
    assert {t.id: t.text for t in restored.templates()} == {t.id: t.text for t in miner.templates()}
    assert set(ids) <= {t.id for t in restored.templates()}
    # Both go on learning the same way.
    assert [restored.add(line) for line in after] == [miner.add(line) for line in after]
