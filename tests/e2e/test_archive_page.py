"""Settings → Archive: the owner archives to a directory of the node in Parquet, tests it,
archives now and sees the status, then changes the account's retention; a bad destination is
explained."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.actions import sign_in
from e2e.corpus import Seeded


def open_archive(page: Page) -> None:
    page.get_by_role("banner").get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Archive", exact=True).click()
    expect(page.get_by_role("heading", name="Archive", exact=True)).to_be_visible()


def test_the_owner_configures_tests_and_runs_the_archive_and_sets_retention(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    open_archive(page)
    form = page.get_by_role("form", name="Archive settings")
    form.get_by_label("Where").select_option("local")
    form.get_by_label("Directory").fill("../outside")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("alert")).to_contain_text("destination.path")  # the server's 400 names the field

    form.get_by_label("Directory").fill("e2e-archive")
    form.get_by_label("Encrypt files before they leave the node (AES-256-GCM)").check()
    form.get_by_label("File format (applies to files written from now on)").select_option("parquet")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Archive settings saved.")).to_be_visible()
    expect(form.get_by_label("File format (applies to files written from now on)")).to_have_value("parquet")  # as the server has it
    form.get_by_role("button", name="Test the destination").click()
    expect(page.get_by_role("status").filter(has_text="The destination works")).to_be_visible()
    form.get_by_role("button", name="Archive now").click()
    expect(page.get_by_role("status").filter(has_text="Archived what was ready.")).to_be_visible()
    status = page.get_by_role("table", name="Archive status")
    expect(status.get_by_role("row").filter(has_text="Archiving")).to_contain_text("on")
    expect(status.get_by_role("row").filter(has_text="Last success")).not_to_contain_text("never")

    retention = page.get_by_role("form", name="Retention")
    retention.get_by_label("Days").fill("45")
    retention.get_by_role("button", name="Change retention").click()
    expect(page.get_by_role("status").filter(has_text="kept 45 days")).to_be_visible()

    # The e2e server is shared: put the account back as it was.
    retention.get_by_label("Days").fill("30")
    retention.get_by_role("button", name="Change retention").click()
    expect(page.get_by_role("status").filter(has_text="kept 30 days")).to_be_visible()
    form.get_by_label("Archive every hour").uncheck()
    form.get_by_label("File format (applies to files written from now on)").select_option("json")
    form.get_by_role("button", name="Save").click()
    expect(status.get_by_role("row").filter(has_text="Archiving")).to_contain_text("off")
