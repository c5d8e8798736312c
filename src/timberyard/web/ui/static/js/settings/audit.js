// Settings → Audit: search the account's audit trail (the same query language as logs, over
// actor, action, target, query, outcome and address) in a time range, page back through it,
// and open the compliance report for the same range as HTML or CSV.

import { api } from "../api.js";
import { h, clear } from "../dom.js";
import { alertBox, field, formatTime } from "./common.js";

const PAGE_SIZE = 50;

function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function reportUrl(format, span) {
  return `/api/v1/audit/report?${new URLSearchParams({ format, from: span.from, to: span.to })}`;
}

function entryRow(entry) {
  const what = [entry.target, entry.query ? `query: ${entry.query}` : null].filter(Boolean).join(" — ");
  return h("tr", { "data-id": String(entry.id), class: `outcome-${entry.outcome}` },
    h("td", {}, formatTime(entry.at)),
    h("td", {}, entry.actor_name || entry.actor_type),
    h("td", {}, entry.action),
    h("td", {}, what || "—"),
    h("td", {}, entry.ip || "—"),
    h("td", {}, entry.outcome));
}

export function renderAudit(container) {
  const errors = alertBox();
  const query = h("input", { type: "search", name: "q", autocomplete: "off", spellcheck: "false", placeholder: "action:login.failure" });
  const range = h("input", { type: "text", name: "range", value: "last 7 days", autocomplete: "off" });
  const shownRange = h("p", { class: "muted" });
  const htmlReport = h("a", { target: "_blank", rel: "noopener" }, "Report (HTML, new tab)");
  const csvReport = h("a", { download: "timberyard-audit.csv" }, "Report (CSV download)");
  const reports = h("p", { hidden: true }, htmlReport, " · ", csvReport);
  const body = h("tbody", {});
  const more = h("button", { type: "button", hidden: true, onClick: () => page() }, "Next page");
  const tableElement = h("table", { hidden: true },
    h("caption", { class: "muted" }, "Audit entries, newest first"),
    h("thead", {}, h("tr", {}, ["Time", "Actor", "Action", "Target / query", "IP", "Outcome"].map((t) => h("th", { scope: "col" }, t)))),
    body);
  const empty = h("p", { hidden: true }, "No entries match.");
  let search = null; // {q, from, to, cursor} of the search on screen

  async function run(event) {
    if (event) event.preventDefault();
    errors.clear();
    try {
      const span = await api("GET", "/api/v1/timerange", { params: { q: range.value, tz: browserZone() } });
      search = { q: query.value.trim(), from: span.from, to: span.to, cursor: null };
      shownRange.textContent = `From ${formatTime(span.from)} to ${formatTime(span.to)}.`;
      htmlReport.href = reportUrl("html", span);
      csvReport.href = reportUrl("csv", span);
      reports.hidden = false;
      clear(body);
      tableElement.hidden = empty.hidden = more.hidden = true; // until this search's first page is in
      await page();
    } catch (err) {
      errors.show(err);
    }
  }

  async function page() {
    errors.clear();
    more.disabled = true;
    try {
      const params = { q: search.q, from: search.from, to: search.to, limit: PAGE_SIZE };
      if (search.cursor) params.cursor = search.cursor;
      const answer = await api("GET", "/api/v1/audit", { params });
      body.append(...answer.entries.map(entryRow));
      search.cursor = answer.next_cursor;
      more.hidden = !answer.next_cursor;
      tableElement.hidden = body.children.length === 0;
      empty.hidden = body.children.length !== 0;
    } catch (err) {
      errors.show(err);
    } finally {
      more.disabled = false;
    }
  }

  clear(container,
    h("form", { class: "audit-search", onSubmit: run },
      field("Audit search", query),
      field("Audit time range", range),
      h("button", { type: "submit", class: "primary" }, "Search")),
    errors.element, shownRange, reports, empty, tableElement, more);
  run();
}
