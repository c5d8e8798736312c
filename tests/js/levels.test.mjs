// The web UI's level names against the table the server's rule is held to as well.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { canonicalLevel, levelClass, levelColour, levelGroup, levelRank } from "../../src/timberyard/web/ui/static/js/viewer/levels.js";

const table = JSON.parse(readFileSync(new URL("../conformance/levels.json", import.meta.url), "utf8")).cases;

for (const [given, canonical, group] of table) {
  test(`level ${JSON.stringify(given)} is ${canonical || "(none)"} in group ${group}`, () => {
    assert.equal(canonicalLevel(given), canonical);
    assert.equal(levelGroup(given), group);
  });
}

test("the line list's class names the level as stored, safely", () => {
  assert.equal(levelClass("ERROR"), "level-error");
  assert.equal(levelClass(""), "level-none");
  assert.equal(levelClass(null), "level-none");
  assert.equal(levelClass('x" onclick=1'), "level-x__onclick_1");
});

test("the timeline stacks the most severe level lowest, unknown levels last", () => {
  const order = ["emerg", "err", "warning", "notice", "debug", "trace", "custom"].map(levelRank);
  assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6]);
});

test("a level's colour comes from the stylesheet's variable for its group", () => {
  const styles = { getPropertyValue: (name) => ({ "--level-warn": " #d80 " })[name] || "" };
  assert.equal(levelColour("warning", styles), "#d80");
  assert.equal(levelColour("info", styles), "#888");
});
