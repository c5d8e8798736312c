// Settings → Rules: the account's ingest rules in the order they apply (parsing, then
// redaction, then exclusion, then retention), with the lines each acted on today and in total. Add or edit a
// rule in one form that can first be tried on sample lines (the server runs it and says, per
// line, whether it matched, the fields, the redacted text, excluded or not; samples are never
// stored). Enable, disable, move, delete. The server checks every rule; its message (an
// invalid regex, an unknown grok pattern, a query's syntax error) is shown next to the form.

import { api } from "../api.js";
import { h, clear, visible } from "../dom.js";
import { alertBox, checkbox, confirmButton, field, select, statusBox, table } from "./common.js";

const KINDS = [
  ["parse", "Parsing", "Parse"],
  ["redact", "Redaction", "Redact"],
  ["exclude", "Exclusion", "Exclude"],
  ["retain", "Retention", "Retain"],
];

function rulePath(rule) {
  return `/api/v1/rules/${encodeURIComponent(rule.id)}`;
}

/** One line saying what a rule does. */
function summary(rule) {
  let what;
  if (rule.kind === "parse") {
    what = rule.grok ? `grok ${rule.grok}` : `regex ${rule.regex}`;
  } else if (rule.kind === "redact") {
    const parts = (rule.preset ? [`preset ${rule.preset}`] : []).concat(rule.detectors || [], (rule.patterns || []).map((p) => `/${p}/`));
    what = `${parts.join(", ")} → ${rule.marker}`;
  } else if (rule.kind === "exclude") {
    what = `${rule.preserve_for_tail ? "keep for live tail only" : "drop"}: ${rule.query}`;
  } else {
    what = `keep ${rule.days} ${rule.days === 1 ? "day" : "days"}: ${rule.query}`;
  }
  return rule.scope ? `${what} (where ${rule.scope})` : what;
}

/** `bytes=int, ratio=float` ⇄ {bytes: "int", ratio: "float"} */
function typesText(types) {
  return Object.entries(types || {}).map(([name, kind]) => `${name}=${kind}`).join(", ");
}
function parseTypes(text) {
  const types = {};
  for (const part of text.split(",")) {
    const [name, kind] = part.split("=").map((s) => s.trim());
    if (name) types[name] = kind || "";
  }
  return types;
}

function lines(text) {
  return text.split("\n").map((line) => line.replace(/\r$/, "")).filter((line) => line.trim() !== "");
}

export function renderRules(container) {
  const errors = alertBox();
  const status = statusBox();
  const listSlot = h("div", {}, h("p", { class: "loading" }, "Loading rules…"));
  const formSlot = h("div", {});
  const add = h("button", { type: "button", class: "primary", disabled: true, onClick: () => openForm(null) }, "Add rule");
  let catalog = { detectors: [], presets: [], default_marker: "[REDACTED]" };

  async function call(method, path, json, done) {
    errors.clear();
    try {
      const rule = await api(method, path, json === undefined ? {} : { json });
      status.say(done(rule));
      await load();
    } catch (err) {
      errors.show(err);
    }
  }

  function actions(rule, count) {
    const toggle = h("button", { type: "button", onClick: () => call("PATCH", rulePath(rule), { enabled: !rule.enabled },
      (r) => `Rule ${r.name} ${r.enabled ? "enabled" : "disabled"}.`) }, rule.enabled ? "Disable" : "Enable");
    const up = h("button", { type: "button", "aria-label": `Move ${rule.name} up`, disabled: rule.position === 1,
      onClick: () => call("PATCH", rulePath(rule), { position: rule.position - 1 }, (r) => `Rule ${r.name} moved to position ${r.position}.`) }, "↑");
    const down = h("button", { type: "button", "aria-label": `Move ${rule.name} down`, disabled: rule.position === count,
      onClick: () => call("PATCH", rulePath(rule), { position: rule.position + 1 }, (r) => `Rule ${r.name} moved to position ${r.position}.`) }, "↓");
    const edit = h("button", { type: "button", onClick: () => openForm(rule) }, "Edit");
    const remove = confirmButton("Delete", `Delete rule ${rule.name}? New lines will no longer get it.`, "delete",
      () => call("DELETE", rulePath(rule), undefined, (r) => `Rule ${r.name} deleted.`));
    return h("div", { class: "rule-actions" }, toggle, up, down, edit, remove);
  }

  async function load() {
    try {
      const { rules } = await api("GET", "/api/v1/rules");
      const sections = KINDS.map(([kind, title]) => {
        const mine = rules.filter((rule) => rule.kind === kind);
        return h("section", { class: "rules-section", "aria-label": `${title} rules` },
          h("h2", {}, `${title} rules`),
          mine.length
            ? table(`${title} rules, applied in this order to new lines`, ["#", "Name", "What it does", "State", "Today", "Total", "Actions"],
              mine.map((rule) => h("tr", { "data-id": rule.id, class: rule.enabled ? null : "rule-off" },
                h("td", {}, String(rule.position)),
                h("td", {}, rule.name),
                h("td", { class: "rule-what" }, h("code", {}, visible(summary(rule)))),
                h("td", {}, rule.enabled ? "enabled" : "disabled"),
                h("td", {}, rule.lines_today.toLocaleString()),
                h("td", {}, rule.lines_total.toLocaleString()),
                h("td", {}, actions(rule, mine.length)))))
            : h("p", { class: "muted" }, `No ${title.toLowerCase()} rules.`));
      });
      clear(listSlot, sections);
    } catch (err) {
      clear(listSlot);
      errors.show(err);
    }
  }

  /** The add/edit form; `rule` null adds. */
  function openForm(rule) {
    const formErrors = alertBox();
    const kind = select(KINDS.map(([value, , label]) => [value, label]), rule ? rule.kind : "parse", { disabled: Boolean(rule) });
    const name = h("input", { type: "text", maxlength: "100", autocomplete: "off", required: true, value: rule ? rule.name : "" });
    const enabled = checkbox("Enabled", rule ? rule.enabled : true);

    // parse
    const scope = h("input", { type: "text", spellcheck: "false", autocomplete: "off", value: rule && rule.scope ? rule.scope : "",
      placeholder: "e.g. app:nginx (empty: every line)" });
    const syntax = select([["grok", "Grok"], ["regex", "Regex (named groups)"]], rule && rule.regex ? "regex" : "grok");
    const pattern = h("textarea", { rows: "2", spellcheck: "false", class: "mono",
      placeholder: "%{IP:client} %{WORD:method} %{URIPATH:path} %{NUMBER:status:int}" });
    pattern.value = rule ? (rule.grok || rule.regex || "") : "";
    const types = h("input", { type: "text", spellcheck: "false", autocomplete: "off", value: rule ? typesText(rule.types) : "",
      placeholder: "bytes=int, ratio=float, ok=bool" });
    const typesField = field("Types (regex)", types);
    const parseFields = h("div", { class: "rule-kind-fields" },
      field("Pattern syntax", syntax), field("Pattern", pattern), typesField,
      h("p", { class: "muted" }, "Named groups (or %{PATTERN:field}) become fields of the lines that match. Grok types: %{NUMBER:bytes:int}, :float, :bool."));

    // redact
    const preset = checkbox("HIPAA preset (every detector)", rule ? rule.preset === "hipaa" : false);
    const detectorChecks = new Map();
    const detectorList = h("div", { class: "detector-list", role: "group", "aria-label": "Detectors" });
    const patterns = h("textarea", { rows: "2", spellcheck: "false", class: "mono", placeholder: "one regex per line, e.g. PID-[0-9]{6}" });
    patterns.value = rule && rule.patterns ? rule.patterns.join("\n") : "";
    const marker = h("input", { type: "text", maxlength: "64", autocomplete: "off", value: rule && rule.kind === "redact" ? rule.marker : "",
      placeholder: catalog.default_marker });
    const redactFields = h("div", { class: "rule-kind-fields" },
      preset.element, detectorList, field("Custom patterns", patterns), field("Marker", marker),
      h("p", { class: "muted" }, "Masks matches in the line, its fields, tags, labels and annotations before anything is written to disk. New lines only."));
    for (const detector of catalog.detectors) {
      const box = checkbox(detector.title, rule && (rule.detectors || []).includes(detector.name), { value: detector.name, title: detector.description });
      detectorChecks.set(detector.name, box.input);
      detectorList.appendChild(box.element);
    }
    // The preset holds every detector: while it is chosen the single ones have nothing to add.
    const presetCovers = () => { for (const box of detectorChecks.values()) box.disabled = preset.input.checked; };
    preset.input.addEventListener("change", presetCovers);
    presetCovers();

    // exclude and retain
    const query = h("input", { type: "text", spellcheck: "false", autocomplete: "off", value: rule && rule.query ? rule.query : "",
      placeholder: "e.g. app:nginx path:/healthz" });
    const queryField = field("Query", query);
    const preserve = checkbox("Preserve for live tail and alerting (not stored)", rule ? rule.preserve_for_tail : false);
    const excludeFields = h("div", { class: "rule-kind-fields" }, preserve.element);
    const days = h("input", { type: "number", min: "1", max: "65535", step: "1", required: false, value: rule && rule.days ? String(rule.days) : "",
      placeholder: "e.g. 3" });
    const retainFields = h("div", { class: "rule-kind-fields" }, field("Keep for (days)", days),
      h("p", { class: "muted" }, "The store deletes the lines the query matches after this many days; the account's retention applies when it is shorter. Only the owner may change retention rules. New lines only."));

    const scopeField = field("Scope", scope);
    const samples = h("textarea", { rows: "4", spellcheck: "false", class: "mono", placeholder: "paste a few log lines, one per line" });
    const results = h("div", { class: "rule-test-results" });
    const test = h("button", { type: "button", onClick: runTest }, "Test on samples");

    function showKind() {
      parseFields.hidden = kind.value !== "parse";
      redactFields.hidden = kind.value !== "redact";
      excludeFields.hidden = kind.value !== "exclude";
      retainFields.hidden = kind.value !== "retain";
      days.required = kind.value === "retain";
      queryField.hidden = kind.value !== "exclude" && kind.value !== "retain";
      scopeField.hidden = !queryField.hidden;
      typesField.hidden = syntax.value !== "regex";
    }
    kind.addEventListener("change", showKind);
    syntax.addEventListener("change", showKind);
    showKind();

    function definition() {
      const body = {};
      if (kind.value === "parse") {
        body.scope = scope.value.trim();
        if (syntax.value === "grok") {
          body.grok = pattern.value.trim();
        } else {
          body.regex = pattern.value.trim();
          body.types = parseTypes(types.value);
        }
      } else if (kind.value === "redact") {
        body.scope = scope.value.trim();
        body.preset = preset.input.checked ? "hipaa" : null;
        body.detectors = [...detectorChecks].filter(([, box]) => box.checked).map(([detector]) => detector);
        body.patterns = lines(patterns.value);
        body.marker = marker.value || null;
      } else if (kind.value === "exclude") {
        body.query = query.value.trim();
        body.preserve_for_tail = preserve.input.checked;
      } else {
        body.query = query.value.trim();
        body.days = days.value.trim() === "" ? null : Number(days.value);
      }
      return body;
    }

    async function runTest() {
      formErrors.clear();
      const sampleLines = lines(samples.value);
      if (!sampleLines.length) {
        formErrors.show("Paste at least one sample line to test the rule on.");
        samples.focus();
        return;
      }
      try {
        const answer = await api("POST", "/api/v1/rules/test",
          { json: { kind: kind.value, name: name.value.trim() || "test", ...definition(), samples: sampleLines } });
        showResults(answer);
      } catch (err) {
        clear(results);
        formErrors.show(err);
      }
    }

    function showResults(answer) {
      const headings = answer.kind === "parse" ? ["#", "Matched", "Line", "Fields"] : ["#", "Matched", "Line", "Outcome"];
      const rows = answer.results.map((line, index) => {
        let detail;
        if (answer.kind === "parse") {
          detail = h("code", {}, visible(JSON.stringify(line.extracted)));
        } else if (answer.kind === "exclude") {
          detail = line.stored ? "stored" : (line.live_tail ? "live tail and alerts only" : "dropped");
        } else if (answer.kind === "retain") {
          detail = line.matched ? `kept ${line.retention_days} days (at most the account's retention)` : "the account's retention";
        } else {
          detail = line.matched ? "redacted" : "unchanged";
        }
        return h("tr", { class: line.matched ? "test-match" : null },
          h("td", {}, String(index + 1)),
          h("td", {}, line.matched ? "yes" : "no"),
          h("td", { class: "rule-what" }, h("code", {}, visible(line.line))),
          h("td", { class: "rule-what" }, detail));
      });
      clear(results,
        h("p", { role: "status" }, `${answer.matched} of ${answer.lines} sample lines matched.`),
        answer.warnings.length ? h("ul", { class: "warnings" }, answer.warnings.map((w) => h("li", {}, visible(w)))) : null,
        table("Test results", headings, rows));
    }

    async function save(event) {
      event.preventDefault();
      formErrors.clear();
      const body = { name: name.value.trim(), enabled: enabled.input.checked, ...definition() };
      try {
        let saved;
        if (rule) {
          saved = await api("PATCH", rulePath(rule), { json: body });
        } else {
          saved = await api("POST", "/api/v1/rules", { json: { kind: kind.value, ...body } });
        }
        status.say(`Rule ${saved.name} ${rule ? "saved" : "added"}.`);
        closeForm();
        await load();
      } catch (err) {
        formErrors.show(err);
        const target = { scope, query, days, regex: pattern, grok: pattern, types, patterns, marker, name }[(err.body || {}).field || ""];
        if (target && !target.closest("[hidden]")) {
          target.focus();
          if (Number.isInteger(err.position) && target.setSelectionRange) target.setSelectionRange(err.position, err.position);
        }
      }
    }

    const form = h("form", { class: "rule-form", onSubmit: save, "aria-label": rule ? `Edit rule ${rule.name}` : "New rule" },
      h("h2", {}, rule ? `Edit rule ${rule.name}` : "New rule"),
      h("div", { class: "rule-form-row" }, field("Kind", kind), field("Name", name), enabled.element),
      scopeField, queryField, parseFields, redactFields, excludeFields, retainFields,
      h("fieldset", { class: "rule-test" },
        h("legend", {}, "Test on sample lines"),
        field("Sample lines", samples), test, results),
      formErrors.element,
      h("div", { class: "rule-form-row" },
        h("button", { type: "submit", class: "primary" }, "Save rule"), " ",
        h("button", { type: "button", onClick: closeForm }, "Cancel")));
    clear(formSlot, form);
    add.hidden = true;
    (rule ? name : kind).focus();
  }

  function closeForm() {
    clear(formSlot);
    add.hidden = false;
    add.focus();
  }

  clear(container,
    h("p", { class: "muted" }, "Rules apply to lines that arrive after they are saved: parsing first, then redaction (before anything is written to disk), then exclusion, then retention."),
    errors.element, status.element, add, formSlot, listSlot);
  api("GET", "/api/v1/rules/catalog")
    .then((found) => { catalog = found; add.disabled = false; })
    .catch((err) => errors.show(err))
    .finally(load);
}
