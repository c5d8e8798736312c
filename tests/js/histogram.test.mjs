// The timeline's counts while live lines stream in (viewer/histogram.js), on the histogram as
// the server answers it: buckets from `from`, `interval` wide, a line at exactly `to` in the last.
import { test } from "node:test";
import assert from "node:assert/strict";

import { addLines, bucketIndex, slide, total } from "../../src/timberyard/web/ui/static/js/viewer/histogram.js";

const histogram = (counts, { from = 0, interval = 25, by = true } = {}) => ({
  from,
  to: from + counts.length * interval,
  interval,
  buckets: counts.map((count, i) => ({ ts: from + i * interval, count, ...(by ? { by: count ? { INFO: count } : {} } : {}) })),
});

test("a line counts in its bucket and its level; one at exactly `to` in the last bucket", () => {
  const data = histogram([0, 0, 0, 0]);
  const next = addLines(data, [{ ts: 0, level: "ERROR" }, { ts: 26, level: "" }, { ts: 26 }, { ts: 100, level: "WARN" }], 100);
  assert.deepEqual(next.buckets.map((b) => b.count), [1, 2, 0, 1]);
  assert.deepEqual(next.buckets.map((b) => b.by), [{ ERROR: 1 }, { "": 2 }, {}, { WARN: 1 }]);
  assert.equal(total(next), 4);
  assert.equal(total(data), 0, "the input is left as it was");
  assert.deepEqual(data.buckets[0].by, {});
});

test("lines outside the window are left out", () => {
  const data = histogram([1, 1], { from: 1000 });
  const next = addLines(data, [{ ts: 999, level: "INFO" }, { ts: 1051, level: "INFO" }], 1050);
  assert.equal(total(next), 2);
  assert.equal(bucketIndex(data, 999), -1);
  assert.equal(bucketIndex(data, 1050), 1);
  assert.equal(bucketIndex({ ...data, buckets: [] }, 1010), -1);
});

test("the window slides to now on the same grid, keeping its span", () => {
  const data = histogram([1, 2, 3, 4]); // 0..100
  const next = slide(data, 130);
  assert.deepEqual([next.from, next.to], [30, 130]);
  assert.deepEqual(next.buckets.map((b) => [b.ts, b.count]), [[25, 2], [50, 3], [75, 4], [100, 0], [125, 0]]);
  assert.deepEqual(next.buckets[3].by, {});
  assert.deepEqual(slide(data, 50), data, "an earlier `now` changes nothing");
  const far = slide(data, 10_000);
  assert.deepEqual(far.buckets.map((b) => b.ts), [9900, 9925, 9950, 9975]);
  assert.equal(total(far), 0);
});

test("a histogram without levels gets none", () => {
  const next = addLines(histogram([0, 0], { by: false }), [{ ts: 60, level: "ERROR" }], 60);
  assert.deepEqual(next.buckets, [{ ts: 0, count: 0 }, { ts: 25, count: 0 }, { ts: 50, count: 1 }]);
});

test("live lines then the slide: counted where they fall", () => {
  let data = histogram([0, 0, 0, 0], { from: 0, interval: 1000 });
  for (let now = 4000; now <= 6000; now += 500) data = addLines(data, [{ ts: now - 1, level: "INFO" }], now);
  assert.deepEqual([data.from, data.to], [2000, 6000]);
  assert.equal(total(data), 5);
  assert.deepEqual(data.buckets.map((b) => [b.ts, b.count]), [[2000, 0], [3000, 1], [4000, 2], [5000, 2]]);
});
