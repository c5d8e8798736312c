"""Level names against the shared conformance table (tests/conformance/levels.json), which the
web UI's levels.js is held to as well (tests/js/levels.test.mjs)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from timberyard.parse.levels import canonical_levels, normalise_level

TABLE = json.loads((Path(__file__).resolve().parents[2] / "conformance" / "levels.json").read_text())["cases"]


@pytest.mark.parametrize(("given", "canonical", "group"), TABLE)
def test_normalise_level(given: str, canonical: str, group: str) -> None:
    assert normalise_level(given) == canonical


def test_canonical_levels_of_a_column_is_the_same_rule() -> None:
    assert canonical_levels(pa.array([given for given, _, _ in TABLE])).to_pylist() == [canonical for _, canonical, _ in TABLE]
