// The viewer's query text (viewer/query.js): what it highlights, and the query text it writes.
// Two tables are shared with the Python code: highlight.json (made from the search conformance
// table: the UI marks a line for a term or phrase exactly when the server matches it) and
// query_values.json (the server reads back every value the UI writes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import {
  addClause, asciiLower, effectiveQuery, fieldFilter, highlightTerms, matchRanges, quote,
} from "../../src/timberyard/web/ui/static/js/viewer/query.js";

const table = (name) => JSON.parse(readFileSync(new URL(`../conformance/${name}`, import.meta.url), "utf8"));
const highlight = table("highlight.json");
const values = table("query_values.json").cases;

const texts = (q) => highlightTerms(q).map((t) => (t.phrase ? `"${t.text}"` : t.text));

for (const [query, ids] of highlight.cases) {
  test(`highlighting ${query} marks the lines the server matches`, () => {
    const terms = highlightTerms(query);
    assert.equal(terms.length, 1);
    const marked = Object.entries(highlight.lines)
      .filter(([, line]) => matchRanges(line, terms).length > 0)
      .map(([id]) => Number(id));
    assert.deepEqual(marked, ids);
    for (const id of ids) {
      const line = highlight.lines[id];
      for (const [start, end] of matchRanges(line, terms)) assert.equal(asciiLower(line.slice(start, end)), terms[0].text);
    }
  });
}

test("the highlight table is the search table's, not a handful", () => {
  assert.ok(highlight.cases.length >= 80);
  assert.ok(highlight.cases.some(([q]) => q.startsWith('"')));
});

for (const [value, quoted, sidebar, filterOn] of values) {
  test(`the UI writes ${JSON.stringify(value)} as the server reads it`, () => {
    assert.equal(quote(value), quoted);
    assert.equal(effectiveQuery({ apps: [value, "api"] }).text, sidebar);
    assert.equal(fieldFilter("meta.user.id", value), filterOn);
  });
}

test("field values, operators and negated parts are not highlighted", () => {
  assert.deepEqual(texts("app:nginx host:(a OR b) status:>=500 error"), ["error"]);
  assert.deepEqual(texts("-failed payment"), ["payment"]);
  assert.deepEqual(texts("NOT failed payment"), ["payment"]);
  assert.deepEqual(texts("-(payment OR cache) order"), ["order"]);
  assert.deepEqual(texts("(a -(b c)) d"), ["a", "d"]);
  assert.deepEqual(texts("x AND y OR z"), ["x", "y", "z"]);
  assert.deepEqual(texts('meta.path:"a b" tag:[x,"y z"] free'), ["free"]);
  assert.deepEqual(texts("\\OR \\NOT"), ["not", "or"]);
  assert.deepEqual(texts("Main.java\\:42"), ["main.java:42"]);
  assert.deepEqual(texts(""), []);
  assert.deepEqual(texts(null), []);
});

test("phrases are kept whole, lower-cased in ASCII only, longest first, without repeats", () => {
  assert.deepEqual(texts('"Payment Failed" ÉCOLE error ERROR'), ['"payment failed"', "École", "error"]);
  assert.deepEqual(texts(`'it\\'s' "  "`), [`"it's"`]);
  assert.deepEqual(texts('"abc" abc abc'), ['"abc"', "abc"]); // a phrase and a term match differently
});

test("unbalanced input never throws", () => {
  for (const q of ['"open', "(a", "a)", "app:(x", "app:[x", "\\", "-", "f:", '"\\']) {
    assert.ok(Array.isArray(highlightTerms(q)), q);
  }
});

test("ranges: terms at a word start, punctuation and phrases anywhere, merged and sorted", () => {
  const term = (text, phrase = false) => ({ text, phrase });
  assert.deepEqual(matchRanges("linux klinux LINUX", [term("linux")]), [[0, 5], [13, 18]]);
  assert.deepEqual(matchRanges("linux klinux", [term("inux", true)]), [[1, 5], [8, 12]]);
  assert.deepEqual(matchRanges("a/api/b", [term("/api")]), [[1, 5]]);
  assert.deepEqual(matchRanges("payment failed", [term("payment"), term("pay"), term("failed")]), [[0, 7], [8, 14]]);
  assert.deepEqual(matchRanges("user_login", [term("login")]), [[5, 10]]);
  assert.deepEqual(matchRanges("", [term("x")]), []);
  assert.deepEqual(matchRanges("x", []), []);
});

test("the sidebar's filters join the user's query, and error positions map back", () => {
  const state = { q: " error  ", apps: ["nginx", "api"], hosts: [], levels: ["warn"], tags: ["a b"] };
  const query = effectiveQuery(state);
  assert.equal(query.text, 'app:[nginx,api] level:[warn] tag:["a b"] (error)');
  assert.equal(query.text.slice(query.offset, query.offset + 5), "error");
  assert.equal(effectiveQuery(state, "apps").text, 'level:[warn] tag:["a b"] (error)');
  assert.deepEqual(effectiveQuery({ q: "x" }), { text: "x", offset: 0 });
  assert.deepEqual(effectiveQuery({ q: "", hosts: ["h"] }), { text: "host:[h]", offset: 0 });
});

test("filter clauses: appended with AND, and only for paths a query can name", () => {
  assert.equal(addClause("  error ", 'app:"x"'), 'error app:"x"');
  assert.equal(addClause("", 'app:"x"'), 'app:"x"');
  assert.equal(fieldFilter("status", 500), 'status:"500"');
  assert.equal(fieldFilter("has space", "x"), null);
  assert.equal(fieldFilter("9lives", "x"), null);
  assert.equal(fieldFilter("a:b", "x"), null);
});
