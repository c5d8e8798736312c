"""The official LogDNA Node.js libraries (`@logdna/logger`, `logdna` on npm) send through us unchanged.

scripts/test installs Node.js when the machine lacks it; the packages come from the npm
registry into .venv/logdna-js on first use.
"""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest

from node_packages import npm_installed
from servers import Server

HERE = Path(__file__).resolve().parent / "logdna_js"
INSTALL_DIR = Path(__file__).resolve().parents[2] / ".venv" / "logdna-js"
LEVELS = ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]


@pytest.fixture(scope="module")
def node_modules() -> Path:
    return npm_installed(HERE, INSTALL_DIR, ("package.json", "send.js"), "node_modules/@logdna/logger", timeout=300)


@pytest.mark.parametrize("library", ["logger", "legacy"])
def test_official_node_library_lines_arrive_exactly_once(library: str, node_modules: Path, server: Server) -> None:
    hostname, count = f"npm-{uuid.uuid4().hex[:8]}", 200
    before = server.metric("timberyard_store_lines_total")
    subprocess.run(
        ["node", "send.js", library, server.ingestion_key, server.url + "/logs/ingest", hostname, "npm-app", str(count)],
        cwd=node_modules,
        check=True,
        timeout=60,
    )
    server.wait_stored(before + count)
    lines = server.export(hosts=hostname, prefer="head")
    assert len(lines) == count
    by_seq = {line["_meta"]["seq"]: line for line in lines}
    assert sorted(by_seq) == list(range(count))
    for seq, line in by_seq.items():
        assert line["_line"] == f"npm {library} line {seq}"
        assert line["_app"] == "npm-app"
        assert line["level"] == LEVELS[seq % len(LEVELS)]
        assert line["kind"] == library
