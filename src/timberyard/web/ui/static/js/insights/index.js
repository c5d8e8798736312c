// The Insights page (#/insights): over a time window, the anomalies the node found, the log
// templates that are new in the window and those that grew, each row with its counts and a
// sparkline, and a link to the viewer showing its lines. Templates come from
// GET /api/v1/insights/templates; anomalies from GET /api/v1/insights/anomalies (a node of a
// release before it answers 404: then that section says so quietly and stays empty).

import { api, ApiError } from "../api.js";
import { h, clear, visible } from "../dom.js";
import { alertBox, formatTime, select, table, uid } from "../settings/common.js";
import { WINDOWS, anomalyUrl, sparklinePoints, templateUrl, windowOf } from "./links.js";

const SVG = "http://www.w3.org/2000/svg";
const SPARK_WIDTH = 120;
const SPARK_HEIGHT = 24;
const ANOMALY_LIMIT = 50;

function svg(tag, attrs) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  return el;
}

/** An inline SVG line of `counts`; `split` draws a mark where the window before ends. */
function sparkline(counts, label, split = 0) {
  const chart = svg("svg", {
    class: "sparkline", role: "img", "aria-label": label,
    width: SPARK_WIDTH, height: SPARK_HEIGHT, viewBox: `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`,
  });
  const title = svg("title", {});
  title.textContent = label;
  chart.append(title);
  if (split) {
    const x = 1 + (split - 0.5) * ((SPARK_WIDTH - 2) / Math.max(1, counts.length - 1));
    chart.append(svg("line", { class: "spark-split", x1: x, x2: x, y1: 0, y2: SPARK_HEIGHT }));
  }
  chart.append(svg("polyline", { class: "spark-line", points: sparklinePoints(counts, SPARK_WIDTH, SPARK_HEIGHT) }));
  return chart;
}

function bucketLabel(span) {
  const minutes = span.bucket_ms / 60_000;
  return minutes >= 60 && minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

function trendLabel(counts, span) {
  return `Lines per ${bucketLabel(span)}: highest ${Math.max(0, ...counts).toLocaleString()}, last ${(counts[counts.length - 1] || 0).toLocaleString()}`;
}

function levels(item) {
  return Object.entries(item.levels || {}).map(([level, count]) => `${level} ${count.toLocaleString()}`).join(", ");
}

function templateLink(item, span) {
  const text = item.text === null ? `template ${item.id}` : visible(item.text);
  return h("a", { class: "template-text", href: templateUrl(item, span), title: `Search template:${item.id}` }, text);
}

function perMinute(value) {
  return `${value.toLocaleString(undefined, { maximumFractionDigits: 2 })}/min`;
}

function newRows(items, span) {
  return items.map((item) => [
    templateLink(item, span), visible(item.app), formatTime(item.first_seen), item.lines.toLocaleString(), levels(item),
    sparkline(item.sparkline, trendLabel(item.sparkline, span)),
  ]);
}

function growingRows(items, span) {
  return items.map((item) => {
    const counts = [...item.sparkline_before, ...item.sparkline];
    return [
      templateLink(item, span), visible(item.app), `${perMinute(item.per_minute_before)} → ${perMinute(item.per_minute)}`,
      `×${item.ratio.toLocaleString()}`, item.lines.toLocaleString(), levels(item),
      sparkline(counts, `${trendLabel(item.sparkline, span)}; the window before on the left`, item.sparkline_before.length),
    ];
  });
}

function anomalyRows(anomalies, nowMs) {
  return anomalies.map((anomaly) => [
    visible(anomaly.kind), visible(anomaly.key), formatTime(anomaly.started_at, ""),
    typeof anomaly.score === "number" ? anomaly.score.toLocaleString(undefined, { maximumFractionDigits: 2 }) : "",
    visible(anomaly.evidence), h("a", { href: anomalyUrl(anomaly, nowMs) }, "Lines"),
  ]);
}

/** A table named by `caption` for screen readers; the section's heading already shows it. */
function namedTable(caption, headings, rows) {
  const element = table(caption, headings, rows);
  element.caption.className = "visually-hidden";
  return element;
}

function section(title, explanation) {
  const id = uid("insights");
  const errors = alertBox();
  const body = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  const element = h("section", { class: "insights-section", "aria-labelledby": id },
    h("h2", { id }, title), h("p", { class: "muted" }, explanation), errors.element, body);
  return { element, errors, body };
}

/** Render the page into `container`; main.js calls this again on every #/insights... change. */
export function renderInsights(container) {
  let live = true;
  const chosen = windowOf(window.location.hash);
  const picker = select(WINDOWS.map((w) => [w.id, w.label]), chosen.id, { id: uid("window") });
  picker.addEventListener("change", () => { window.location.hash = `#/insights?window=${picker.value}`; });
  const refresh = h("button", { type: "button", onClick: () => load() }, "Refresh");
  const anomalies = section("Anomalies", "What the node's detectors flagged in the window: new errors, surges, silences, volume changes.");
  const fresh = section("New templates", "Kinds of line whose first line is in the window.");
  const growing = section("Growing templates", "Kinds of line with at least 3 times as many lines as in the window just before.");
  clear(container, h("div", { class: "insights" },
    h("h1", { tabindex: "-1" }, "Insights"),
    h("div", { class: "insights-toolbar" }, h("label", { for: picker.id }, "Window "), picker, " ", refresh),
    anomalies.element, fresh.element, growing.element));

  async function loadTemplates(since, until) {
    try {
      const answer = await api("GET", "/api/v1/insights/templates", { params: { since, until } });
      if (!live) return;
      const span = answer.window;
      clear(fresh.body, answer.new.length
        ? namedTable("New templates", ["Template", "App", "First seen", "Lines", "Levels", "Trend"], newRows(answer.new, span))
        : h("p", { class: "empty" }, "No new templates in this window."));
      clear(growing.body, answer.growing.length
        ? namedTable("Growing templates", ["Template", "App", "Before → now", "Ratio", "Lines", "Levels", "Trend"], growingRows(answer.growing, span))
        : h("p", { class: "empty" }, "No template grew in this window."));
    } catch (err) {
      if (!live) return;
      clear(fresh.body);
      clear(growing.body);
      fresh.errors.show(err);
    }
  }

  async function loadAnomalies(since, until) {
    try {
      const answer = await api("GET", "/api/v1/insights/anomalies", { params: { from: since, to: until, limit: ANOMALY_LIMIT } });
      if (!live) return;
      clear(anomalies.body, answer.anomalies.length
        ? namedTable("Anomalies", ["Kind", "Key", "Started", "Score", "Evidence", ""], anomalyRows(answer.anomalies, until))
        : h("p", { class: "empty" }, "No anomalies in this window."));
    } catch (err) {
      if (!live) return;
      if (err instanceof ApiError && err.status === 404) {
        clear(anomalies.body, h("p", { class: "empty muted" }, "Anomaly detection is not available on this node yet."));
        return;
      }
      clear(anomalies.body);
      anomalies.errors.show(err);
    }
  }

  function load() {
    const until = Date.now();
    const since = until - chosen.ms;
    for (const part of [anomalies, fresh, growing]) {
      part.errors.clear();
      clear(part.body, h("p", { class: "loading" }, "Loading…"));
    }
    loadAnomalies(since, until);
    loadTemplates(since, until);
  }

  load();
  return { destroy() { live = false; } };
}
