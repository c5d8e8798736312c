// Settings → Alerts: the account's alerts with what each waits for, where it sends, whether it
// is muted; add or edit one in a form (the viewer's "Alert on this view" opens it filled in
// with the view's query and filters), mute and unmute, read a firing history, delete. The
// server checks every definition; its message is shown next to the form.

import { api } from "../api.js";
import { h, clear, visible } from "../dom.js";
import { alertBox, checkbox, confirmButton, field, formatTime, select, statusBox, table } from "./common.js";

const KINDS = [["presence", "Presence: at least N lines"], ["absence", "Absence: fewer than N lines"], ["index_rate", "Index rate"],
  ["archive_lag", "Archive falling behind"], ["anomaly", "Anomalies the detectors find"], ["security", "Security events (owners only)"]];
const ANOMALY_KINDS = [["new_template", "Never-seen templates at WARN or worse"], ["template_surge", "Template surges"],
  ["silence", "Silent apps and hosts"], ["volume_spike", "Volume spikes"], ["volume_drop", "Volume drops"],
  ["error_trend", "Error ratio trending to its threshold"]];
const INTERVALS = ["30s", "1m", "5m", "15m", "30m", "1h", "6h", "12h", "24h"];
const FILTERS = ["apps", "hosts", "levels", "tags"];

function alertPath(alert, action = "") {
  return `/api/v1/alerts/${encodeURIComponent(alert.id)}${action}`;
}

/** One line saying what an alert waits for. */
export function condition(alert) {
  if (alert.kind === "security") return "each security event: repeated failed sign-ins, break-glass access, audit chain problems";
  if (alert.kind === "index_rate") {
    const parts = [];
    if (alert.max_lines_per_s) parts.push(`above ${alert.max_lines_per_s.toLocaleString()} lines/s`);
    if (alert.z_score) parts.push(`${alert.z_score} σ from this hour of the week`);
    return `index rate ${parts.join(" or ")} over ${alert.interval}`;
  }
  if (alert.kind === "archive_lag") return `the archive more than ${alert.max_lag_s / 3600} h behind, checked every ${alert.interval}`;
  if (alert.kind === "anomaly") {
    const least = alert.min_score !== null && alert.min_score !== undefined ? `, score ${alert.min_score} or more` : "";
    return `each anomaly: ${(alert.anomaly_kinds || []).join(", ").replace(/_/g, " ")}${least}`;
  }
  const sign = alert.kind === "absence" ? "fewer than" : "at least";
  return `${sign} ${alert.threshold.toLocaleString()} lines in ${alert.interval} (${alert.timing.join(", ").replace(/_/g, " ")})`;
}

function selection(alert) {
  if (alert.kind === "security") return "the audit trail";
  if (alert.kind === "archive_lag") return "the account's archive";
  if (alert.kind === "anomaly") return "the anomaly detectors";
  const filters = FILTERS.filter((key) => (alert.filters[key] || []).length)
    .map((key) => `${key}: ${alert.filters[key].join(", ")}`);
  return [alert.query, ...filters].filter(Boolean).join("; ") || "every line";
}

function state(alert) {
  if (alert.muted) return "muted";
  if (alert.snoozed_until && new Date(alert.snoozed_until) > new Date()) return `snoozed until ${formatTime(alert.snoozed_until)}`;
  return "active";
}

/** What "Alert on this view" put in the hash: #/settings/alerts?new=1&q=...&apps=a,b */
function requestedDraft() {
  const query = window.location.hash.split("?")[1];
  if (!query) return null;
  const params = new URLSearchParams(query);
  if (!params.has("new")) return null;
  const filters = {};
  for (const key of FILTERS) filters[key] = (params.get(key) || "").split(",").filter(Boolean);
  return { name: params.get("name") || "", kind: "presence", query: params.get("q") || "", filters,
    view_id: params.get("view") || null, threshold: 1, interval: "5m", timing: ["end_of_interval"], channel_ids: [] };
}

export function renderAlerts(container) {
  const errors = alertBox();
  const status = statusBox();
  const listSlot = h("div", {}, h("p", { class: "loading" }, "Loading alerts…"));
  const formSlot = h("div", {});
  const historySlot = h("div", {});
  const add = h("button", { type: "button", class: "primary", onClick: () => openForm(null) }, "Add alert");
  let channels = [];

  async function call(method, path, json, done) {
    errors.clear();
    try {
      const alert = await api(method, path, json === undefined ? {} : { json });
      status.say(done(alert));
      await load();
    } catch (err) {
      errors.show(err);
    }
  }

  function channelNames(alert) {
    const names = alert.channel_ids.map((id) => (channels.find((c) => c.id === id) || { name: `#${id}` }).name);
    return names.join(", ") || "none";
  }

  function actions(alert) {
    const mute = alert.muted
      ? h("button", { type: "button", onClick: () => call("POST", alertPath(alert, "/unmute"), {}, (a) => `Alert ${a.name} unmuted.`) }, "Unmute")
      : h("button", { type: "button", onClick: () => call("POST", alertPath(alert, "/mute"), {}, (a) => `Alert ${a.name} muted.`) }, "Mute");
    const edit = h("button", { type: "button", onClick: () => openForm(alert) }, "Edit");
    const history = h("button", { type: "button", onClick: () => showHistory(alert) }, "History");
    const remove = confirmButton("Delete", `Delete alert ${alert.name}? Its history goes with it.`, "delete",
      () => call("DELETE", alertPath(alert), undefined, (a) => `Alert ${a.name} deleted.`));
    return h("div", { class: "rule-actions" }, edit, mute, history, remove);
  }

  async function load() {
    try {
      const [{ alerts }, listed] = await Promise.all([api("GET", "/api/v1/alerts"), api("GET", "/api/v1/channels")]);
      channels = listed.channels;
      clear(listSlot, alerts.length
        ? table("Alerts of this account", ["Name", "Waits for", "Lines", "Channels", "State", "Actions"],
          alerts.map((alert) => h("tr", { "data-id": alert.id },
            h("td", {}, alert.name),
            h("td", {}, condition(alert)),
            h("td", {}, h("code", {}, visible(selection(alert)))),
            h("td", {}, channelNames(alert)),
            h("td", {}, state(alert)),
            h("td", {}, actions(alert)))))
        : h("p", { class: "muted" }, "No alerts yet. Add one here, or use “Alert on this view” in the viewer."));
    } catch (err) {
      clear(listSlot);
      errors.show(err);
    }
  }

  async function showHistory(alert) {
    try {
      const { firings } = await api("GET", alertPath(alert, "/history"));
      clear(historySlot, h("section", { "aria-label": `History of ${alert.name}` },
        h("h2", {}, `History of ${alert.name}`),
        firings.length
          ? table("Firings, newest first", ["Window", "State", "Lines", "Why", "Deliveries"], firings.map((firing) => [
            `${formatTime(firing.window_start)} – ${formatTime(firing.window_end)}`,
            firing.suppressed_by ? `${firing.state} (suppressed: ${firing.suppressed_by})` : firing.state,
            firing.matches.toLocaleString() + (firing.late_lines ? ` (${firing.late_lines} late)` : ""),
            firing.reason,
            (firing.deliveries || []).map((d) => `${d.ok ? "sent" : "failed"} #${d.attempt}${d.error ? `: ${d.error}` : ""}`).join("; ") || "—",
          ]))
          : h("p", { class: "muted" }, "It has not fired yet.")));
    } catch (err) {
      errors.show(err);
    }
  }

  /** The add/edit form; `alert` null adds, a draft without id adds prefilled. */
  function openForm(alert) {
    const editing = alert && alert.id !== undefined;
    const draft = alert || { kind: "presence", query: "", filters: {}, threshold: 1, interval: "5m", timing: ["end_of_interval"], channel_ids: [] };
    const formErrors = alertBox();
    const name = h("input", { type: "text", required: true, maxlength: "100", value: draft.name || "" });
    const kind = select(KINDS, draft.kind, { disabled: editing });
    const query = h("input", { type: "text", value: draft.query || "", placeholder: "app:payments level:error" });
    const filterInputs = Object.fromEntries(FILTERS.map((key) => [key, h("input", { type: "text", value: (draft.filters[key] || []).join(", "), placeholder: "comma-separated" })]));
    const threshold = h("input", { type: "number", min: "1", value: String(draft.threshold ?? 1) });
    const interval = select(INTERVALS, draft.interval);
    const immediate = checkbox("Immediately, as soon as the threshold is reached (presence only)", draft.timing.includes("immediate"));
    const atEnd = checkbox("At the end of the interval", draft.timing.includes("end_of_interval"));
    const maxRate = h("input", { type: "number", min: "0", step: "any", value: draft.max_lines_per_s ?? "" });
    const zScore = h("input", { type: "number", min: "0", step: "any", value: draft.z_score ?? "" });
    const maxLagHours = h("input", { type: "number", min: "0.1", step: "any", value: draft.max_lag_s ? String(draft.max_lag_s / 3600) : "" });
    const anomalyPicks = ANOMALY_KINDS.map(([value, label]) => ({ value, ...checkbox(label, (draft.anomaly_kinds || []).includes(value)) }));
    const minScore = h("input", { type: "number", min: "0", step: "any", value: draft.min_score ?? "" });
    const picks = channels.map((channel) => ({ id: channel.id, ...checkbox(`${channel.name} (${channel.kind})`, draft.channel_ids.includes(channel.id)) }));

    const onView = Boolean(draft.view_id);
    if (onView) for (const control of [query, ...Object.values(filterInputs)]) control.disabled = true;

    function body() {
      const fields = { name: name.value, interval: interval.value, channel_ids: picks.filter((pick) => pick.input.checked).map((pick) => pick.id) };
      if (!editing) fields.kind = kind.value;
      if (onView && !editing) fields.view_id = draft.view_id;
      if (kind.value === "security") return fields;
      if (kind.value === "index_rate") {
        fields.max_lines_per_s = maxRate.value === "" ? null : Number(maxRate.value);
        fields.z_score = zScore.value === "" ? null : Number(zScore.value);
        return fields;
      }
      if (kind.value === "archive_lag") {
        fields.max_lag_s = maxLagHours.value === "" ? null : Math.round(Number(maxLagHours.value) * 3600);
        return fields;
      }
      if (kind.value === "anomaly") {
        fields.anomaly_kinds = anomalyPicks.filter((pick) => pick.input.checked).map((pick) => pick.value);
        fields.min_score = minScore.value === "" ? null : Number(minScore.value);
        return fields;
      }
      if (!onView) {
        fields.query = query.value;
        fields.filters = Object.fromEntries(FILTERS.map((key) => [key, filterInputs[key].value.split(",").map((s) => s.trim()).filter(Boolean)]));
      }
      fields.threshold = Number(threshold.value);
      fields.timing = [immediate.input.checked ? "immediate" : null, atEnd.input.checked ? "end_of_interval" : null].filter(Boolean);
      return fields;
    }

    const form = h("form", { class: "rule-form", "aria-label": editing ? "Edit alert" : "New alert", onSubmit: async (event) => {
      event.preventDefault();
      formErrors.clear();
      try {
        const saved = await api(editing ? "PATCH" : "POST", editing ? alertPath(alert) : "/api/v1/alerts", { json: body() });
        clear(formSlot);
        status.say(`Alert ${saved.name} ${editing ? "saved" : "added"}.`);
        await load();
      } catch (err) {
        formErrors.show(err);
      }
    } },
    h("h2", {}, editing ? `Edit alert ${alert.name}` : "Add alert"),
    field("Name", name), field("Kind", kind),
    onView ? h("p", { class: "muted" }, "This alert follows its saved view: editing the view changes what it watches.") : null,
    field("Query", query),
    FILTERS.map((key) => field(key[0].toUpperCase() + key.slice(1), filterInputs[key])),
    field("Lines (threshold)", threshold), field("Interval", interval), immediate.element, atEnd.element,
    field("Index rate above (lines/s)", maxRate), field("Or this many standard deviations from the baseline", zScore),
    field("Archive behind by more than (hours)", maxLagHours),
    h("fieldset", {}, h("legend", {}, "Anomalies to send (none ticked: all)"), anomalyPicks.map((pick) => pick.element)),
    field("Anomaly score at least (optional; surges, silences and volume only)", minScore),
    h("fieldset", {}, h("legend", {}, "Send to"),
      picks.length ? picks.map((pick) => pick.element) : h("p", { class: "muted" }, "No channels yet: add one under Settings → Channels.")),
    formErrors.element,
    h("div", { class: "dialog-actions" },
      h("button", { type: "submit", class: "primary" }, editing ? "Save" : "Add"),
      h("button", { type: "button", onClick: () => clear(formSlot) }, "Cancel")));
    clear(formSlot, form);
    name.focus();
  }

  clear(container, h("p", {}, "Alerts watch the lines as they arrive and notify the chosen channels."),
    add, status.element, errors.element, formSlot, listSlot, historySlot);
  load().then(() => {
    const draft = requestedDraft();
    if (draft) openForm(draft);
  });
  return null;
}
