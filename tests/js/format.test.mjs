// Times as the viewer shows them (viewer/format.js). time_text.json is shared with the Python
// code: the range text the UI shows in a time zone is the range the server reads back from it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { formatTime, isoRange, rangeText, tickLabel, timeZone } from "../../src/timberyard/web/ui/static/js/viewer/format.js";

const table = JSON.parse(readFileSync(new URL("../conformance/time_text.json", import.meta.url), "utf8")).cases;

// The browser's local time is the process's: Node reads TZ again whenever it is set.
function inZone(zone, work) {
  const saved = process.env.TZ;
  process.env.TZ = zone;
  try {
    return work();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

for (const [from, to, zone, text] of table) {
  test(`${zone}: ${text}`, () => {
    inZone(zone, () => assert.equal(rangeText(from, to), text));
  });
}

test("the zone the UI names to the server is the local one", () => {
  assert.equal(inZone("Europe/Paris", timeZone), "Europe/Paris");
  assert.equal(inZone("UTC", timeZone), "UTC");
});

test("milliseconds only when asked, always three digits", () => {
  inZone("UTC", () => {
    assert.equal(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 7)), "2026-01-02 03:04:05");
    assert.equal(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5, 7), true), "2026-01-02 03:04:05.007");
    assert.equal(formatTime(0, true), "1970-01-01 00:00:00.000");
  });
});

test("saved views keep exact UTC whatever the local zone", () => {
  inZone("Asia/Kolkata", () => {
    assert.equal(isoRange(0, 1795773600123), "1970-01-01T00:00:00.000Z to 2026-11-27T10:00:00.123Z");
  });
});

test("axis labels carry seconds, then minutes, then the date as the span grows", () => {
  inZone("UTC", () => {
    const at = Date.UTC(2026, 10, 27, 9, 8, 7);
    assert.equal(tickLabel(at, 60_000), "09:08:07");
    assert.equal(tickLabel(at, 2 * 60_000), "09:08:07");
    assert.equal(tickLabel(at, 2 * 60_000 + 1), "09:08");
    assert.equal(tickLabel(at, 36 * 3_600_000), "09:08");
    assert.equal(tickLabel(at, 36 * 3_600_000 + 1), "11-27 09:08");
  });
});
