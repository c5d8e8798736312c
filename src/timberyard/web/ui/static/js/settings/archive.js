// Settings → Archive: where the account's lines are archived every hour (a directory of the
// node, an S3-compatible bucket or an Azure Blob container), the files' format, client-side encryption, a probe of the destination, an
// on-demand run, how far behind the archive is, and the account's retention (the owner's to
// change). Credentials are sent, never shown: the server answers "***set***" for a stored
// secret, and leaving the field empty keeps it. Above them, "Search the archive"
// (archive-search.js), the one part people without `archives.manage` see.

import { api } from "../api.js";
import { h, clear } from "../dom.js";
import { renderArchiveSearch } from "./archive-search.js";
import { alertBox, checkbox, field, formatTime, select, statusBox, table } from "./common.js";

const SET = "***set***";
const AZURE_FIELDS = [
  ["account_url", "Storage account URL (https://ACCOUNT.blob.core.windows.net)"], ["account_name", "Storage account name"],
  ["container", "Container"], ["prefix", "Prefix (optional)"],
];
const S3_FIELDS = [
  ["bucket", "Bucket"], ["prefix", "Prefix (optional)"], ["endpoint_url", "Endpoint URL (S3-compatible storage; empty for AWS)"],
  ["region", "Region"], ["access_key_id", "Access key id"],
];

function hours(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return seconds < 3600 ? `${Math.round(seconds / 60)} min` : `${(seconds / 3600).toFixed(1)} h`;
}

function statusRows(status) {
  return [
    ["Archiving", status.enabled ? "on" : "off"],
    ["Behind by", hours(status.lag_s)],
    ["Archived up to", formatTime(status.watermark, "nothing yet")],
    ["Last run", formatTime(status.last_run_at)],
    ["Last success", formatTime(status.last_success_at)],
    ["Last error", status.last_error || "none"],
    ["Files", (status.files || 0).toLocaleString()],
    ["Lines", (status.lines || 0).toLocaleString()],
    ["Last digest", status.last_digest || "none"],
  ];
}

export function renderArchive(container, me) {
  const searchSlot = h("div", {});
  renderArchiveSearch(searchSlot, me);
  if (!(me.permissions || []).includes("archives.manage")) {
    clear(container, searchSlot);
    return null;
  }
  const errors = alertBox();
  const status = statusBox();
  const statusSlot = h("div", {}, h("p", { class: "loading" }, "Loading the archive…"));
  const formSlot = h("div", {});
  const retentionSlot = h("div", {});

  async function loadStatus() {
    try {
      const found = await api("GET", "/api/v1/archive/status");
      clear(statusSlot, table("Archive status", ["", "Now"], statusRows(found).map(([name, value]) => [name, value])));
    } catch (err) {
      clear(statusSlot);
      if (err.status !== 404) errors.show(err);
    }
  }

  function renderForm(settings) {
    const formErrors = alertBox();
    const destination = settings.destination || { type: "local" };
    const enabled = checkbox("Archive every hour", settings.configured ? settings.enabled : true);
    const encryption = checkbox("Encrypt files before they leave the node (AES-256-GCM)", settings.encryption);
    const format = select([["json", "Gzipped JSON lines (Mezmo's layout)"], ["parquet", "Parquet (for analytics tools)"]],
      settings.format || "json");
    const type = select([["local", "A directory of the node"], ["s3", "S3-compatible bucket"], ["azure", "Azure Blob container"]],
      destination.type);
    const path = h("input", { type: "text", autocomplete: "off", value: destination.path || "", placeholder: "acme (under the node's archive_local_root)" });
    const s3Inputs = Object.fromEntries(S3_FIELDS.map(([key]) => [key, h("input", { type: "text", autocomplete: "off", value: destination[key] || "" })]));
    const secret = h("input", { type: "password", autocomplete: "new-password", value: "",
      placeholder: destination.secret_access_key === SET ? "set: leave empty to keep it" : "" });
    const sse = select([["", "None"], ["AES256", "AES256"], ["aws:kms", "aws:kms"]], destination.server_side_encryption || "");
    const lockDays = h("input", { type: "number", min: "1", step: "1", value: destination.object_lock_days ?? "" });
    const azureInputs = Object.fromEntries(AZURE_FIELDS.map(([key]) => [key, h("input", { type: "text", autocomplete: "off",
      value: destination.type === "azure" ? destination[key] || "" : "" })]));
    const accountKey = h("input", { type: "password", autocomplete: "new-password", value: "",
      placeholder: destination.account_key === SET ? "set: leave empty to keep it" : "" });
    const localFields = h("div", { class: "rule-kind-fields" }, field("Directory", path));
    const azureFields = h("div", { class: "rule-kind-fields" },
      AZURE_FIELDS.map(([key, label]) => field(label, azureInputs[key])), field("Account key", accountKey));
    const s3Fields = h("div", { class: "rule-kind-fields" },
      S3_FIELDS.map(([key, label]) => field(label, s3Inputs[key])), field("Secret access key", secret),
      field("Server-side encryption", sse), field("Object Lock retention (days, compliance mode; optional)", lockDays));
    const showType = () => {
      localFields.hidden = type.value !== "local";
      s3Fields.hidden = type.value !== "s3";
      azureFields.hidden = type.value !== "azure";
    };
    type.addEventListener("change", showType);
    showType();

    function body() {
      const chosen = { type: type.value };
      if (type.value === "local") {
        chosen.path = path.value.trim();
      } else if (type.value === "azure") {
        for (const [key] of AZURE_FIELDS) if (azureInputs[key].value.trim()) chosen[key] = azureInputs[key].value.trim();
        if (accountKey.value || destination.account_key === SET) chosen.account_key = accountKey.value || SET;
      } else {
        for (const [key] of S3_FIELDS) if (s3Inputs[key].value.trim()) chosen[key] = s3Inputs[key].value.trim();
        if (secret.value || destination.secret_access_key === SET) chosen.secret_access_key = secret.value || SET;
        if (sse.value) chosen.server_side_encryption = sse.value;
        if (lockDays.value !== "") chosen.object_lock_days = Number(lockDays.value);
      }
      return { enabled: enabled.input.checked, encryption: encryption.input.checked, format: format.value, destination: chosen };
    }

    async function act(what, call) {
      formErrors.clear();
      try {
        await call();
      } catch (err) {
        formErrors.show(err);
        return;
      }
      status.say(what);
      await load();
    }

    const save = (event) => {
      event.preventDefault();
      return act("Archive settings saved.", () => api("PUT", "/api/v1/archive", { json: body() }));
    };
    const probe = h("button", { type: "button", onClick: async () => {
      formErrors.clear();
      try {
        const answer = await api("POST", "/api/v1/archive/test");
        if (answer.ok) status.say(`The destination works: ${answer.destination}.`);
        else formErrors.show(`The destination does not work: ${answer.error}`);
      } catch (err) {
        formErrors.show(err);
      }
    } }, "Test the destination");
    const runNow = h("button", { type: "button", onClick: () => act("Archived what was ready.", () => api("POST", "/api/v1/archive/run")) },
      "Archive now");
    const rotate = h("button", { type: "button", onClick: () => act("A new archive key encrypts the files from now on.",
      () => api("PUT", "/api/v1/archive", { json: { rotate_key: true } })) }, "Rotate the encryption key");
    probe.disabled = runNow.disabled = rotate.disabled = !settings.configured;

    clear(formSlot, h("form", { class: "rule-form", "aria-label": "Archive settings", onSubmit: save },
      h("h2", {}, "Destination"),
      enabled.element, field("Where", type), localFields, s3Fields, azureFields,
      field("File format (applies to files written from now on)", format), encryption.element,
      formErrors.element,
      h("div", { class: "rule-form-row" },
        h("button", { type: "submit", class: "primary" }, "Save"), " ", probe, " ", runNow, " ", rotate)));
  }

  function renderRetention() {
    const days = me.account.retention_days;
    const mayChange = (me.permissions || []).includes("retention.manage");
    const retentionErrors = alertBox();
    const input = h("input", { type: "number", min: "1", max: "65535", step: "1", value: String(days) });
    const change = async (event) => {
      event.preventDefault();
      retentionErrors.clear();
      try {
        const answer = await api("PUT", "/api/v1/account/retention", { json: { retention_days: Number(input.value) } });
        me.account.retention_days = answer.retention_days;
        status.say(`Lines received from now on are kept ${answer.retention_days} days.`);
      } catch (err) {
        retentionErrors.show(err);
      }
    };
    clear(retentionSlot, h("section", { "aria-label": "Retention" },
      h("h2", {}, "Retention"),
      h("p", { class: "muted" }, "How long the store keeps the account's lines; the archive keeps them as long as its storage does. " +
        "Retention rules (Settings → Rules) can keep some lines for fewer days."),
      mayChange
        ? h("form", { class: "rule-form-row", "aria-label": "Retention", onSubmit: change },
          field("Days", input), h("button", { type: "submit" }, "Change retention"), retentionErrors.element)
        : h("p", {}, `${days} days. Only the owner can change it.`)));
  }

  async function load() {
    errors.clear();
    try {
      renderForm(await api("GET", "/api/v1/archive"));
    } catch (err) {
      errors.show(err);
    }
    await loadStatus();
  }

  clear(container,
    h("p", { class: "muted" }, "Every hour, each hour's lines go to one gzipped JSON-lines file, with a signed digest that " +
      "`timberyard archive verify` checks; see docs/archives.md."),
    errors.element, status.element, statusSlot, formSlot, retentionSlot, searchSlot);
  renderRetention();
  load();
  return null;
}
