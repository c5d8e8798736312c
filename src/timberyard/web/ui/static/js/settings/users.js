// Settings → Users: the people of the account; add one, change a role, disable or enable.
// The server ends a user's sessions when their role or state changes; the page says so.

import { api } from "../api.js";
import { h, clear } from "../dom.js";
import { alertBox, field, formatTime, select, statusBox, table } from "./common.js";

const ROLES = ["readonly", "member", "admin"];

export function renderUsers(container, me) {
  const errors = alertBox();
  const status = statusBox();
  const listSlot = h("div", {}, h("p", { class: "loading" }, "Loading users…"));
  const myId = me.user ? me.user.id : null;

  const email = h("input", { type: "email", name: "email", autocomplete: "off", required: true });
  const role = select(ROLES, "member", { name: "role" });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: "12" });
  const form = h("form", { class: "user-form", onSubmit: add },
    h("h2", {}, "Add a user"),
    field("Email", email), field("Role", role), field("Password", password),
    h("p", { class: "muted" }, "12 to 128 characters, not a common password; a few unrelated words work well. Tell the user, who can change it after signing in."),
    h("button", { type: "submit", class: "primary" }, "Add user"));

  async function add(event) {
    event.preventDefault();
    errors.clear();
    try {
      const user = await api("POST", "/api/v1/users", { json: { email: email.value.trim(), role: role.value, password: password.value } });
      status.say(`${user.email} added as ${user.role}.`);
      email.value = "";
      password.value = "";
      await load();
    } catch (err) {
      errors.show(err);
    }
  }

  async function change(user, body, done) {
    errors.clear();
    try {
      const changed = await api("PATCH", `/api/v1/users/${encodeURIComponent(user.id)}`, { json: body });
      status.say(done(changed));
      await load();
      return true;
    } catch (err) {
      errors.show(err);
      return false;
    }
  }

  function roleControl(user) {
    if (user.role === "owner") return "owner";
    const choice = select(ROLES, user.role, { "aria-label": `Role of ${user.email}` });
    choice.addEventListener("change", async () => {
      const ok = await change(user, { role: choice.value },
        (changed) => `${changed.email} is now ${changed.role}; their sessions were ended.`);
      if (!ok) choice.value = user.role;
    });
    return choice;
  }

  function stateControl(user) {
    if (user.role === "owner" || user.id === myId) return null; // the server refuses both
    const disable = !user.disabled;
    return h("button", { type: "button", class: disable ? "danger" : null, onClick: () => change(user, { disabled: disable },
      (changed) => (changed.disabled ? `${changed.email} is disabled and signed out everywhere.` : `${changed.email} can sign in again.`)) },
    disable ? "Disable" : "Enable");
  }

  async function load() {
    try {
      const { users } = await api("GET", "/api/v1/users");
      clear(listSlot, table("Users of this account", ["Email", "Role", "Two-factor", "State", "Created", "Actions"],
        users.map((user) => h("tr", { "data-id": user.id },
          h("td", {}, user.email),
          h("td", {}, roleControl(user)),
          h("td", {}, user.two_factor ? "on" : "off"),
          h("td", {}, user.disabled ? "disabled" : "active"),
          h("td", {}, formatTime(user.created_at)),
          h("td", {}, stateControl(user))))));
    } catch (err) {
      clear(listSlot);
      errors.show(err);
    }
  }

  clear(container, errors.element, status.element, listSlot, form);
  load();
}
