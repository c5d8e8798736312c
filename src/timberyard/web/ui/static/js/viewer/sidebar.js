// The "Filters" sidebar: top values of app, host, level and tag with their counts. Checked values
// join the query (OR within a section, AND across). Each section's counts leave its own checks
// out, so ticking "nginx" still shows how many lines the other apps have.

import { api, ApiError } from "../api.js";
import { h, clear, visible } from "../dom.js";
import { effectiveQuery } from "./query.js";

const SECTIONS = [
  { key: "apps", field: "app", title: "Apps" },
  { key: "hosts", field: "host", title: "Hosts" },
  { key: "levels", field: "level", title: "Levels" },
  { key: "tags", field: "tag", title: "Tags" },
];
const FACET_LIMIT = 30;
let idCounter = 0;

export class Sidebar {
  /** onToggle(key, value, checked) runs when a box is (un)ticked. */
  constructor({ onToggle }) {
    this.onToggle = onToggle;
    this.generation = 0;
    this.lists = new Map();
    this.sections = SECTIONS.map(({ key, title }) => {
      const list = h("div", { class: "facet-list" }, h("p", { class: "facet-empty" }, "…"));
      this.lists.set(key, list);
      return h("fieldset", { class: "side-section" }, h("legend", {}, h("h2", {}, title)), list);
    });
    this.extra = h("div", { class: "side-extra" });
    this.element = h("aside", { class: "viewer-side", id: "viewer-filters", "aria-label": "Filters" },
      ...this.sections, this.extra);
  }

  /** Drop the answers of loads in flight: the state they were asked for is gone. */
  invalidate() {
    this.generation++;
  }

  /** No counts can be had for the state (its search is unreadable): say so instead of old counts. */
  unavailable(reason) {
    this.invalidate();
    for (const list of this.lists.values()) clear(list, h("p", { class: "facet-empty" }, reason));
  }

  /** Fetch and show the counts for `state` over [from, to]; a newer call wins over an older one. */
  async load(state, from, to) {
    const generation = ++this.generation;
    await Promise.all(SECTIONS.map(async ({ key, field }) => {
      let values;
      try {
        const answer = await api("GET", "/api/v1/facets", {
          params: { field, q: effectiveQuery(state, key).text, from, to, limit: FACET_LIMIT },
        });
        values = answer.values;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (generation === this.generation) clear(this.lists.get(key), h("p", { class: "facet-empty" }, err.message));
        return;
      }
      if (generation === this.generation) this.showSection(key, values, state[key] || []);
    }));
  }

  showSection(key, values, checked) {
    const counts = new Map(values.map((v) => [v.value, v.count]));
    // Ticked values stay listed even when they fell out of the top ones.
    for (const value of checked) if (!counts.has(value)) counts.set(value, 0);
    const list = this.lists.get(key);
    if (!counts.size) {
      clear(list, h("p", { class: "facet-empty" }, "No values in this range."));
      return;
    }
    const chosen = new Set(checked);
    clear(list, ...[...counts].map(([value, count]) => {
      const id = `facet-${++idCounter}`;
      const box = h("input", { type: "checkbox", id, checked: chosen.has(value), value,
        onChange: () => this.onToggle(key, value, box.checked) });
      return h("div", { class: "facet" }, box, h("label", { for: id }, `${visible(value)} (${count})`));
    }));
  }
}
