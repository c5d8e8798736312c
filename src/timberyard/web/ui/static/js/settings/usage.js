// Settings → Usage: lines per day over the last 30 days, by app or by host, from one histogram
// call with day-wide buckets that start at UTC midnight. A table holds the numbers; a bar chart
// of the daily totals sits above it for the shape.

import { api } from "../api.js";
import { h, clear } from "../dom.js";
import { alertBox, uid } from "./common.js";

const DAY_MS = 86_400_000;
const DAYS = 30;
const TOP = 6; // columns with their own values; the rest is summed as "other"

/** The histogram window: 30 whole UTC days ending with today. */
function usageWindow(nowMs) {
  const from = Math.floor(nowMs / DAY_MS) * DAY_MS - (DAYS - 1) * DAY_MS;
  return { from, to: from + DAYS * DAY_MS - 1 };
}

function day(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

function shown(value) {
  return value === "" ? "(none)" : value;
}

/** The values with the most lines overall, most first. */
function topValues(buckets) {
  const totals = new Map();
  for (const bucket of buckets) {
    for (const [value, count] of Object.entries(bucket.by || {})) totals.set(value, (totals.get(value) || 0) + count);
  }
  return [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([value]) => value);
}

function drawBars(canvas, buckets) {
  const width = canvas.clientWidth || 600;
  const height = canvas.clientHeight || 120;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.scale(ratio, ratio);
  ctx.clearRect(0, 0, width, height);
  const most = Math.max(1, ...buckets.map((b) => b.count));
  const slot = width / buckets.length;
  ctx.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#2456c9";
  buckets.forEach((bucket, i) => {
    const barHeight = Math.round((bucket.count / most) * (height - 4));
    ctx.fillRect(i * slot + 1, height - barHeight, Math.max(1, slot - 2), barHeight);
  });
}

export function renderUsage(container) {
  const errors = alertBox();
  const name = `usage-by-${uid("g")}`;
  const radio = (value, label) => {
    const input = h("input", { type: "radio", name, value, checked: value === "app" });
    input.addEventListener("change", () => { if (input.checked) load(value); });
    return h("label", {}, input, ` ${label} `);
  };
  const canvas = h("canvas", { role: "img", "aria-label": "Lines per day, last 30 days", width: "600", height: "120" });
  canvas.style.width = "100%";
  canvas.style.height = "120px";
  const tableSlot = h("div", {}, h("p", { class: "loading" }, "Loading usage…"));

  async function load(by) {
    errors.clear();
    const { from, to } = usageWindow(Date.now());
    try {
      const answer = await api("GET", "/api/v1/histogram", { params: { from, to, buckets: DAYS, by } });
      const buckets = answer.buckets;
      drawBars(canvas, buckets);
      const values = topValues(buckets);
      const columns = values.slice(0, TOP);
      const rest = values.length > TOP;
      const total = buckets.reduce((sum, b) => sum + b.count, 0);
      const rows = [...buckets].reverse().map((bucket) => {
        const counts = bucket.by || {};
        const other = Object.entries(counts).filter(([v]) => !columns.includes(v)).reduce((sum, [, c]) => sum + c, 0);
        return h("tr", {},
          h("th", { scope: "row" }, day(bucket.ts)),
          h("td", {}, bucket.count.toLocaleString()),
          columns.map((value) => h("td", {}, (counts[value] || 0).toLocaleString())),
          rest ? h("td", {}, other.toLocaleString()) : null);
      });
      clear(tableSlot,
        h("p", {}, `${total.toLocaleString()} lines in the last 30 days (UTC days; today so far).`),
        h("table", {},
          h("caption", { class: "muted" }, `Lines per day by ${by}`),
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, "Day (UTC)"), h("th", { scope: "col" }, "All"),
            columns.map((value) => h("th", { scope: "col" }, shown(value))),
            rest ? h("th", { scope: "col" }, "Other") : null)),
          h("tbody", {}, rows)));
    } catch (err) {
      clear(tableSlot);
      errors.show(err);
    }
  }

  clear(container,
    h("fieldset", {}, h("legend", {}, "Break down by"), radio("app", "App"), radio("host", "Host")),
    errors.element, canvas, tableSlot);
  load("app");
}
