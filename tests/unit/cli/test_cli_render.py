"""Log text printed to a terminal cannot drive the terminal or forge entries."""

from __future__ import annotations

import pytest

from timberyard.cli.render import terminal_safe


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain <b>html</b> & text", "plain <b>html</b> & text"),
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),  # OSC 52: write the clipboard
        ("ok\rFAKE: all good", "ok\\rFAKE: all good"),
        ("first\n2026-11-28 forged entry", "first\n    2026-11-28 forged entry"),
        ("tab\tstays", "tab\tstays"),
        ("c1 \x9b31m csi", "c1 \\x9b31m csi"),
        ("del\x7f", "del\\x7f"),
        ("naïve 日本", "naïve 日本"),
    ],
)
def test_control_characters_are_shown_not_obeyed(text: str, shown: str) -> None:
    assert terminal_safe(text) == shown
