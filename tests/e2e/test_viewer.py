"""The log viewer: search, errors, timeline zoom, line detail and context, views, live tail (the
lines, their count and the timeline), hostile content, a phone-sized screen and the keyboard."""

from __future__ import annotations

import re
import time
import uuid

import httpx
from playwright.sync_api import Locator, Page, expect

from e2e.actions import log_lines, search_for, shown_ids, sign_in
from e2e.corpus import HOSTILE_APP, HOSTILE_HOST, HOSTILE_LINES, Seeded
from e2e.problems import PageProblems

MINUTE_MS = 60_000


def declined_ids(seeded: Seeded) -> set[str]:
    return {line_id for line_id, line in seeded.lines.items() if "payment declined" in line["line"]}


def show_declined(page: Page, seeded: Seeded) -> None:
    """Search the last 24 hours (all seeded lines) for the payment-declined lines."""
    page.get_by_role("button", name="24h", exact=True).click()
    search_for(page, "declined")
    expect(log_lines(page)).to_have_count(len(declined_ids(seeded)))


def test_a_search_shows_only_the_matching_lines_with_the_terms_marked(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    show_declined(page, seeded)
    assert set(shown_ids(page)) == declined_ids(seeded)
    marks = page.get_by_role("log", name="Log lines").locator("mark")
    expect(marks).to_have_count(len(declined_ids(seeded)))
    assert {text.lower() for text in marks.all_inner_texts()} == {"declined"}


def test_a_syntax_error_is_shown_with_its_position_and_hint(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    search_for(page, "error AND (timeout")
    alert = page.get_by_role("alert").filter(has_text="never closed")
    expect(alert).to_contain_text("at character 11")  # 1-based, like the CLI: the "(" is the 11th character
    expect(alert).to_contain_text("add a ')'")


def test_dragging_across_the_timeline_zooms_into_that_span(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    page.get_by_role("button", name="1h", exact=True).click()
    expect(log_lines(page).first).to_be_visible()
    time_range = page.get_by_label("Time range")
    before = time_range.input_value()
    box = page.locator('canvas[aria-label="Timeline"]').bounding_box()
    assert box is not None
    now_ms = int(time.time() * 1000)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.4, y, steps=10)
    page.mouse.up()

    # The drag covers roughly 54 to 36 minutes ago; allow for axis margins in the drawing.
    expect(time_range).not_to_have_value(before)
    shown = httpx.get(
        seeded.server.url + "/api/v1/timerange",
        params={"q": time_range.input_value(), "tz": page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")},
        auth=(seeded.server.service_key, ""),
        timeout=30,
    )
    assert shown.status_code == 200, f"the range the UI shows cannot be read back: {shown.text}"
    assert now_ms - 62 * MINUTE_MS <= shown.json()["from"] < shown.json()["to"] <= now_ms - 28 * MINUTE_MS, shown.json()
    allowed = [i for i, line in seeded.lines.items() if now_ms - 62 * MINUTE_MS <= line["ts"] <= now_ms - 30 * MINUTE_MS]
    page.wait_for_function(
        """(allowed) => {
            const ids = [...document.querySelectorAll('[role="log"][aria-label="Log lines"] .line[data-id]')].map((line) => line.dataset.id);
            return ids.length > 0 && ids.every((id) => allowed.includes(id));
        }""",
        arg=allowed,
    )


def test_a_line_opens_its_detail_and_its_context(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    show_declined(page, seeded)
    first = log_lines(page).first
    line = seeded.lines[first.get_attribute("data-id") or ""]
    first.click()

    detail = page.get_by_role("dialog", name="Line detail")
    for value in (line["host"], line["app"], line["level"], "user.id", line["fields"]["user"]["id"], "status", "402"):
        expect(detail).to_contain_text(value)
    expect(detail.get_by_role("button", name="Filter on user.id")).to_be_visible()
    for name in ("Copy raw", "Copy JSON", "Close"):
        expect(detail.get_by_role("button", name=name, exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()

    first.click()
    detail.get_by_role("button", name="View in context").click()
    scope = page.get_by_label("Context scope")
    expect(scope).to_be_visible()
    around = httpx.get(
        seeded.server.url + "/api/v1/context",
        params={"id": line["id"], "scope": scope.input_value(), "before": 1, "after": 1},
        auth=(seeded.server.service_key, ""),
        timeout=30,
    ).json()
    neighbours = [*around["before"], *around["after"]]
    assert neighbours, "the seeded data gives every declined line a neighbour"
    for neighbour in neighbours:  # not declined lines, so only the context view can show them
        expect(page.get_by_text(neighbour["line"], exact=False).first).to_be_visible()


def test_filtering_on_a_detail_field_adds_it_to_the_search(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    show_declined(page, seeded)
    first = log_lines(page).first
    line = seeded.lines[first.get_attribute("data-id") or ""]
    first.click()
    page.get_by_role("dialog", name="Line detail").get_by_role("button", name="Filter on user.id").click()
    user = line["fields"]["user"]["id"]
    expect(page.get_by_role("searchbox", name="Search")).to_have_value(re.compile(rf'user\.id:"{user}"'))
    expect(log_lines(page)).to_have_count(1)
    assert shown_ids(page) == [line["id"]]


def test_sidebar_filters_or_within_a_section_and_across_sections(page: Page, seeded: Seeded) -> None:
    def box(label: str) -> Locator:
        return page.get_by_role("complementary", name="Filters").get_by_role("checkbox", name=re.compile(rf"^{label}$"))

    def count(**equal: str) -> int:
        return len(seeded.ids_where(**equal))

    # Paced like a person: each tick waits for the counts it changes (small results on purpose:
    # the list may render only the lines in view).
    sign_in(page, seeded)
    page.get_by_role("button", name="24h", exact=True).click()
    box(r"billing \(\d+\)").check()
    box(r"ERROR \(\d+\)").check()
    expect(log_lines(page)).to_have_count(count(app="billing", level="ERROR"))
    expect(box(rf"web-1 \({count(app='billing', level='ERROR', host='web-1')}\)")).to_be_visible()
    box(r"web-1 \(\d+\)").check()
    expect(log_lines(page)).to_have_count(count(app="billing", level="ERROR", host="web-1"))
    expect(box(rf"ERROR \({count(app='billing', level='ERROR', host='web-1')}\)")).to_be_checked()
    box(r"web-2 \(\d+\)").check()
    expected = seeded.ids_where(app="billing", level="ERROR", host="web-1") | seeded.ids_where(app="billing", level="ERROR", host="web-2")
    expect(log_lines(page)).to_have_count(len(expected))
    assert set(shown_ids(page)) == expected


def test_a_saved_view_reopens_from_its_link(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    show_declined(page, seeded)
    page.get_by_role("button", name="Save view").click()
    dialog = page.get_by_role("dialog", name="Save view")
    dialog.get_by_label("Name").fill("Declined payments")
    dialog.get_by_label("Category").fill("Billing")
    dialog.get_by_role("button", name="Save", exact=True).click()

    link = page.get_by_role("link", name="Declined payments", exact=True)
    expect(link).to_be_visible()
    href = link.get_attribute("href") or ""
    assert re.fullmatch(r"/\?view=[\w-]+", href), href
    stored = httpx.get(seeded.server.url + "/api/v1/views", auth=(seeded.server.service_key, ""), timeout=30).json()
    assert [(v["name"], v["category"], v["query"]) for v in stored["views"]] == [("Declined payments", "Billing", "declined")]

    reopened = page.context.new_page()
    reopened.goto(seeded.server.url + href)
    expect(reopened.get_by_role("searchbox", name="Search")).to_have_value("declined")
    expect(log_lines(reopened)).to_have_count(len(declined_ids(seeded)))
    assert set(shown_ids(reopened)) == declined_ids(seeded)


def test_live_tail_shows_a_line_within_two_seconds_of_its_ingestion(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    live = page.get_by_role("button", name="Live", exact=True)
    live.click()
    expect(live).to_have_attribute("aria-pressed", "true")
    run = uuid.uuid4().hex[:8]
    log = page.get_by_role("log", name="Log lines")
    # Lines until one shows up prove the tail is connected; only then is the clock fair.
    for attempt in range(15):
        assert seeded.server.ingest([{"line": f"warm-up {run} {attempt}", "app": "e2e-live"}]).status_code == 200
        try:
            expect(log).to_contain_text(f"warm-up {run}", timeout=1000)
            break
        except AssertionError:
            continue
    else:
        raise AssertionError("no ingested line reached the live tail in 15 s")

    token = f"live-{run}"
    started = time.monotonic()
    assert seeded.server.ingest([{"line": f"{token} arrived while watching", "app": "e2e-live"}]).status_code == 200
    expect(log_lines(page).filter(has_text=token)).to_have_count(1, timeout=2000 - (time.monotonic() - started) * 1000)
    assert time.monotonic() - started <= 2.0


def test_hostile_lines_are_shown_as_inert_visible_text(page: Page, seeded: Seeded, problems: PageProblems) -> None:
    sign_in(page, seeded)
    page.get_by_role("button", name="1h", exact=True).click()
    search_for(page, f"app:{HOSTILE_APP}")
    expect(log_lines(page)).to_have_count(len(HOSTILE_LINES))
    log = page.get_by_role("log", name="Log lines")
    expect(log).to_contain_text("<script>alert(1)</script> injected by a client")
    expect(log).to_contain_text("␛[31mred alert␛[0m coloured by a terminal")
    expect(log).to_contain_text("first half␍")
    expect(log).to_contain_text("second half after CR LF")
    expect(log).to_contain_text(HOSTILE_HOST)
    expect(page.get_by_role("complementary", name="Filters")).to_contain_text(f"{HOSTILE_HOST} (3)")

    log_lines(page).filter(has_text="<script>").click()
    detail = page.get_by_role("dialog", name="Line detail")
    expect(detail).to_contain_text("<script>alert(1)</script> injected by a client")
    expect(detail).to_contain_text(HOSTILE_HOST)
    # Markup in the data never became elements, anywhere on the page.
    assert page.locator("script:not([src])").count() == 0
    assert page.locator("b").filter(has_text=re.compile(r"^evil$")).count() == 0
    assert problems.dialogs == []


def test_a_phone_sized_screen_shows_search_and_lines_without_sideways_scrolling(page: Page, seeded: Seeded) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, seeded)
    expect(page.get_by_role("searchbox", name="Search")).to_be_in_viewport()
    expect(log_lines(page).first).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a 390px screen"


def test_slash_focuses_the_search_box(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    expect(log_lines(page).first).to_be_visible()
    search = page.get_by_role("searchbox", name="Search")
    search.blur()
    expect(search).not_to_be_focused()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")  # the key focuses, it does not type


def test_l_toggles_live_tail_except_while_typing(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    live = page.get_by_role("button", name="Live", exact=True)
    expect(live).to_have_attribute("aria-pressed", "false")
    search = page.get_by_role("searchbox", name="Search")
    search.press("l")
    expect(search).to_have_value("l")
    expect(live).to_have_attribute("aria-pressed", "false")
    search.fill("")
    search.blur()
    page.keyboard.press("l")
    expect(live).to_have_attribute("aria-pressed", "true")


def test_escape_leaves_the_search_box_so_the_keys_work_without_the_mouse(page: Page, seeded: Seeded) -> None:
    sign_in(page, seeded)
    expect(log_lines(page).first).to_be_visible()
    search = page.get_by_role("searchbox", name="Search")
    live = page.get_by_role("button", name="Live", exact=True)
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.keyboard.type("payment")
    page.keyboard.press("Escape")
    expect(search).not_to_be_focused()
    expect(search).to_have_value("payment")  # left, not cleared
    page.keyboard.press("l")
    expect(live).to_have_attribute("aria-pressed", "true")
    expect(search).to_have_value("payment")
    page.keyboard.press("l")
    expect(live).to_have_attribute("aria-pressed", "false")
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.keyboard.press("End")
    page.keyboard.type(" declined")
    page.keyboard.press("Enter")
    expect(log_lines(page)).to_have_count(len(declined_ids(seeded)))


def test_live_lines_move_the_line_count_and_the_timeline(page: Page, seeded: Seeded) -> None:
    """The count under the toolbar and the timeline follow each line as it streams in, not the
    next time the page asks the server (the timeline does that only every ten seconds)."""
    app = f"e2e-follow-{uuid.uuid4().hex[:8]}"
    sign_in(page, seeded)
    search_for(page, f"app:{app}")
    status = page.locator(".status-text")
    summary = page.locator("#timeline-summary")
    expect(status).to_have_text("0 lines, newest at the bottom.")
    expect(summary).to_contain_text(re.compile(r"^0 lines from "))
    live = page.get_by_role("button", name="Live", exact=True)
    live.click()
    expect(page.get_by_role("status").filter(has_text="Following new lines.")).to_be_visible()
    started = time.monotonic()
    shown = 0
    for count in (1, 3, 6):
        sent = [{"line": f"follow {count} {n}", "app": app, "level": "ERROR" if n % 2 else "INFO"} for n in range(count - shown)]
        assert seeded.server.ingest(sent).status_code == 200
        expect(log_lines(page)).to_have_count(count)
        expect(status).to_have_text(f"{count} line{'s' if count > 1 else ''}, newest at the bottom.")
        # The timeline's text alternative, written from the counts its bars are drawn from.
        expect(summary).to_contain_text(re.compile(rf"^{count} lines from "))
        shown = count
    assert time.monotonic() - started < 10, "counted by the periodic refresh, not as the lines came"
