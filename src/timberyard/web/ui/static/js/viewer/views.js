// Saved views: the current query, filters and time range under a name and category, shared in
// the account. The "Views" sidebar section lists them as links (/?view=ID, the shareable URL)
// with Rename and Delete; "Save view" stores the viewer's state.

import { api, ApiError } from "../api.js";
import { h, clear } from "../dom.js";
import { openDialog } from "./dialog.js";
import { isoRange } from "./format.js";

/** The body of POST /api/v1/views for a viewer state. */
export function viewBody(state) {
  const absolute = state.from !== null && state.from !== undefined;
  return {
    query: state.q || "",
    filters: { apps: state.apps, hosts: state.hosts, levels: state.levels, tags: state.tags },
    range: absolute ? isoRange(state.from, state.to ?? Date.now()) : state.range || "",
  };
}

/** The viewer state a saved view stands for. */
export function viewState(view) {
  const filters = view.filters || {};
  return {
    q: view.query || "", from: null, to: null, range: view.range || "1h",
    apps: filters.apps || [], hosts: filters.hosts || [], levels: filters.levels || [], tags: filters.tags || [],
    view: view.id,
  };
}

function field(id, label, attrs = {}) {
  const input = h("input", { id, type: "text", name: id, autocomplete: "off", ...attrs });
  return [input, h("div", { class: "field" }, h("label", { for: id }, label), input)];
}

export class SavedViews {
  /** onOpen(id) opens a view in the viewer; canManage allows saving, renaming, deleting. */
  constructor({ onOpen, canManage, trackDialog }) {
    this.onOpen = onOpen;
    this.canManage = canManage;
    this.trackDialog = trackDialog;
    this.list = h("div", { class: "views-list" }, h("p", { class: "facet-empty" }, "…"));
    this.element = h("section", { class: "side-section", "aria-labelledby": "views-title" },
      h("h2", { id: "views-title" }, "Views"), this.list);
  }

  async refresh() {
    let views;
    try {
      views = (await api("GET", "/api/v1/views")).views;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      clear(this.list, h("p", { class: "facet-empty" }, err.status === 403 ? "You may not read saved views." : err.message));
      return;
    }
    if (!views.length) {
      clear(this.list, h("p", { class: "facet-empty" }, this.canManage ? "None yet: use “Save view”." : "None yet."));
      return;
    }
    const groups = new Map();
    for (const view of views) {
      const category = view.category || "Uncategorised";
      if (!groups.has(category)) groups.set(category, []);
      groups.get(category).push(view);
    }
    clear(this.list, ...[...groups].map(([category, members]) => h("div", { class: "views-group" },
      h("h3", { class: "views-category" }, category),
      h("ul", { class: "views-items" }, members.map((view) => this.item(view))))));
  }

  item(view) {
    const link = h("a", { href: `/?view=${encodeURIComponent(view.id)}`, onClick: (event) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault(); // open in place; the link itself is the shareable URL
      this.onOpen(view.id);
    } }, view.name);
    return h("li", { class: "view-item" }, link,
      this.canManage ? h("button", { type: "button", onClick: () => this.rename(view) }, `Rename ${view.name}`) : null,
      this.canManage ? h("button", { type: "button", class: "danger", onClick: () => this.remove(view) }, `Delete ${view.name}`) : null);
  }

  /** The "Save view" dialog; resolves to the saved view (or null when cancelled). */
  save(state) {
    return new Promise((resolve) => {
      const [name, nameField] = field("view-name", "Name", { required: true, maxlength: "100", autofocus: true });
      const [category, categoryField] = field("view-category", "Category", { maxlength: "100" });
      const error = h("div", { class: "form-error", role: "alert" });
      let saved = null;
      const form = h("form", { onSubmit: async (event) => {
        event.preventDefault();
        clear(error);
        try {
          saved = await api("POST", "/api/v1/views", { json: { name: name.value, category: category.value, ...viewBody(state) } });
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          clear(error, err.message);
          return;
        }
        dialog.close();
        await this.refresh();
      } }, nameField, categoryField, error,
      h("div", { class: "dialog-actions" },
        h("button", { type: "submit", class: "primary" }, "Save"),
        h("button", { type: "button", onClick: () => dialog.close() }, "Cancel")));
      const dialog = this.trackDialog(openDialog("Save view", [form], { onClose: () => resolve(saved) }));
    });
  }

  rename(view) {
    const [name, nameField] = field("view-rename", "Name", { required: true, maxlength: "100", value: view.name, autofocus: true });
    const error = h("div", { class: "form-error", role: "alert" });
    const form = h("form", { onSubmit: async (event) => {
      event.preventDefault();
      try {
        await api("PATCH", `/api/v1/views/${encodeURIComponent(view.id)}`, { json: { name: name.value } });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        clear(error, err.message);
        return;
      }
      dialog.close();
      await this.refresh();
    } }, nameField, error,
    h("div", { class: "dialog-actions" },
      h("button", { type: "submit", class: "primary" }, "Save"),
      h("button", { type: "button", onClick: () => dialog.close() }, "Cancel")));
    const dialog = this.trackDialog(openDialog(`Rename view “${view.name}”`, [form]));
  }

  remove(view) {
    const error = h("div", { class: "form-error", role: "alert" });
    const confirm = h("button", { type: "button", class: "primary danger", onClick: async () => {
      try {
        await api("DELETE", `/api/v1/views/${encodeURIComponent(view.id)}`);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        clear(error, err.message);
        return;
      }
      dialog.close();
      await this.refresh();
    } }, "Delete");
    const dialog = this.trackDialog(openDialog(`Delete view “${view.name}”?`, [
      h("p", {}, "Everyone in the account loses this view. Its link stops working."),
      error,
      h("div", { class: "dialog-actions" }, confirm, h("button", { type: "button", autofocus: true, onClick: () => dialog.close() }, "Cancel")),
    ]));
  }
}
