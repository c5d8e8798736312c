// Settings → Archive, "Search the archive": the query language over the account's archived
// files (GET /api/v1/archive/search), newest lines first, "Older lines" pages on with the
// answer's cursor; lines are rendered as the viewer renders them. Everyone who may read logs
// sees it (the server applies their group scope); only `archives.manage` holders get
// "Restore this range", which streams the restore's progress and ends with a link to the
// viewer over the restored range.

import { api, apiStream } from "../api.js";
import { h, clear } from "../dom.js";
import { searchUrl } from "../insights/links.js";
import { rangeText } from "../viewer/format.js";
import { lineRow } from "../viewer/linelist.js";
import { highlightTerms } from "../viewer/query.js";
import { resolveRange } from "../viewer/timepicker.js";
import { alertBox, confirmButton, field } from "./common.js";
import { progressText, restoreProgress, startProgress } from "./restore.js";

const PAGE_LINES = 100;

const counted = (n, noun) => `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;

export function renderArchiveSearch(container, me) {
  const mayRestore = (me.permissions || []).includes("archives.manage");
  const errors = alertBox();
  const query = h("input", { type: "search", autocomplete: "off", spellcheck: "false", placeholder: "error app:nginx" });
  const range = h("input", { type: "text", autocomplete: "off", spellcheck: "false", value: "last 7 days",
    placeholder: "last 7 days, 2026-11-02 to 2026-11-03" });
  const summary = h("p", { class: "muted", role: "status" });
  const list = h("div", { class: "context-lines archive-lines", role: "log", "aria-label": "Archived lines", hidden: true });
  const more = h("button", { type: "button", hidden: true, onClick: () => page() }, "Older lines");
  const restoreSlot = h("div", {});
  let current = null; // the search shown: {q, from, to, cursor, shown, files}

  async function page() {
    errors.clear();
    more.disabled = true;
    try {
      const params = current.cursor
        ? { q: current.q, cursor: current.cursor, limit: PAGE_LINES }
        : { q: current.q, from: current.from, to: current.to, limit: PAGE_LINES };
      const answer = await api("GET", "/api/v1/archive/search", { params });
      const terms = highlightTerms(current.q);
      for (const line of answer.lines) list.appendChild(lineRow(line, terms));
      current.shown += answer.lines.length;
      current.files = current.files ?? answer.files;
      current.cursor = answer.next_cursor;
      list.hidden = current.shown === 0;
      more.hidden = !current.cursor;
      summary.textContent = current.shown === 0
        ? `No archived lines match in ${rangeText(current.from, current.to)} (${counted(current.files, "archive file")}).`
        : `${counted(current.shown, "archived line")}, newest first, from ${counted(current.files, "archive file")}` +
          (current.cursor ? "; older lines follow." : ".");
    } catch (err) {
      errors.show(err);
    } finally {
      more.disabled = false;
    }
  }

  async function search(event) {
    event.preventDefault();
    errors.clear();
    clear(restoreSlot);
    let span;
    try {
      span = await resolveRange({ from: null, range: range.value.trim() || "last 7 days" });
    } catch (err) {
      errors.show(err);
      return;
    }
    current = { q: query.value.trim(), from: span.from, to: span.to, cursor: null, shown: 0, files: null };
    clear(list);
    list.hidden = true;
    more.hidden = true;
    summary.textContent = "Searching the archive…";
    await page();
    if (mayRestore && current.files !== null) clear(restoreSlot, restoreControl(current));
  }

  clear(container, h("section", { "aria-label": "Search the archive" },
    h("h2", {}, "Search the archive"),
    h("p", { class: "muted" }, "Searches the archived files where they lie, in the viewer's query language, without " +
      "putting the lines back into the store. A range may cover at most a month of files; each page of older lines " +
      "reads the files again from the last line shown."),
    h("form", { class: "rule-form", "aria-label": "Archive search", onSubmit: search },
      field("Query", query), field("Time range", range),
      h("div", { class: "rule-form-row" }, h("button", { type: "submit", class: "primary" }, "Search archive"))),
    errors.element, summary, list, more, restoreSlot));
  return null;
}

/** "Restore this range": after a confirmation (it may add millions of lines to the store),
 * puts every archived line of the searched range (not only the matches) back into the store,
 * showing the streamed progress, then links to the viewer over it. */
function restoreControl(span) {
  const errors = alertBox();
  const bar = h("progress", { max: "1", value: "0", "aria-label": "Restore progress", hidden: true });
  const said = h("p", { role: "status" });
  const after = h("p", {});
  const button = confirmButton("Restore this range",
    `Restore every archived line of ${rangeText(span.from, span.to)} into the store?`, "restore", run);

  async function run() {
    errors.clear();
    clear(after);
    let state = startProgress();
    const show = () => {
      bar.hidden = false;
      bar.max = Math.max(1, state.files);
      bar.value = state.filesDone;
      said.textContent = progressText(state);
    };
    try {
      await apiStream("POST", "/api/v1/archive/restore", { json: { from: span.from, to: span.to }, onEvent: (event) => {
        state = restoreProgress(state, event);
        show();
      } });
      if (state.error) errors.show(state.error);
      else if (state.finished) {
        clear(after, h("a", { href: searchUrl(span.q, span.from, span.to) }, "Open the restored range in the viewer"));
      } else errors.show("The restore's answer ended early; run it again to finish it (restored lines are not repeated).");
    } catch (err) {
      errors.show(err);
    }
  }

  return h("section", { class: "restore", "aria-label": "Restore" },
    h("h3", {}, "Restore"),
    h("p", { class: "muted" }, `Puts every archived line of ${rangeText(span.from, span.to)} back into the store (all of the ` +
      "range, not only the matches), as the source archive-restore. Lines the store still holds are skipped."),
    button, errors.element, bar, said, after);
}
