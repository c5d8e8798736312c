"""Settings → Rules: an admin tries a redaction rule on sample lines, saves it, switches it off,
sees a bad grok pattern explained, and deletes it; the owner adds a retention rule; a read-only
user is not offered the page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e.actions import sign_in
from e2e.corpus import READER_EMAIL, READER_PASSWORD, Seeded

RULE_NAME = "e2e phi"


def open_rules(page: Page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Rules", exact=True).click()
    expect(page.get_by_role("heading", name="Rules", exact=True)).to_be_visible()


@pytest.fixture
def no_leftover_rules(seeded: Seeded) -> Iterator[None]:
    """The e2e server is shared: whatever this test leaves is deleted, so no rule touches later
    tests (as the owner: only the owner may delete a retention rule)."""
    yield
    with httpx.Client(base_url=seeded.server.url, timeout=30) as owner:
        login = owner.post("/api/v1/auth/login", json={"email": seeded.owner_email, "password": seeded.owner_password})
        owner.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        for rule in owner.get("/api/v1/rules").json()["rules"]:
            if rule["name"].startswith("e2e"):
                owner.delete(f"/api/v1/rules/{rule['id']}")


def test_an_admin_tests_saves_disables_and_deletes_a_redaction_rule(page: Page, seeded: Seeded, no_leftover_rules: None) -> None:
    sign_in(page, seeded)
    open_rules(page)
    page.get_by_role("button", name="Add rule").click()
    form = page.get_by_role("form", name="New rule")
    form.get_by_label("Kind").select_option("redact")
    form.get_by_label("Name").fill(RULE_NAME)
    form.get_by_label("HIPAA preset (every detector)").check()
    form.get_by_label("Marker").fill("[PHI]")
    form.get_by_label("Sample lines").fill("patient 123-45-6789 emailed jane@example.org\nall quiet on ward 3")
    form.get_by_role("button", name="Test on samples").click()

    expect(form.get_by_role("status")).to_have_text("1 of 2 sample lines matched.")
    results = form.get_by_role("table", name="Test results")
    expect(results.get_by_role("row").nth(1)).to_contain_text("patient [PHI] emailed [PHI]")
    expect(results.get_by_role("row").nth(2)).to_contain_text("unchanged")

    form.get_by_role("button", name="Save rule").click()
    expect(page.get_by_role("status").filter(has_text=f"Rule {RULE_NAME} added.")).to_be_visible()
    row = page.get_by_role("region", name="Redaction rules").get_by_role("row").filter(has_text=RULE_NAME)
    expect(row).to_contain_text("preset hipaa → [PHI]")
    expect(row).to_contain_text("enabled")

    row.get_by_role("button", name="Disable").click()
    expect(row).to_contain_text("disabled")
    expect(row.get_by_role("button", name="Enable")).to_be_visible()

    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Confirm delete").click()
    expect(page.get_by_role("status").filter(has_text=f"Rule {RULE_NAME} deleted.")).to_be_visible()
    expect(page.get_by_role("region", name="Redaction rules")).to_contain_text("No redaction rules.")


def test_a_bad_pattern_is_explained_next_to_the_form(page: Page, seeded: Seeded, no_leftover_rules: None) -> None:
    sign_in(page, seeded)
    open_rules(page)
    page.get_by_role("button", name="Add rule").click()
    form = page.get_by_role("form", name="New rule")
    form.get_by_label("Name").fill("e2e access")
    form.get_by_label("Pattern", exact=True).fill("%{IPV:client} %{NUMBER:bytes:int}")
    form.get_by_role("button", name="Save rule").click()
    expect(form.get_by_role("alert")).to_contain_text("unknown grok pattern %{IPV}; did you mean IPV6 or IPV4")

    form.get_by_label("Pattern", exact=True).fill("%{IP:client} %{NUMBER:bytes:int}")
    form.get_by_label("Sample lines").fill("10.0.0.7 512")
    form.get_by_role("button", name="Test on samples").click()
    expect(form.get_by_role("table", name="Test results")).to_contain_text('{"client":"10.0.0.7","bytes":512}')
    form.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("region", name="Parsing rules")).to_contain_text("No parsing rules.")


def test_the_owner_tries_and_adds_a_retention_rule(page: Page, seeded: Seeded, no_leftover_rules: None) -> None:
    sign_in(page, seeded)
    open_rules(page)
    page.get_by_role("button", name="Add rule").click()
    form = page.get_by_role("form", name="New rule")
    form.get_by_label("Kind").select_option("retain")
    form.get_by_label("Name").fill("e2e short-lived")
    form.get_by_label("Query").fill("e2e-noise-probe")  # no seeded line has it: the shared corpus keeps its retention
    form.get_by_label("Keep for (days)").fill("3")
    form.get_by_label("Sample lines").fill("e2e-noise-probe cache warm\norder placed")
    form.get_by_role("button", name="Test on samples").click()
    results = form.get_by_role("table", name="Test results")
    expect(results.get_by_role("row").nth(1)).to_contain_text("kept 3 days")
    expect(results.get_by_role("row").nth(2)).to_contain_text("the account's retention")

    form.get_by_role("button", name="Save rule").click()
    row = page.get_by_role("region", name="Retention rules").get_by_role("row").filter(has_text="e2e short-lived")
    expect(row).to_contain_text("keep 3 days: e2e-noise-probe")


def test_a_read_only_user_is_not_offered_rules(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded, READER_EMAIL, READER_PASSWORD)
    page.get_by_role("banner").get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("link", name="Usage", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Rules", exact=True)).to_have_count(0)
