"""npm packages the tests run (the official LogDNA Node libraries, Azurite), installed from the
npm registry into a directory under .venv on first use, and kept there for later runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from filelock import FileLock


def npm_installed(source: Path, into: Path, files: tuple[str, ...], ready: str, timeout: float) -> Path:
    """`into` with `source`'s `files` (package.json first) and `npm install`ed, once `into/ready`
    exists. Under a file lock: pytest-xdist workers that need the same packages at the same time
    take turns, and the second finds them installed. A file is copied only when it changed, so a
    worker never rewrites a script that the other is running."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are required (scripts/test installs them with apt-get)")
    into.mkdir(parents=True, exist_ok=True)
    with FileLock(into.with_name(into.name + ".lock")):
        for name in files:
            wanted = (source / name).read_bytes()
            target = into / name
            if not target.exists() or target.read_bytes() != wanted:
                target.write_bytes(wanted)
        if not (into / ready).exists():
            subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=into, check=True, timeout=timeout)
    return into
