"""Settings → Archive, "Search the archive": lines archived on a real node (its own, so the
settle delay is short and the restore finds the lines gone from the store) are searched on the
page, paged once with "Older lines", restored with the streamed progress seen to finish, and
opened in the viewer; a read-only user searches but is offered no restore."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from e2e.actions import log_lines, sign_in
from e2e.corpus import ACCOUNT_NAME, READER_EMAIL, READER_PASSWORD, Seeded
from servers import Server, call, delete_lines, run_cli

LINES = 150  # the page shows 100 at a time: one "Older lines"
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def archived(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A node whose account archived LINES "vault" lines of two hours ago, then lost them from
    its store (as retention would), so a restore has something to put back."""
    root = tmp_path_factory.mktemp("archive-root")
    server = Server(tmp_path_factory.mktemp("archive-node"), env={
        "TIMBERYARD_BATCH_MAX_WAIT_MS": "100", "TIMBERYARD_ARCHIVE_SETTLE_S": "1", "TIMBERYARD_ARCHIVE_LOCAL_ROOT": str(root)})
    server.credentials = json.loads(run_cli("init", "--data-dir", str(server.data_dir), "--account", ACCOUNT_NAME, "--json").stdout)
    server.start()
    try:
        start = int(time.time() * 1000) - 2 * HOUR_MS
        put = call(server, "PUT", "/api/v1/archive", server.service_key, json={"destination": {"type": "local", "path": "vault"}})
        assert put.status_code == 200, put.text
        sent = server.ingest([{"line": f"vault entry {n:03d}", "app": "vault", "timestamp": start + n * 1000} for n in range(LINES)])
        assert sent.status_code == 200, sent.text
        server.wait_stored(LINES)
        time.sleep(1.2)  # the settle delay is real time
        run = call(server, "POST", "/api/v1/archive/run", server.service_key)
        assert run.status_code == 200 and run.json()["lines"] == LINES, run.text
        account = run.json()["files"][0]["key"].split("/")[-1].split(".")[0]
        reader = httpx.post(server.url + "/api/v1/users", json={"email": READER_EMAIL, "role": "readonly", "password": READER_PASSWORD},
                            auth=(server.service_key, ""), timeout=30)
        assert reader.status_code == 201, reader.text
        delete_lines(server, account, start, start + LINES * 1000)
        yield Seeded(server, server.credentials["owner_email"], server.credentials["owner_password"])
    finally:
        server.stop()


def open_archive(page: Page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Archive", exact=True).click()
    expect(page.get_by_role("heading", name="Archive", exact=True)).to_be_visible()


def search_archive(page: Page, query: str, span: str) -> None:
    form = page.get_by_role("form", name="Archive search")
    form.get_by_label("Query").fill(query)
    form.get_by_label("Time range").fill(span)
    form.get_by_role("button", name="Search archive").click()


def archived_lines(page: Page) -> Locator:
    return page.get_by_role("log", name="Archived lines").locator(".line")


def test_the_owner_searches_pages_and_restores_an_archived_range(page: Page, archived: Seeded) -> None:
    sign_in(page, archived)
    open_archive(page)
    search_archive(page, "vault", "last 3 hours")
    expect(archived_lines(page)).to_have_count(100)
    expect(archived_lines(page).first).to_contain_text(f"vault entry {LINES - 1:03d}")  # newest first
    expect(archived_lines(page).first.locator("mark")).to_have_text("vault")  # the viewer's rendering, terms marked
    expect(page.get_by_role("status").filter(has_text="older lines follow")).to_be_visible()

    page.get_by_role("button", name="Older lines").click()
    expect(archived_lines(page)).to_have_count(LINES)
    expect(archived_lines(page).last).to_contain_text("vault entry 000")
    expect(page.get_by_role("button", name="Older lines")).to_be_hidden()
    texts = archived_lines(page).locator(".msg").all_inner_texts()
    assert texts == [f"vault entry {n:03d}" for n in reversed(range(LINES))]  # once each, in order across the pages

    search_archive(page, "no-such-word", "last 3 hours")
    expect(page.get_by_role("status").filter(has_text="No archived lines match")).to_be_visible()
    expect(archived_lines(page)).to_have_count(0)

    search_archive(page, "vault", "last 3 hours")
    expect(archived_lines(page)).to_have_count(100)
    page.get_by_role("button", name="Restore this range").click()
    page.get_by_role("button", name="Cancel").click()  # asked first: nothing is restored on one click
    expect(page.get_by_role("progressbar", name="Restore progress")).to_be_hidden()
    page.get_by_role("button", name="Restore this range").click()
    expect(page.get_by_text("Restore every archived line of")).to_be_visible()
    page.get_by_role("button", name="Confirm restore").click()
    expect(page.get_by_role("status").filter(has_text="Restore finished")).to_contain_text(
        f"{LINES} lines restored, 0 already in the store", timeout=60_000)
    progress = page.get_by_role("progressbar", name="Restore progress")
    assert progress.evaluate("(bar) => bar.value === bar.max")

    page.get_by_role("link", name="Open the restored range in the viewer").click()
    expect(log_lines(page).filter(has_text=f"vault entry {LINES - 1:03d}")).to_have_count(1)  # the newest, at the bottom
    expect(page.get_by_role("searchbox", name="Search")).to_have_value("vault")


def test_a_read_only_user_searches_the_archive_but_is_offered_no_restore(page: Page, archived: Seeded) -> None:
    sign_in(page, archived, READER_EMAIL, READER_PASSWORD)
    open_archive(page)
    expect(page.get_by_role("form", name="Archive settings")).to_have_count(0)
    search_archive(page, "entry 007", "last 3 hours")
    expect(archived_lines(page)).to_have_count(1)
    expect(page.get_by_role("button", name="Restore this range")).to_have_count(0)
