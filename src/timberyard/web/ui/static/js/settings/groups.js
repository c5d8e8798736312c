// Settings → Groups: groups limit what their members read to the lines matching a scope query.
// Create one, edit its scope, add and remove members, delete it. A scope the server cannot
// parse comes back with the character where it went wrong, shown next to the form.

import { api } from "../api.js";
import { h, clear } from "../dom.js";
import { alertBox, confirmButton, field, formatTime, statusBox, table } from "./common.js";

function groupPath(name, rest = "") {
  return `/api/v1/groups/${encodeURIComponent(name)}${rest}`;
}

export function renderGroups(container) {
  const errors = alertBox();
  const status = statusBox();
  const listSlot = h("div", {}, h("p", { class: "loading" }, "Loading groups…"));

  const name = h("input", { type: "text", name: "name", maxlength: "100", autocomplete: "off", required: true });
  const scope = h("input", { type: "text", name: "scope", autocomplete: "off", spellcheck: "false" });
  const createErrors = alertBox();
  const form = h("form", { class: "group-form", onSubmit: create },
    h("h2", {}, "Create a group"),
    field("Name", name), field("Scope", scope),
    h("p", { class: "muted" }, "A search query, such as app:payments OR app:billing. Members read only the lines it matches; field values match whole values (app:web is not app:webhooks; write app:web* for a prefix); an empty scope lets nothing through."),
    createErrors.element,
    h("button", { type: "submit", class: "primary" }, "Create group"));

  async function create(event) {
    event.preventDefault();
    createErrors.clear();
    try {
      const group = await api("POST", "/api/v1/groups", { json: { name: name.value.trim(), scope: scope.value } });
      status.say(`Group ${group.name} created.`);
      name.value = "";
      scope.value = "";
      await load();
    } catch (err) {
      createErrors.show(err);
      if (Number.isInteger(err.position)) {
        scope.focus();
        scope.setSelectionRange(err.position, err.position);
      }
    }
  }

  async function call(method, path, json, done) {
    errors.clear();
    try {
      const group = await api(method, path, json === undefined ? {} : { json });
      status.say(done(group));
      await load();
      return true;
    } catch (err) {
      errors.show(err);
      return false;
    }
  }

  function scopeCell(group) {
    const cell = h("div", {});
    const show = () => clear(cell,
      group.scope ? h("code", {}, group.scope) : h("span", { class: "muted" }, "(empty: sees nothing)"), " ",
      h("button", { type: "button", onClick: edit }, "Edit scope"));

    function edit() {
      const input = h("input", { type: "text", value: group.scope, "aria-label": `Scope of ${group.name}`, spellcheck: "false" });
      const save = async (event) => {
        event.preventDefault();
        await call("PATCH", groupPath(group.name), { scope: input.value }, (g) => `Scope of ${g.name} saved.`);
      };
      clear(cell, h("form", { onSubmit: save }, input, " ",
        h("button", { type: "submit", class: "primary" }, "Save scope"), " ",
        h("button", { type: "button", onClick: show }, "Cancel")));
      input.focus();
    }

    show();
    return cell;
  }

  function membersCell(group) {
    const email = h("input", { type: "email", "aria-label": `Email of a new member of ${group.name}`, autocomplete: "off" });
    const add = async (event) => {
      event.preventDefault();
      await call("POST", groupPath(group.name, "/members"), { email: email.value.trim() },
        (g) => `${email.value.trim()} added to ${g.name}.`);
    };
    return h("div", {},
      group.members.length
        ? h("ul", {}, group.members.map((member) => h("li", {}, member, " ",
          h("button", { type: "button", class: "link", "aria-label": `Remove ${member} from ${group.name}`,
            onClick: () => call("DELETE", groupPath(group.name, `/members/${encodeURIComponent(member)}`), undefined,
              (g) => `${member} removed from ${g.name}.`) }, "Remove"))))
        : h("p", { class: "muted" }, "No members."),
      h("form", { onSubmit: add }, email, " ", h("button", { type: "submit" }, "Add member")));
  }

  async function load() {
    try {
      const { groups } = await api("GET", "/api/v1/groups");
      clear(listSlot, groups.length
        ? table("Groups of this account", ["Name", "Scope", "Members", "Created", "Actions"],
          groups.map((group) => h("tr", { "data-id": group.id },
            h("td", {}, group.name),
            h("td", {}, scopeCell(group)),
            h("td", {}, membersCell(group)),
            h("td", {}, formatTime(group.created_at)),
            h("td", {}, confirmButton("Delete", `Delete group ${group.name}? Its members lose its scope.`, "delete",
              () => call("DELETE", groupPath(group.name), undefined, (g) => `Group ${g.name} deleted.`))))))
        : h("p", {}, "No groups yet: everyone reads the whole account."));
    } catch (err) {
      clear(listSlot);
      errors.show(err);
    }
  }

  clear(container, errors.element, status.element, listSlot, form);
  load();
}
