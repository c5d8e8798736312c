"""Settings → Channels and Alerts, and the viewer's "Alert on this view": an owner adds a webhook
channel and sends a test to a real receiver on loopback, turns a search into an alert, sees it
listed and muted, and deletes both; a read-only user is offered neither page nor the button."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e.actions import search_for, sign_in
from e2e.corpus import READER_EMAIL, READER_PASSWORD, Seeded
from receivers import HttpReceiver, http_receiver

CHANNEL = "e2e hook"
ALERT = "e2e declined payments"


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    """A webhook receiver on 127.0.0.1 (the e2e node allows loopback in alerts_outbound_allow)."""
    with http_receiver() as found:
        yield found


@pytest.fixture
def no_leftovers(seeded: Seeded) -> Iterator[None]:
    """The e2e server is shared: what this test leaves is deleted."""
    yield
    auth = (seeded.server.service_key, "")
    for kind in ("alerts", "channels"):
        for item in httpx.get(f"{seeded.server.url}/api/v1/{kind}", auth=auth, timeout=30).json()[kind]:
            if item["name"].startswith("e2e"):
                httpx.delete(f"{seeded.server.url}/api/v1/{kind}/{item['id']}", auth=auth, timeout=30)


def open_settings(page: Page, name: str) -> None:
    page.get_by_role("banner").get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()


def test_an_owner_adds_a_channel_and_alerts_on_a_view(page: Page, seeded: Seeded, receiver: HttpReceiver, no_leftovers: None) -> None:
    sign_in(page, seeded)
    open_settings(page, "Channels")
    page.get_by_role("button", name="Add channel").click()
    form = page.get_by_role("form", name="New channel")
    form.get_by_label("Name").fill(CHANNEL)
    form.get_by_label("URL").fill("http://169.254.169.254/latest")
    form.get_by_role("button", name="Add").click()
    expect(form.get_by_role("alert")).to_contain_text("169.254.169.254")  # link-local: refused by default

    form.get_by_label("URL").fill(receiver.url)
    form.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status").filter(has_text=f"Channel {CHANNEL} added.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=CHANNEL)
    row.get_by_role("button", name="Send test").click()
    expect(page.get_by_role("status").filter(has_text=f"Test sent to {CHANNEL}")).to_be_visible()
    assert len(receiver.received) == 1

    page.get_by_role("banner").get_by_role("link", name="Viewer", exact=True).click()
    search_for(page, "declined")
    page.get_by_role("button", name="Alert on this view").click()
    form = page.get_by_role("form", name="New alert")
    expect(form.get_by_label("Query")).to_have_value("declined")
    form.get_by_label("Name").fill(ALERT)
    form.get_by_label("Lines (threshold)").fill("5")
    form.get_by_label(f"{CHANNEL} (webhook)").check()
    form.get_by_role("button", name="Add").click()

    expect(page.get_by_role("status").filter(has_text=f"Alert {ALERT} added.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text=ALERT)
    expect(row).to_contain_text("at least 5 lines in 5m")
    expect(row).to_contain_text(CHANNEL)
    row.get_by_role("button", name="Mute").click()
    expect(row).to_contain_text("muted")
    row.get_by_role("button", name="Delete").click()
    row.get_by_role("button", name="Confirm delete").click()
    expect(page.get_by_role("status").filter(has_text=f"Alert {ALERT} deleted.")).to_be_visible()


def test_a_reader_is_offered_no_alerting(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded, READER_EMAIL, READER_PASSWORD)
    expect(page.get_by_role("searchbox", name="Search")).to_be_visible()
    expect(page.get_by_role("button", name="Alert on this view")).to_have_count(0)
    page.get_by_role("banner").get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("navigation", name="Settings")).to_be_visible()
    expect(page.get_by_role("link", name="Alerts", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Channels", exact=True)).to_have_count(0)
