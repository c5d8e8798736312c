"""New templates at WARN or above: flagged once, after learning, and only at WARN or worse."""

from __future__ import annotations

from timberyard.insights.columns import MINUTE_MS, lines
from timberyard.insights.novelty import NewTemplates, NoveltyLimits
from unit.insights.traffic import T0, Feed, Stream


def test_a_new_warn_template_after_learning_fires_once():
    feed = Feed(NewTemplates(NoveltyLimits(learn_minutes=30)))
    assert feed.run(40, Stream(50), Stream(2, level="ERROR", template=12)) == []
    found = feed.run(3, Stream(50), Stream(5, level="WARNING", template=99))
    assert [(a.kind, a.account, a.key) for a in found] == [("new_template", "acme", "app=web template=99")]
    assert "template 99 of app web at WARN, never seen" in found[0].evidence
    assert T0 + 40 * MINUTE_MS <= found[0].started_at < T0 + 41 * MINUTE_MS


def test_new_templates_below_warn_and_during_learning_are_quiet():
    feed = Feed(NewTemplates(NoveltyLimits(learn_minutes=30)))
    assert feed.run(10, Stream(20), Stream(3, level="FATAL", template=50)) == []  # learning
    assert feed.run(30, Stream(20), Stream(3, level="INFO", template=51), Stream(3, level="DEBUG", template=52)) == []
    # Another app's first minutes are its own learning time.
    assert feed.run(5, Stream(20, app="new-app", level="ERROR", template=53)) == []


def test_per_line_flags_in_order_within_a_batch_and_rare_below():
    detector = NewTemplates(NoveltyLimits(rare_below=2, learn_minutes=0))
    table = lines(["a"] * 5, ["x"] * 5, ["h"] * 5, ["ERROR", "ERROR", "ERROR", "INFO", "crit"],
                  [7, 7, 7, 8, 9], [T0] * 5)
    assert detector.flags(table).tolist() == [True, True, False, False, True]
    # The same templates again: 7 has been seen 3 times, 9 once, so only 9 is still rare.
    assert detector.flags(table).tolist() == [False, False, False, False, True]


def test_the_same_template_in_another_account_or_app_is_new_there():
    detector = NewTemplates(NoveltyLimits(learn_minutes=0))
    first = lines(["a"], ["x"], ["h"], ["ERROR"], [7], [T0])
    assert detector.flags(first).tolist() == [True]
    other = lines(["b", "a"], ["x", "y"], ["h", "h"], ["ERROR", "ERROR"], [7, 7], [T0, T0])
    assert detector.flags(other).tolist() == [True, True]


def test_unmined_lines_are_ignored_and_memory_is_bounded():
    detector = NewTemplates(NoveltyLimits(learn_minutes=0, max_templates=10, max_keys=2))
    assert detector.flags(lines(["a"], ["x"], ["h"], ["ERROR"], [0], [T0])).tolist() == [False]
    for app in ("p", "q", "r"):
        detector.flags(lines(["a"] * 50, [app] * 50, ["h"] * 50, ["ERROR"] * 50, list(range(1, 51)), [T0] * 50))
    assert len(detector._apps) == 2
    assert all(len(app.seen) <= 10 for app in detector._apps.values())
