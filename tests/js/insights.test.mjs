// The Insights page's pure parts (insights/links.js): windows, sparkline points, links to the viewer.
import { test } from "node:test";
import assert from "node:assert/strict";

import { readState } from "../../src/timberyard/web/ui/static/js/state.js";
import {
  anomalyUrl, searchUrl, sparklinePoints, templateUrl, windowOf,
} from "../../src/timberyard/web/ui/static/js/insights/links.js";

test("the window comes from the address, the last 24 hours otherwise", () => {
  assert.equal(windowOf("#/insights?window=6h").ms, 6 * 3_600_000);
  assert.equal(windowOf("#/insights").id, "24h");
  assert.equal(windowOf("#/insights?window=1y").id, "24h");
  assert.equal(windowOf("").id, "24h");
});

test("a sparkline spans the box, the highest count at the top and zero at the bottom", () => {
  assert.equal(sparklinePoints([0, 5, 10], 102, 22), "1,21 51,11 101,1");
  assert.equal(sparklinePoints([0, 0], 102, 22), "1,21 101,21");
  assert.equal(sparklinePoints([7], 102, 22), "1,1 101,1");
  assert.equal(sparklinePoints([], 102, 22), "");
});

test("a template row leads to the viewer on its lines in its app over the window", () => {
  const url = templateUrl({ id: "9217345110243876044", app: "billing" }, { from: 1000, to: 61000 });
  assert.ok(url.startsWith("/?") && url.endsWith("#/"));
  const state = readState(url.slice(1, -2));
  assert.equal(state.q, "template:9217345110243876044");
  assert.deepEqual([state.from, state.to, state.apps], [1000, 60999, ["billing"]]);
  assert.deepEqual(readState(templateUrl({ id: "5", app: "" }, { from: 0, to: 10 }).slice(1, -2)).apps, []);
});

test("an anomaly leads to the lines behind it, from an hour before it started to a minute after it was detected", () => {
  const hour = 3_600_000;
  const anomaly = { query: "level:error app:web", started_at: "2026-12-06T09:41:07.120Z", detected_at: "2026-12-06T09:41:08.002Z" };
  const state = readState(anomalyUrl(anomaly, 0).slice(1, -2));
  assert.deepEqual([state.q, state.from, state.to],
    ["level:error app:web", Date.parse(anomaly.started_at) - hour, Date.parse(anomaly.detected_at) + 60_000]);
  const undated = readState(anomalyUrl({ query: "x", started_at: "garbage" }, 9 * hour).slice(1, -2));
  assert.deepEqual([undated.from, undated.to], [7 * hour, 9 * hour]);
  assert.deepEqual(readState(searchUrl("q", 1, 2, "a,b").slice(1, -2)).apps, ["a,b"]);
});
