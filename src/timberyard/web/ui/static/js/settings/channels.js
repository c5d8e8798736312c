// Settings → Channels: where alerts go (webhook, email, Slack, PagerDuty). Secrets come back
// masked; sending the mask back keeps the stored secret, so editing a channel never needs the
// secret again. "Send test" delivers a sample notification now and shows what the far end said.

import { api } from "../api.js";
import { h, clear } from "../dom.js";
import { alertBox, confirmButton, field, select, statusBox, table } from "./common.js";

const KINDS = [["webhook", "Webhook"], ["email", "Email (SMTP)"], ["slack", "Slack incoming webhook"], ["pagerduty", "PagerDuty Events v2"]];

// Each kind's form: [config key, label, input type, placeholder]
const FORMS = {
  webhook: [["url", "URL", "url", "https://hooks.example.com/alerts"], ["method", "Method", "text", "POST"],
    ["headers", "Headers (JSON object)", "json", '{"Authorization": "Bearer …"}'], ["body", "Body template (JSON)", "textarea", ""]],
  email: [["to", "To (comma-separated)", "list", "oncall@example.com"], ["from", "From", "text", "timberyard@example.com"],
    ["smtp_host", "SMTP server", "text", "smtp.example.com"], ["smtp_port", "Port", "number", "587"],
    ["starttls", "STARTTLS", "checkbox", ""], ["username", "User name", "text", ""], ["password", "Password", "password", ""]],
  slack: [["url", "Incoming webhook URL", "url", "https://hooks.slack.com/services/…"]],
  pagerduty: [["routing_key", "Integration (routing) key", "password", ""], ["severity", "Severity", "text", "error"]],
};

function channelPath(channel, action = "") {
  return `/api/v1/channels/${encodeURIComponent(channel.id)}${action}`;
}

function where(channel) {
  const c = channel.config;
  if (channel.kind === "email") return `${c.to.join(", ")} via ${c.smtp_host}:${c.smtp_port}`;
  if (channel.kind === "pagerduty") return `PagerDuty (${c.severity})`;
  return c.url;
}

function input(type, value, placeholder) {
  if (type === "checkbox") return h("input", { type: "checkbox", checked: value === undefined ? true : Boolean(value) });
  if (type === "textarea") return h("textarea", { rows: "4", placeholder }, value || "");
  let shown = value;
  if (type === "json") shown = value ? JSON.stringify(value) : "";
  if (type === "list") shown = (value || []).join(", ");
  const kind = type === "json" || type === "list" ? "text" : type;
  return h("input", { type: kind, value: shown ?? "", placeholder, autocomplete: "off" });
}

function read(type, element) {
  if (type === "checkbox") return element.checked;
  if (type === "number") return element.value === "" ? undefined : Number(element.value);
  if (type === "list") return element.value.split(",").map((s) => s.trim()).filter(Boolean);
  if (type === "json") {
    if (element.value.trim() === "") return {};
    try {
      return JSON.parse(element.value);
    } catch {
      throw new Error("headers must be a JSON object, like {\"Authorization\": \"Bearer …\"}");
    }
  }
  return element.value === "" ? undefined : element.value;
}

export function renderChannels(container) {
  const errors = alertBox();
  const status = statusBox();
  const listSlot = h("div", {}, h("p", { class: "loading" }, "Loading channels…"));
  const formSlot = h("div", {});
  const add = h("button", { type: "button", class: "primary", onClick: () => openForm(null) }, "Add channel");

  async function test(channel) {
    errors.clear();
    try {
      const outcome = await api("POST", channelPath(channel, "/test"));
      status.say(outcome.ok
        ? `Test sent to ${channel.name}${outcome.status ? ` (answered ${outcome.status})` : ""}.`
        : `Test to ${channel.name} failed: ${outcome.error || `answered ${outcome.status}`}.`);
    } catch (err) {
      errors.show(err);
    }
  }

  async function load() {
    try {
      const { channels } = await api("GET", "/api/v1/channels");
      clear(listSlot, channels.length
        ? table("Channels of this account", ["Name", "Kind", "Sends to", "Actions"], channels.map((channel) => h("tr", { "data-id": channel.id },
          h("td", {}, channel.name),
          h("td", {}, channel.kind),
          h("td", {}, where(channel)),
          h("td", {}, h("div", { class: "rule-actions" },
            h("button", { type: "button", onClick: () => test(channel) }, "Send test"),
            h("button", { type: "button", onClick: () => openForm(channel) }, "Edit"),
            confirmButton("Delete", `Delete channel ${channel.name}? Alerts stop sending to it.`, "delete", async () => {
              errors.clear();
              try {
                await api("DELETE", channelPath(channel));
                status.say(`Channel ${channel.name} deleted.`);
                await load();
              } catch (err) {
                errors.show(err);
              }
            }))))))
        : h("p", { class: "muted" }, "No channels yet."));
    } catch (err) {
      clear(listSlot);
      errors.show(err);
    }
  }

  function openForm(channel) {
    const formErrors = alertBox();
    const name = h("input", { type: "text", required: true, maxlength: "100", value: channel ? channel.name : "" });
    const kind = select(KINDS, channel ? channel.kind : "webhook", { disabled: Boolean(channel) });
    const slot = h("div", {});
    let inputs = [];

    function showKind() {
      const config = channel ? channel.config : {};
      inputs = FORMS[kind.value].map(([key, label, type, placeholder]) => ({ key, type, element: input(type, config[key], placeholder), label }));
      clear(slot, inputs.map((item) => field(item.label, item.element)));
    }
    kind.addEventListener("change", showKind);
    showKind();

    const form = h("form", { class: "rule-form", "aria-label": channel ? "Edit channel" : "New channel", onSubmit: async (event) => {
      event.preventDefault();
      formErrors.clear();
      try {
        const config = {};
        for (const item of inputs) {
          const value = read(item.type, item.element);
          if (value !== undefined) config[item.key] = value;
        }
        const body = channel ? { name: name.value, config } : { name: name.value, kind: kind.value, config };
        const saved = await api(channel ? "PATCH" : "POST", channel ? channelPath(channel) : "/api/v1/channels", { json: body });
        clear(formSlot);
        status.say(`Channel ${saved.name} ${channel ? "saved" : "added"}.`);
        await load();
      } catch (err) {
        formErrors.show(err);
      }
    } },
    h("h2", {}, channel ? `Edit channel ${channel.name}` : "Add channel"),
    field("Name", name), field("Kind", kind), slot, formErrors.element,
    h("div", { class: "dialog-actions" },
      h("button", { type: "submit", class: "primary" }, channel ? "Save" : "Add"),
      h("button", { type: "button", onClick: () => clear(formSlot) }, "Cancel")));
    clear(formSlot, form);
    name.focus();
  }

  clear(container, h("p", {}, "Channels are where alerts send their notifications. Addresses inside your network are refused unless the node's alerts_outbound_allow setting lists them."),
    add, status.element, errors.element, formSlot, listSlot);
  load();
  return null;
}
