// Settings → Keys: the account's ingestion and service keys; create one, revoke one, or rotate
// one with a grace period. A new secret is shown once, as the server returns it only once.

import { api } from "../api.js";
import { h, clear } from "../dom.js";
import { alertBox, confirmButton, field, formatTime, secretBox, select, table } from "./common.js";

const ROLES = ["readonly", "member", "admin"];
const GRACE_PERIODS = [["3600", "1 hour"], ["86400", "24 hours"], ["604800", "7 days"]];

function keyName(key) {
  return key.name ? `"${key.name}" (${key.prefix}…)` : `${key.prefix}…`;
}

function keyState(key) {
  if (key.revoked_at) return `revoked ${formatTime(key.revoked_at)}`;
  return key.active ? "active" : "expired";
}

export function renderKeys(container) {
  const errors = alertBox();
  const secretSlot = h("div", {});
  const listSlot = h("div", {}, h("p", { class: "loading" }, "Loading keys…"));

  const type = select(["ingestion", "service"], "ingestion", { name: "type" });
  const role = select(ROLES, "readonly", { name: "role" });
  const roleField = field("Role", role);
  const name = h("input", { type: "text", name: "name", maxlength: "100", autocomplete: "off" });
  const form = h("form", { class: "key-form", hidden: true, onSubmit: create },
    h("h2", {}, "New key"),
    field("Type", type), roleField, field("Name", name),
    h("button", { type: "submit", class: "primary" }, "Create"), " ",
    h("button", { type: "button", onClick: () => showForm(false) }, "Cancel"));
  // The toggle hides while the form is open, so "Create" is the only create button on screen.
  const toggle = h("button", { type: "button", "aria-expanded": "false", onClick: () => showForm(true) }, "Create key");
  type.addEventListener("change", () => { roleField.hidden = type.value !== "service"; });
  roleField.hidden = true;

  function showForm(open) {
    form.hidden = !open;
    toggle.hidden = open;
    toggle.setAttribute("aria-expanded", String(open));
    (open ? type : toggle).focus();
  }

  async function create(event) {
    event.preventDefault();
    errors.clear();
    const body = { type: type.value, name: name.value.trim() || null };
    if (type.value === "service") body.role = role.value;
    try {
      const made = await api("POST", "/api/v1/keys", { json: body });
      clear(secretSlot, secretBox(`New ${made.type} key ${keyName(made)} created.`, made.key));
      name.value = "";
      showForm(false);
      await load();
    } catch (err) {
      errors.show(err);
    }
  }

  async function revoke(key) {
    errors.clear();
    try {
      await api("DELETE", `/api/v1/keys/${encodeURIComponent(key.id)}`);
      clear(secretSlot);
      await load();
    } catch (err) {
      errors.show(err);
    }
  }

  /** Rotate's two steps: pick the grace period, then confirm; the new secret is shown once. */
  function rotateControl(key) {
    const holder = h("span", {});
    const start = h("button", { type: "button", onClick: ask }, "Rotate");

    function back() {
      clear(holder, start);
      start.focus();
    }

    function ask() {
      const grace = select(GRACE_PERIODS, "86400", { "aria-label": "Grace period" });
      const confirm = h("button", { type: "button", class: "primary", onClick: async () => {
        errors.clear();
        confirm.disabled = true;
        try {
          const rotated = await api("POST", `/api/v1/keys/${encodeURIComponent(key.id)}/rotate`, { json: { grace_s: Number(grace.value) } });
          clear(secretSlot, secretBox(
            `New secret for ${keyName(key)}: the old one keeps working until ${formatTime(rotated.old.expires_at)}.`,
            rotated.key));
          await load();
        } catch (err) {
          errors.show(err);
          confirm.disabled = false;
        }
      } }, "Confirm rotate");
      clear(holder, h("span", {}, "Old secret works for "), grace, " ", confirm, " ",
        h("button", { type: "button", onClick: back }, "Cancel"));
      grace.focus();
    }

    clear(holder, start);
    return holder;
  }

  function keyRow(key) {
    const usable = !key.revoked_at && key.active;
    const actions = usable
      ? [confirmButton("Revoke", `Revoke ${keyName(key)}? Clients using it are refused at once.`, "revoke", () => revoke(key)),
        " ", rotateControl(key)]
      : [];
    return h("tr", { "data-id": key.id },
      h("td", {}, key.type),
      h("td", {}, key.role || "—"),
      h("td", {}, key.name || "—"),
      h("td", {}, h("code", {}, key.prefix)),
      h("td", {}, formatTime(key.created_at)),
      h("td", {}, formatTime(key.last_used_at)),
      h("td", {}, formatTime(key.expires_at, "—")),
      h("td", {}, keyState(key)),
      h("td", {}, actions));
  }

  async function load() {
    try {
      const { keys } = await api("GET", "/api/v1/keys");
      clear(listSlot, keys.length
        ? table("Keys of this account", ["Type", "Role", "Name", "Prefix", "Created", "Last used", "Expires", "State", "Actions"], keys.map(keyRow))
        : h("p", {}, "This account has no keys."));
    } catch (err) {
      clear(listSlot);
      errors.show(err);
    }
  }

  clear(container,
    h("p", { class: "muted" }, "Ingestion keys send logs; service keys read them through the API with the role they carry."),
    h("p", {}, toggle), form, errors.element, secretSlot, listSlot);
  load();
}
