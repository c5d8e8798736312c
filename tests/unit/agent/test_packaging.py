"""The agent and the handler stay slim: nothing of the server is imported, no chDB, no pyarrow."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = ["chdb", "pyarrow", "numpy", "msgspec", "orjson", "starlette", "uvicorn", "sqlalchemy", "httpx", "cryptography"]

PROGRAM = f"""
import sys
for name in {BLOCKED!r}:
    sys.modules[name] = None  # importing any of them now fails
import timberyard.agent.runner, timberyard.agent.cli, timberyard.agent.follow, timberyard.handler
loaded = sorted(name for name in sys.modules if name.startswith("timberyard") and sys.modules[name] is not None)
print(" ".join(loaded))
"""


def test_the_agent_and_the_handler_import_nothing_of_the_server() -> None:
    result = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    loaded = result.stdout.split()
    assert "timberyard.agent.runner" in loaded and "timberyard.handler" in loaded
    assert [name for name in loaded if not name.startswith("timberyard.agent") and name not in ("timberyard", "timberyard.handler")] == []
