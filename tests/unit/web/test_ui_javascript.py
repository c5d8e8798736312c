"""The web UI's pure JavaScript (tests/js/*.test.mjs), run by Node's built-in test runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JS_TESTS = Path(__file__).resolve().parents[2] / "js"


def test_the_javascript_unit_tests_pass() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the web UI's unit tests: scripts/test installs it with apt-get"
    tests = sorted(str(path) for path in JS_TESTS.glob("*.test.mjs"))
    assert tests
    result = subprocess.run([node, "--test", *tests], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
