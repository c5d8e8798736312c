// Small pieces every settings page uses: labelled fields, times, error text, a two-step
// confirmation, and the box that shows a new key's secret once.

import { ApiError } from "../api.js";
import { h, clear } from "../dom.js";

let lastId = 0;

/** A fresh element id, so each label points at its own input however often a page renders. */
export function uid(prefix) {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

/** A labelled control: `<div class="field"><label for=id>label</label>control</div>`. */
export function field(label, control) {
  if (!control.id) control.id = uid("field");
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control);
}

/** A labelled checkbox: { input, element }. */
export function checkbox(label, checked, attrs = {}) {
  const input = h("input", { type: "checkbox", id: uid("check"), checked: Boolean(checked), ...attrs });
  return { input, element: h("div", { class: "check" }, input, " ", h("label", { for: input.id }, label)) };
}

/** A <select> of [value, text] pairs (or plain values) with `selected` chosen. */
export function select(options, selected, attrs = {}) {
  return h("select", attrs, options.map((option) => {
    const [value, text] = Array.isArray(option) ? option : [option, option];
    return h("option", { value, selected: value === selected }, text);
  }));
}

/** A timestamp (ISO text or epoch ms) as local "YYYY-MM-DD HH:MM:SS"; `empty` when absent. */
export function formatTime(value, empty = "never") {
  if (value === null || value === undefined || value === "") return empty;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** What to tell the user about a failed call: the server's message, and for a query where
 * it went wrong ("at character N", counted from 1) and how to fix it. */
function errorMessage(err) {
  if (!(err instanceof ApiError)) return `Something went wrong: ${err && err.message ? err.message : err}`;
  let text = err.message;
  if (Number.isInteger(err.position)) text += ` (at character ${err.position + 1})`;
  if (err.hint) text += `; ${err.hint}`;
  return text;
}

/** An element with role=alert that shows errors (empty when there is none). */
export function alertBox() {
  const box = h("div", { class: "form-error", role: "alert" });
  return {
    element: box,
    show(err) { box.textContent = typeof err === "string" ? err : errorMessage(err); },
    clear() { box.textContent = ""; },
  };
}

/** An element with role=status for confirmations ("Role changed."). */
export function statusBox() {
  const box = h("p", { class: "muted", role: "status" });
  return { element: box, say(text) { box.textContent = text; } };
}

/**
 * A button that asks before acting: the first press shows `question` with
 * "Confirm <verb>" and "Cancel" in its place; Cancel (or Escape) puts the button back.
 */
export function confirmButton(label, question, verb, action) {
  const holder = h("span", { class: "confirm" });
  const button = h("button", { type: "button", class: "danger", onClick: ask }, label);

  function reset(focus) {
    clear(holder, button);
    if (focus) button.focus();
  }

  function ask() {
    const yes = h("button", { type: "button", class: "danger", onClick: async () => {
      yes.disabled = true;
      try {
        await action();
      } finally {
        if (holder.isConnected) reset(false);
      }
    } }, `Confirm ${verb}`);
    const no = h("button", { type: "button", onClick: () => reset(true) }, "Cancel");
    clear(holder, h("span", {}, question, " "), yes, " ", no);
    yes.focus();
  }

  holder.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !holder.contains(button)) reset(true);
  });
  reset(false);
  return holder;
}

/**
 * The new secret, shown once, with a Copy button. The box has role=status so screen readers
 * announce it.
 */
export function secretBox(title, secret) {
  const code = h("code", { class: "secret" }, secret);
  const copied = h("span", { class: "muted" });
  const copy = h("button", { type: "button", onClick: async () => {
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = " Copied.";
    } catch {
      window.getSelection().selectAllChildren(code); // no clipboard access: select it for Ctrl+C
      copied.textContent = " Selected: press Ctrl+C to copy.";
    }
  } }, "Copy");
  return h("div", { class: "notice", role: "status" },
    h("p", {}, title, " It is shown only this once: store it now."),
    code,
    h("p", {}, copy, copied));
}

/** A table with a header row; each row is a <tr> or an array of cells (nodes or text). */
export function table(caption, headings, rows) {
  return h("table", {},
    h("caption", { class: "muted" }, caption),
    h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, rows.map((row) => (row instanceof Node ? row : h("tr", {}, row.map((cell) => h("td", {}, cell)))))));
}
