// The web UI's level names against the table the server's rule is held to as well.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { canonicalLevel, levelGroup } from "../../src/timberyard/web/ui/static/js/viewer/levels.js";

const table = JSON.parse(readFileSync(new URL("../conformance/levels.json", import.meta.url), "utf8")).cases;

for (const [given, canonical, group] of table) {
  test(`level ${JSON.stringify(given)} is ${canonical || "(none)"} in group ${group}`, () => {
    assert.equal(canonicalLevel(given), canonical);
    assert.equal(levelGroup(given), group);
  });
}
