"""The Insights page: lines of a new kind sent to the real node show up as a new template with
its counts and sparkline, its row leads to the viewer showing exactly those lines, and the
anomalies section lists what the node's detectors found without an error. The command line
answers the same question."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

from e2e.actions import log_lines, sign_in
from e2e.corpus import Seeded
from servers import run_cli

APP = f"canary-{uuid.uuid4().hex[:6]}"
TEXT = "canary rollout finished for shard <*>"
LINES = 12


def send_canary_lines(seeded: Seeded) -> None:
    server = seeded.server
    before = server.metric("timberyard_store_lines_total")
    lines = [{"line": f"canary rollout finished for shard {n}", "app": APP, "level": "INFO"} for n in range(LINES)]
    response = server.ingest(lines, params={"hostname": "deploy-1"})
    assert response.status_code == 200, response.text
    server.wait_stored(before + LINES)


def insights_cli(seeded: Seeded) -> dict[str, Any]:
    server = seeded.server
    done = run_cli("insights", "templates", "--server", server.url, "--key", server.service_key, "--since", "2h", "--json")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_a_new_kind_of_line_is_a_new_template_whose_row_leads_to_its_lines(page: Page, seeded: Seeded) -> None:
    send_canary_lines(seeded)
    [item] = [item for item in insights_cli(seeded)["new"] if item["app"] == APP]
    assert (item["text"], item["lines"], item["levels"]) == (TEXT, LINES, {"INFO": LINES})

    sign_in(page, seeded)
    page.get_by_role("banner").get_by_role("link", name="Insights", exact=True).click()
    expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    anomalies = page.get_by_role("region", name="Anomalies")
    expect(anomalies).to_contain_text(re.compile("No anomalies in this window|Evidence"))
    expect(anomalies.get_by_role("alert")).to_have_text("")

    row = page.get_by_role("table", name="New templates").get_by_role("row").filter(has_text=APP)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(TEXT)
    expect(row.get_by_role("cell").nth(3)).to_have_text(str(LINES))
    spark = row.get_by_role("img")
    expect(spark).to_have_attribute("aria-label", re.compile(rf"highest {LINES},"))
    assert spark.locator("polyline").get_attribute("points")

    page.get_by_role("combobox", name="Window").select_option("1h")
    expect(page).to_have_url(re.compile(r"#/insights\?window=1h$"))
    row = page.get_by_role("table", name="New templates").get_by_role("row").filter(has_text=APP)
    row.get_by_role("link", name=TEXT).click()
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(f"template:{item['id']}")
    expect(log_lines(page)).to_have_count(LINES)
    expect(log_lines(page).first).to_contain_text("canary rollout finished for shard")
