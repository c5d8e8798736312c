"""Level detection (parse.levels): the level a line states, and the spelling users filter by."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from timberyard.parse.levels import CANONICAL, LEVEL_PATTERN, SCAN_CHARS, detect_level, normalise_level
from unit.parse.level_cases import (
    CAPITALS_ONLY,
    FIRST_256,
    REALISTIC,
    WORD_BOUNDARIES,
    level_lines,
    loghub_samples,
)

DETECTABLE = {""} | set(CANONICAL.values())


@pytest.mark.parametrize(("line", "level"), REALISTIC)
def test_realistic_lines(line: str, level: str) -> None:
    assert detect_level(line) == level


@pytest.mark.parametrize(("line", "level"), WORD_BOUNDARIES)
def test_whole_words_only(line: str, level: str) -> None:
    assert detect_level(line) == level


@pytest.mark.parametrize(("line", "level"), CAPITALS_ONLY)
def test_err_and_crit_count_only_in_capitals(line: str, level: str) -> None:
    assert detect_level(line) == level


@pytest.mark.parametrize(("line", "level"), FIRST_256)
def test_only_the_first_256_characters_are_scanned(line: str, level: str) -> None:
    assert detect_level(line) == level


def test_the_window_counts_characters_not_bytes() -> None:
    # 200 two-byte characters (400 bytes) then a level that ends at character 206.
    assert detect_level("é" * 200 + " ERROR") == "ERROR"
    assert detect_level("日本語" * 85 + " ERROR") == ""  # 256 characters before ERROR


def test_a_word_cut_by_the_window_is_not_a_whole_word() -> None:
    # "information" starts at character 252; the window ends inside it, after "info". The line
    # states no level: the word is "information", not "info".
    line = "x" * 251 + " information"
    assert detect_level(line) == ""


@pytest.mark.parametrize("dataset", ["Apache", "BGL", "HDFS", "Hadoop", "Spark", "Zookeeper"])
def test_loghub_lines_match_their_structured_level(dataset: str) -> None:
    samples = [(line, level) for name, line, level in loghub_samples() if name == dataset]
    assert len(samples) == 2000
    wrong = [(line, level, detect_level(line)) for line, level in samples if detect_level(line) != normalise_level(level)]
    assert wrong == []


def test_loghub_levels_seen() -> None:
    """The samples exercise most canonical levels, so the test above is not all INFO."""
    seen = {normalise_level(level) for _, _, level in loghub_samples()}
    assert {"INFO", "WARN", "ERROR", "FATAL", "NOTICE"} <= seen


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("Straße: error", "ERROR"),  # ß upper-cases to "SS": every index after it shifts by one
        ("2024-01-01 12:00:00 Größe überschritten: WARN disk 93%", "WARN"),
        ("ﬁle closed; INFO done", "INFO"),  # the ligature ﬁ upper-cases to "FI"
        ("ßß info", "INFO"),
    ],
)
def test_letters_that_grow_when_upper_cased_do_not_hide_a_level(line: str, level: str) -> None:
    assert detect_level(line) == level


@given(st.text(alphabet=st.characters(min_codepoint=0x80, blacklist_categories=("Cs",)), max_size=100))
@settings(max_examples=300, deadline=None)
def test_non_ascii_text_before_a_level_does_not_hide_it(prefix: str) -> None:
    assert detect_level(prefix + " ERROR") == "ERROR"


@given(st.text())
@example("")
@example("\x00ERROR\x00")
@example("İnfo ınfo ſevere ﬁ ß" * 20)
@settings(max_examples=500, deadline=None)
def test_never_raises_and_answers_a_canonical_level(line: str) -> None:
    assert detect_level(line) in DETECTABLE


@given(st.text(max_size=600))
@settings(deadline=None)
def test_only_the_head_matters(line: str) -> None:
    assert detect_level(line) == detect_level(line[:SCAN_CHARS])


# LEVEL_PATTERN is RE2 syntax; on ASCII text Python's re with ASCII classes reads it the same,
# once "$" means only the end of the text (as in RE2) rather than also before a final newline.
_ORACLE = re.compile(LEVEL_PATTERN.replace("|$)", r"|\Z)"), re.ASCII)


def _oracle(line: str) -> str:
    match = _ORACLE.search(line[:SCAN_CHARS])
    return CANONICAL[match.group(1).upper()] if match else ""


@given(level_lines())
@settings(max_examples=1000, deadline=None)
def test_agrees_with_the_stores_pattern_on_ascii(line: str) -> None:
    assert detect_level(line) == _oracle(line)


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=300))
@settings(max_examples=500, deadline=None)
def test_agrees_with_the_stores_pattern_on_any_ascii(line: str) -> None:
    assert detect_level(line) == _oracle(line)


@pytest.mark.parametrize("word", sorted(CANONICAL))
def test_every_alias_alone_is_detected(word: str) -> None:
    assert detect_level(word) == CANONICAL[word]
    assert detect_level(f"[{word}] message") == CANONICAL[word]
    if word not in ("ERR", "CRIT"):
        assert detect_level(word.lower()) == CANONICAL[word]


@pytest.mark.parametrize(
    ("given_level", "canonical"),
    [
        ("error", "ERROR"),
        (" warning ", "WARN"),
        ("Warn", "WARN"),
        ("err", "ERROR"),
        ("crit", "CRITICAL"),
        ("sEvErE", "ERROR"),
        ("panic", "FATAL"),
        ("emerg", "EMERGENCY"),
        ("INFO", "INFO"),
        ("\tdebug\n", "DEBUG"),
        ("trace", "TRACE"),
        ("notice", "NOTICE"),
        ("alert", "ALERT"),
        ("verbose", "VERBOSE"),
        ("Information", "INFORMATION"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_normalise_level(given_level: str, canonical: str) -> None:
    assert normalise_level(given_level) == canonical


@given(st.text())
@settings(deadline=None)
def test_normalise_level_is_idempotent_and_upper_case(level: str) -> None:
    once = normalise_level(level)
    assert normalise_level(once) == once
    assert once == once.strip()
    # Simple (one-to-one) case mapping, as Arrow and ClickHouse apply it: "ß" and "ﬀ" stay.
    assert all(len(char.upper()) != 1 or char.upper() == char for char in once)


@given(st.sampled_from(sorted(CANONICAL)), st.sampled_from(["", " ", "\t"]))
@settings(deadline=None)
def test_normalise_level_maps_every_alias(alias: str, space: str) -> None:
    assert normalise_level(space + alias.lower() + space) == CANONICAL[alias]
