"""Signing in through the login form."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.actions import sign_in
from e2e.corpus import ACCOUNT_NAME, Seeded


def test_signing_in_shows_the_account_and_user_in_the_header(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    banner = page.get_by_role("banner")
    expect(banner).to_contain_text(ACCOUNT_NAME)
    expect(banner).to_contain_text(seeded.owner_email)
    expect(banner.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_wrong_password_is_announced_and_keeps_the_user_out(page: Page, seeded: Seeded) -> None:
    page.goto(seeded.server.url + "/")
    page.get_by_label("Email").fill(seeded.owner_email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong email or password")
    expect(page.get_by_role("banner")).to_have_count(0)


def test_nothing_is_logged_or_refused_before_sign_in_nor_after_sign_out(page: Page, seeded: Seeded) -> None:
    """Opening the page signed out asks the server nothing it would refuse, so the console stays
    empty: not even the 4xx answers the `problems` fixture forgives elsewhere."""
    errors: list[str] = []
    refused: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("response", lambda response: refused.append(f"{response.status} {response.url}") if response.status >= 400 else None)
    page.goto(seeded.server.url + "/?q=error&range=1h")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_label("Email")).to_be_visible()
    assert (errors, refused) == ([], [])

    sign_in(page, seeded)
    page.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.reload()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert (errors, refused) == ([], [])
