"""Browser end-to-end tests of the web UI: Debian's Chromium, driven by Playwright, against a real server.

What runs: one `timberyard serve` on loopback for the whole e2e session (tests/servers.py),
seeded with a few hundred lines across apps, hosts and levels (plus hostile ones: HTML, ANSI
escapes, CR/LF; see corpus.py), its owner and a read-only user. Each test gets a fresh browser
context (1280x800) and signs in through the login form, so tests share data but no browser state.

Chromium: the tests launch the system's `chromium` (Debian package `chromium`) through
`playwright.sync_api`; `playwright install` is never needed and never run. scripts/test installs
the package with apt-get when it is missing; without it these tests are skipped, saying so.

Screenshots: every test leaves `test-artifacts/e2e/<test name>.png` (full page, taken at the
end of the test, pass or fail), a directory git ignores. A test fails when the page logs a
console error (CSP violations included), throws an uncaught error, or opens a JS dialog.

Run just these: `.venv/bin/python -m pytest -q tests/e2e`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from e2e.corpus import ACCOUNT_NAME, READER_EMAIL, READER_PASSWORD, Seeded, seed_lines
from e2e.problems import PageProblems
from servers import Server, run_cli

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="session")
def chromium() -> str:
    path = chromium_path()
    if path is None:
        pytest.skip("e2e tests need Debian's Chromium: `apt-get install chromium` (scripts/test installs it)")
    return path


@pytest.fixture(scope="session")
def seeded(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """One server for the e2e session, started after the Chromium check so a skip costs nothing."""
    server = Server(tmp_path_factory.mktemp("e2e-node"), env={"TIMBERYARD_BATCH_MAX_WAIT_MS": "100", "TIMBERYARD_ALERTS_OUTBOUND_ALLOW": "127.0.0.1"})
    created = run_cli("init", "--data-dir", str(server.data_dir), "--account", ACCOUNT_NAME, "--json")
    server.credentials = json.loads(created.stdout)
    server.start()
    try:
        now_ms = int(time.time() * 1000)
        lines = seed_lines(now_ms)
        response = server.ingest(lines)
        assert response.status_code == 200, response.text
        server.wait_stored(len(lines))
        reader = httpx.post(
            server.url + "/api/v1/users",
            json={"email": READER_EMAIL, "role": "readonly", "password": READER_PASSWORD},
            auth=(server.service_key, ""),
            timeout=30,
        )
        assert reader.status_code == 201, reader.text
        found = httpx.get(
            server.url + "/api/v1/search",
            params={"from": 0, "to": now_ms + 60_000, "limit": 10_000},
            auth=(server.service_key, ""),
            timeout=30,
        )
        assert found.status_code == 200, found.text
        record = Seeded(server, server.credentials["owner_email"], server.credentials["owner_password"])
        record.lines = {line["id"]: line for line in found.json()["lines"]}
        assert len(record.lines) == len(lines)
        yield record
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    """One browser per test module. Playwright's sync API keeps an asyncio loop running on the
    main thread while it is open, which breaks every later test that calls asyncio.run(); a
    module-scoped browser is closed before pytest moves on to other directories."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium)
        yield launched
        launched.close()


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Browser, problems: PageProblems, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context per test; afterwards a screenshot (pass or fail), then the
    problems of any page of the context (a test may open more) fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    context.on("console", problems.console)
    context.on("weberror", problems.page_error)
    context.on("dialog", problems.dialog)
    opened = context.new_page()
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    try:
        opened.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    finally:
        context.close()
    assert not problems.dialogs, f"the page opened JS dialogs: {problems.dialogs}"
    assert not problems.errors, "the page reported errors:\n" + "\n".join(problems.errors)
