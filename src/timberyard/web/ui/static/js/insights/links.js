// The Insights page's pure parts (no DOM): the time windows it offers, the points of a
// sparkline, and the viewer URLs its rows lead to. tests/js/insights.test.mjs checks them.

import { emptyState, stateToSearch } from "../state.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

export const WINDOWS = [
  { id: "1h", label: "Last hour", ms: HOUR_MS },
  { id: "6h", label: "Last 6 hours", ms: 6 * HOUR_MS },
  { id: "24h", label: "Last 24 hours", ms: 24 * HOUR_MS },
  { id: "7d", label: "Last 7 days", ms: 7 * 24 * HOUR_MS },
];
export const DEFAULT_WINDOW = "24h";

/** The window an address names (`#/insights?window=6h`), the default for anything else. */
export function windowOf(hash) {
  const wanted = new URLSearchParams(String(hash || "").split("?")[1] || "").get("window");
  return WINDOWS.find((w) => w.id === wanted) || WINDOWS.find((w) => w.id === DEFAULT_WINDOW);
}

/** `x,y` points of a line through `counts` in a width x height box (y down), the highest
 * count at the top and zero at the bottom, `pad` from the edges. One count is a flat line. */
export function sparklinePoints(counts, width, height, pad = 1) {
  const values = counts.length === 1 ? [counts[0], counts[0]] : counts;
  if (!values.length) return "";
  const top = Math.max(1, ...values);
  const step = (width - 2 * pad) / (values.length - 1);
  const round = (n) => Math.round(n * 10) / 10;
  return values.map((count, i) => `${round(pad + i * step)},${round(height - pad - (count / top) * (height - 2 * pad))}`).join(" ");
}

/** The viewer's URL for `query` over [from, to] (epoch ms), narrowed to `app` when given. */
export function searchUrl(query, from, to, app = "") {
  const state = { ...emptyState(), q: query, from, to, range: "", apps: app ? [app] : [] };
  return `/${stateToSearch(state)}#/`;
}

/** A template row's link: its lines (`template:ID` in its app) over the answer's window. */
export function templateUrl(item, span) {
  return searchUrl(`template:${item.id}`, span.from, span.to - 1, item.app);
}

/** An anomaly's link: the lines behind it (its `query`), from an hour before it started to a
 * minute after it was detected (where GET /api/v1/insights/anomalies says to look), or now. */
export function anomalyUrl(anomaly, nowMs) {
  const started = epochMs(anomaly.started_at);
  const detected = epochMs(anomaly.detected_at);
  const from = started === null ? nowMs - 2 * HOUR_MS : started - HOUR_MS;
  const to = detected === null ? nowMs : detected + MINUTE_MS;
  return searchUrl(anomaly.query || "", from, Math.max(from, to));
}

function epochMs(value) {
  const ms = typeof value === "number" ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
