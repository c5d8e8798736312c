// The viewer's state in the address bar (state.js): every state survives the trip through a URL.
import { test } from "node:test";
import assert from "node:assert/strict";

import { emptyState, readState, stateToSearch, writeState } from "../../src/timberyard/web/ui/static/js/state.js";

const state = (fields) => ({ ...emptyState(), ...fields });
const roundTrip = (s) => readState(stateToSearch(s));

test("the empty state is the last hour and an empty address", () => {
  assert.deepEqual(emptyState(), { q: "", from: null, to: null, range: "1h", apps: [], hosts: [], levels: [], tags: [], view: null });
  assert.equal(stateToSearch(emptyState()), "?range=1h");
  assert.deepEqual(readState(""), emptyState());
  assert.deepEqual(readState("?"), emptyState());
});

const STATES = [
  state({ q: "error status:>=500", range: "last 2 hours" }),
  state({ q: 'phrase "with quotes" & ampersand = equals + plus # hash % percent', range: "yesterday" }),
  state({ apps: ["nginx", "api"], hosts: ["web-1"], levels: ["ERROR", "WARN"], tags: ["blue", "green"] }),
  state({ apps: ["a,b", "back\\slash", "trail\\", ",", "\\,"], tags: ["x y", "é", "日本"] }),
  state({ from: 1795773600000, to: 1795779015000, range: "" }),
  state({ from: 0, to: 1, range: "" }),
  state({ view: "0123abcd", q: "x" }),
];

for (const [index, s] of STATES.entries()) {
  test(`state ${index} survives a URL`, () => {
    assert.deepEqual(roundTrip(s), s);
  });
}

test("list values: commas and backslashes are escaped, empty values dropped", () => {
  assert.equal(stateToSearch(state({ range: "", apps: ["a,b", "c\\d"] })), `?apps=${encodeURIComponent("a\\,b,c\\\\d")}`);
  assert.deepEqual(readState("?apps=a,,b,").apps, ["a", "b"]);
  assert.deepEqual(readState(`?apps=${encodeURIComponent("x\\")}`).apps, ["x\\"]);
});

test("an absolute range wins over a relative one, and a missing range is the last hour", () => {
  assert.equal(stateToSearch(state({ from: 5, to: 9, range: "1h" })), "?from=5&to=9");
  assert.equal(stateToSearch(state({ from: 5, to: null, range: "" })), "?from=5");
  assert.deepEqual(readState("?from=5"), state({ from: 5, range: "" }));
  assert.deepEqual(readState("?range=since%2015m&from=nonsense"), state({ range: "since 15m" }));
  assert.deepEqual(readState("?from=1e3&to=2000"), state({ from: 1000, to: 2000, range: "" }));
  assert.equal(readState("?q=%E2%9C%93").q, "\u2713");
});

test("writing the state pushes a history entry only when the address changes", () => {
  const calls = [];
  globalThis.window = {
    location: { pathname: "/", search: "?range=1h", hash: "#top" },
    history: {
      pushState: (_, __, url) => calls.push(["push", url]),
      replaceState: (_, __, url) => calls.push(["replace", url]),
    },
  };
  try {
    writeState(emptyState());
    writeState(state({ q: "x" }));
    writeState(state({ q: "y" }), { replace: true });
    assert.deepEqual(calls, [["push", "/?q=x&range=1h#top"], ["replace", "/?q=y&range=1h#top"]]);
    assert.deepEqual(readState(), emptyState()); // the default reads window.location
  } finally {
    delete globalThis.window;
  }
});
