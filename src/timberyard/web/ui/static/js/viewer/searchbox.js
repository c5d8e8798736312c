// The search box: query-language text, applied with Enter; Escape leaves it. A syntax error is
// shown beside it (role alert) with its 1-based position and the parser's hint; the results stay
// as they were.

import { h, clear } from "../dom.js";

export class SearchBox {
  /** onSearch(q) runs when the user submits the box. */
  constructor({ onSearch }) {
    this.input = h("input", {
      type: "search", "aria-label": "Search", name: "q", autocomplete: "off", spellcheck: "false",
      placeholder: "Search, e.g. error app:nginx status:>=500   ( / )",
    });
    // Escape leaves the box (keeping its text; a search input would otherwise clear it), so the
    // page's keys ("/", "l") work again without reaching for the mouse.
    this.input.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || event.isComposing) return;
      event.preventDefault();
      this.input.blur();
    });
    this.alert = h("div", { class: "search-error", role: "alert" });
    this.element = h("form", { class: "search-box", role: "search", onSubmit: (event) => {
      event.preventDefault();
      onSearch(this.input.value);
    } }, this.input, this.alert);
  }

  get value() {
    return this.input.value;
  }

  set value(text) {
    this.input.value = text;
  }

  focus() {
    this.input.focus();
    this.input.select();
  }

  clearError() {
    clear(this.alert);
    this.input.removeAttribute("aria-invalid");
  }

  /**
   * Show a QuerySyntaxError. `offset` is where the user's text starts in the query that was
   * sent (filters come first), so the position shown is within what the user typed.
   */
  showError(error, offset = 0) {
    const text = this.input.value;
    this.input.setAttribute("aria-invalid", "true");
    if (typeof error.position !== "number") {
      clear(this.alert, error.message);
      return;
    }
    const at = Math.max(0, Math.min(text.length, error.position - offset));
    clear(this.alert,
      h("span", {}, `${error.message} at character ${at + 1}`),
      error.hint ? h("span", {}, ` — ${error.hint}`) : null,
      h("code", { class: "search-caret", "aria-hidden": "true" }, `${text}\n${" ".repeat(at)}^`));
  }
}
