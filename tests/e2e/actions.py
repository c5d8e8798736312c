"""What a person does in the UI, found by the accessible names the UI promises (issue 5)."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from e2e.corpus import ACCOUNT_NAME, Seeded


def sign_in(page: Page, seeded: Seeded, email: str | None = None, password: str | None = None) -> None:
    """Sign in through the login form and wait for the app's header to name the account."""
    page.goto(seeded.server.url + "/")
    page.get_by_label("Email").fill(email or seeded.owner_email)
    page.get_by_label("Password").fill(password or seeded.owner_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("banner")).to_contain_text(ACCOUNT_NAME)


def log_lines(page: Page) -> Locator:
    """The rendered lines of the viewer's line list."""
    return page.get_by_role("log", name="Log lines").locator(".line[data-id]")


def search_for(page: Page, query: str) -> None:
    box = page.get_by_role("searchbox", name="Search")
    box.fill(query)
    box.press("Enter")


def shown_ids(page: Page) -> list[str]:
    return log_lines(page).evaluate_all("(lines) => lines.map((line) => line.dataset.id)")
