// The line detail dialog: every field of a line (built-in, Kubernetes, labels, and meta flattened
// to dot paths), copy as raw text or JSON, the lines around it ("View in context"), and a
// "Filter on <path>" button per value that adds `path:"value"` to the search.

import { api, ApiError } from "../api.js";
import { h, clear, visible } from "../dom.js";
import { openDialog } from "./dialog.js";
import { formatTime } from "./format.js";
import { lineRow, markedText } from "./linelist.js";
import { fieldFilter } from "./query.js";

const BUILT_IN = ["host", "app", "level", "file", "env"];
const KUBERNETES = ["namespace", "pod", "container", "node"];
// Meta keys that a query would read as built-in fields need the "meta." prefix.
const RESERVED = new Set([...BUILT_IN, ...KUBERNETES, "source", "tag", "label"]);

/** [path, value] pairs of a meta object, nested objects flattened with dots. */
export function flatten(value, prefix = "") {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [[prefix, value]];
  const entries = Object.entries(value);
  if (!entries.length) return prefix ? [[prefix, value]] : [];
  return entries.flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
}

function metaPath(path) {
  return RESERVED.has(path.split(".")[0]) ? `meta.${path}` : path;
}

/** Every row the dialog lists: {path, value (text), filter (query clause or null)}. */
export function detailRows(line) {
  const rows = [{ path: "time", value: `${formatTime(line.ts, true)} (${line.ts})`, filter: null }];
  for (const key of BUILT_IN) {
    const value = line[key] ?? "";
    rows.push({ path: key, value, filter: value ? fieldFilter(key, value) : null });
  }
  for (const tag of line.tags || []) rows.push({ path: "tag", value: tag, filter: fieldFilter("tag", tag) });
  for (const key of KUBERNETES) {
    if (line[key]) rows.push({ path: key, value: line[key], filter: fieldFilter(key, line[key]) });
  }
  for (const [name, value] of Object.entries(line.labels || {})) {
    rows.push({ path: `label.${name}`, value, filter: fieldFilter(`label.${name}`, value) });
  }
  for (const [path, value] of flatten(line.fields || {})) {
    const scalar = value === null || typeof value !== "object";
    const text = typeof value === "string" ? value : JSON.stringify(value);
    const shownPath = metaPath(path);
    const filterable = scalar && value !== null && value !== "";
    rows.push({ path: shownPath, value: text, filter: filterable ? fieldFilter(shownPath, String(value)) : null });
  }
  rows.push({ path: "id", value: line.id, filter: null });
  return rows;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No clipboard permission (or an insecure origin): copy through a selected textarea.
    const area = h("textarea", { class: "visually-hidden", "aria-hidden": "true" });
    area.value = text;
    document.body.appendChild(area);
    area.select();
    const done = document.execCommand("copy");
    area.remove();
    return done;
  }
}

/** Open the dialog for `line`; onFilter(clause) adds a clause to the search and closes it. */
export function openDetail(line, { terms, onFilter, onClose }) {
  const status = h("span", { class: "copy-status", role: "status" });
  const copy = (label, text) => h("button", { type: "button", onClick: async () => {
    status.textContent = (await copyText(text)) ? `${label} copied.` : "Copying is not allowed here; select the text instead.";
  } }, `Copy ${label}`);

  const table = h("table", { class: "detail-fields" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Value"), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
    h("tbody", {}, detailRows(line).map(({ path, value, filter }) => h("tr", {},
      h("td", {}, path),
      h("td", {}, visible(value)),
      h("td", {}, filter ? h("button", { type: "button", class: "link", onClick: () => {
        dialog.close();
        onFilter(filter);
      } }, `Filter on ${path}`) : null)))));

  const context = new ContextView(line, terms);
  const dialog = openDialog("Line detail", [
    h("pre", { class: "detail-raw" }, markedText(line.line, terms)),
    h("div", { class: "dialog-actions" },
      copy("raw", line.line),
      copy("JSON", JSON.stringify(line, null, 2)),
      h("button", { type: "button", onClick: () => context.show() }, "View in context"),
      status,
      h("span", { class: "spacer" }),
      h("button", { type: "button", onClick: () => dialog.close() }, "Close")),
    context.element,
    table,
  ], { className: "detail-dialog", onClose });
  return dialog;
}

/** The lines just before and after one line, from the same host, app or both. */
class ContextView {
  constructor(line, terms) {
    this.line = line;
    this.terms = terms;
    this.scope = h("select", { id: "context-scope", onChange: () => this.load() },
      h("option", { value: "host" }, "same host"),
      h("option", { value: "app" }, "same app"),
      h("option", { value: "both" }, "same host and app"));
    this.list = h("div", { class: "context-lines", role: "list", "aria-label": "Lines in context" });
    this.message = h("p", { class: "muted", role: "status" });
    this.element = h("section", { class: "context", hidden: true, "aria-label": "Context" },
      h("div", { class: "dialog-actions" }, h("label", { for: "context-scope" }, "Context scope"), this.scope),
      this.message, this.list);
  }

  show() {
    this.element.hidden = false;
    this.load();
    this.scope.focus();
  }

  async load() {
    this.message.textContent = "Loading…";
    let answer;
    try {
      answer = await api("GET", "/api/v1/context", {
        params: { id: this.line.id, before: 20, after: 20, scope: this.scope.value },
      });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.message.textContent = err.message;
      return;
    }
    const rows = [
      ...answer.before.map((l) => lineRow(l, this.terms)),
      lineRow(answer.line, this.terms, { extraClass: "current" }),
      ...answer.after.map((l) => lineRow(l, this.terms)),
    ];
    for (const row of rows) row.setAttribute("role", "listitem");
    clear(this.list, ...rows);
    this.message.textContent = `${answer.before.length} before, ${answer.after.length} after, ${this.scope.selectedOptions[0].textContent}.`;
    const current = this.list.querySelector(".current");
    if (current) this.list.scrollTop = current.offsetTop - this.list.clientHeight / 2;
  }
}
