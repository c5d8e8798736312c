"""All detectors together, over arbitrary batches and clocks: they never raise, and each
anomaly they return is well formed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from timberyard.insights.anomaly import Anomaly
from timberyard.insights.columns import lines
from timberyard.insights.detectors import Detectors
from unit.insights.traffic import T0, Feed, Stream

_TEXT = st.one_of(st.sampled_from(["", "a", "web", "ERROR", "warn", "Fatal", "bogus"]), st.text(max_size=8))
_LINE = st.tuples(_TEXT, _TEXT, _TEXT, _TEXT, st.integers(-(2**63), 2**63 - 1),
                  st.integers(T0 - 10**10, T0 + 10**10))
_BATCHES = st.lists(st.tuples(st.lists(_LINE, max_size=30), st.integers(-(10**9), 10**10)), max_size=8)


@settings(max_examples=60, deadline=None)
@given(_BATCHES)
def test_detectors_never_raise(batches) -> None:
    detectors = Detectors()
    now = T0
    for rows, step in batches:
        now += step  # the clock may stand still, jump or even go back
        columns = [list(c) for c in zip(*rows)] if rows else [[]] * 6
        for anomaly in detectors.observe(lines(*columns), now):
            assert isinstance(anomaly, Anomaly) and anomaly.evidence


def test_detectors_report_each_kind_of_incident_on_one_clock():
    feed = Feed(Detectors(), seed=9)
    normal = (Stream(400, app="api", host="h1"), Stream(8, app="api", host="h1", level="ERROR", template=2),
              Stream(100, app="db", host="h2", template=3))
    assert feed.run(120, *normal) == []
    burst = feed.run(2, *normal, Stream(3000, app="api", host="h1", level="ERROR", template=77))
    silent = feed.run(5, *normal[:2])
    assert {a.kind for a in burst} == {"new_template", "volume_spike"}
    assert sorted(a.key for a in silent) == ["app=db", "host=h2"]
