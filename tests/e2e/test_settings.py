"""Settings pages: keys for admins, and what a read-only user is (not) offered."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from e2e.actions import sign_in
from e2e.corpus import READER_EMAIL, READER_PASSWORD, Seeded

SECRET = re.compile(r"[0-9a-f]{32,}")


def open_settings(page: Page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Settings", exact=True).click()


def test_an_admin_creates_a_service_key_whose_secret_is_shown_once_and_works(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    open_settings(page)
    page.get_by_role("link", name="Keys", exact=True).click()
    page.get_by_role("button", name="Create key").click()
    page.get_by_label("Type").select_option("service")
    page.get_by_label("Role").select_option("readonly")
    page.get_by_label("Name").fill("e2e reporting")
    page.get_by_role("button", name="Create", exact=True).click()

    status = page.get_by_role("status").filter(has_text=SECRET)
    expect(status).to_have_count(1)
    found = SECRET.search(status.inner_text())
    assert found is not None
    me = httpx.get(seeded.server.url + "/api/v1/auth/me", auth=(found.group(0), ""), timeout=30)
    assert me.status_code == 200, me.text
    assert me.json()["key"]["name"] == "e2e reporting"
    assert me.json()["role"] == "readonly"

    row = page.get_by_role("row").filter(has_text="e2e reporting")
    expect(row.get_by_role("button", name="Revoke")).to_be_visible()
    expect(row.get_by_role("button", name="Rotate")).to_be_visible()
    expect(row).not_to_contain_text(found.group(0))  # the table never repeats the secret


def test_a_read_only_user_is_offered_no_admin_settings(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded, READER_EMAIL, READER_PASSWORD)
    open_settings(page)
    expect(page.get_by_role("link", name="Usage", exact=True)).to_be_visible()  # the settings nav did render
    expect(page.get_by_role("link", name="Usage", exact=True)).to_have_attribute("aria-current", "page")  # it opens there
    for admin_page in ("Keys", "Users", "Groups", "Audit"):
        expect(page.get_by_role("link", name=admin_page, exact=True)).to_have_count(0)
