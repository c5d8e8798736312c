"""Selections of many alerts tested on one shared batch answer as each alone, and sample lines
made once per batch are the ones each alert would make."""

from __future__ import annotations

import itertools

import numpy as np
from records import record

from timberyard.alerts.samples import Samples, sample_lines
from timberyard.alerts.selection import Selection
from timberyard.meta.views import ViewFilters
from timberyard.search.text_sweep import sweep
from timberyard.search.to_arrow import SharedBatch

LINES = ["error on web", "timeout talking to db", "Error: disk", "all fine", "warn: slow", "error again zz1"]
TABLE = record(
    "acme", LINES,
    host=["web-1", "db-1", "web-2", "web-1", "db-1", "web-2"],
    app=["nginx", "api", "nginx", "sshd", "api", None],
    level=["error", "info", "error", "info", "warn", "error"],
    tags=[["prod"], [], ["prod", "eu"], ["eu"], None, ["dev"]],
    fields=[{"status": 500}, None, {"status": 404}, None, {"status": 503}, {"user": {"id": "u_1"}}],
)
FILTERS = [
    ViewFilters(),
    ViewFilters(apps=("nginx",)),
    ViewFilters(apps=("nginx", "api"), levels=("ERR",)),
    ViewFilters(hosts=("web-1", "web-2"), tags=("prod",)),
    ViewFilters(tags=("eu", "dev")),
    ViewFilters(levels=("warning", "error")),
]
QUERIES = ["", "error", "error -zz1", "timeout OR disk", "status:>=500", '"error again"', "-app:nginx", "user.id:u_1"]
SCOPES = [None, ("app:nginx",), ("level:error", "host:db-1")]


def test_selections_on_one_shared_batch_answer_as_each_alone() -> None:
    selections = [Selection(q, f, s) for q, f, s in itertools.product(QUERIES, FILTERS, SCOPES)]
    shared = SharedBatch(TABLE)
    sweep(shared, [selection.node for selection in selections if selection.node is not None])
    for selection in selections:
        assert selection(shared).tolist() == selection(TABLE).tolist()
    assert any(selection(TABLE).any() for selection in selections)


def test_samples_are_made_once_per_line_and_as_sample_lines_makes_them() -> None:
    samples = Samples(TABLE)
    for positions in ([0, 2, 5], [2], [5, 0], [1, 3, 4]):
        wanted = np.array(positions)
        assert samples.at(wanted) == sample_lines(TABLE, wanted)
    assert samples.at(np.array([0]))[0] is samples.at(np.array([2, 0]))[1]
