// "Restore this range" (settings/restore.js) and the NDJSON stream reader under it (api.js apiStream).
import { test } from "node:test";
import assert from "node:assert/strict";

import { ApiError, apiStream, splitLines } from "../../src/timberyard/web/ui/static/js/api.js";
import { progressText, restoreProgress, startProgress } from "../../src/timberyard/web/ui/static/js/settings/restore.js";

const fold = (events) => events.reduce(restoreProgress, startProgress());

test("the progress counts files and lines as the events arrive, then takes the totals", () => {
  const started = fold([{ event: "start", files: 3, lines: 1200 }]);
  assert.equal(progressText(started), "Restoring: file 0 of 3 (1,200 archived lines); 0 lines restored, 0 already in the store.");
  const one = restoreProgress(started, { event: "file", key: "k", lines: 400, restored: 390, duplicates: 10, expired: 0 });
  assert.deepEqual([one.filesDone, one.restored, one.duplicates, one.finished], [1, 390, 10, false]);
  const done = fold([{ event: "start", files: 3, lines: 1200 }, { event: "file", restored: 390, duplicates: 10, expired: 0 },
    { event: "done", files: 3, restored: 1190, duplicates: 10, expired: 0, in_store: true }]);
  assert.deepEqual([done.filesDone, done.finished, done.error], [3, true, null]);
  assert.equal(progressText(done), "Restore finished: 1,190 lines restored, 10 already in the store.");
  const late = restoreProgress(done, { event: "done", files: 3, restored: 5, duplicates: 0, expired: 2, in_store: false });
  assert.match(progressText(late), /5 lines restored, 0 already in the store, 2 past retention\. Some are still on their way/);
});

test("an empty range and a failure say so; unknown events change nothing", () => {
  assert.equal(progressText(fold([{ event: "start", files: 0, lines: 0 }, { event: "done", files: 0, restored: 0, duplicates: 0, expired: 0, in_store: true }])),
    "Nothing to restore: the archive has no files in this range.");
  const failed = fold([{ event: "start", files: 2, lines: 10 }, { event: "file", restored: 5 }, { event: "error", error: "disk full", code: "X" }]);
  assert.equal(failed.error, "disk full");
  assert.equal(progressText(failed), "The restore stopped after 1 of 2 files: 5 lines restored, 0 already in the store.");
  const state = startProgress();
  assert.equal(restoreProgress(state, { event: "later" }), state);
});

test("lines are split at newlines, keeping the unfinished end", () => {
  assert.deepEqual(splitLines('{"a":1}\n{"b"'), { lines: ['{"a":1}'], rest: '{"b"' });
  assert.deepEqual(splitLines("\n\n"), { lines: [], rest: "" });
});

function streamOf(chunks) {
  const encoder = new TextEncoder();
  return new ReadableStream({ start(controller) {
    for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
    controller.close();
  } });
}

test("apiStream hands over each object as it completes, across chunk boundaries and without a final newline", async (t) => {
  const sent = [];
  t.mock.method(globalThis, "fetch", async (url, init) => {
    sent.push([url, init]);
    return new Response(streamOf(['{"event":"start","fi', 'les":2}\n{"event":"file"}\n', '{"event":"done","note":"é"}']),
      { status: 200, headers: { "Content-Type": "application/x-ndjson" } });
  });
  const events = [];
  await apiStream("POST", "/api/v1/archive/restore", { json: { from: 1, to: 2 }, onEvent: (e) => events.push(e) });
  assert.deepEqual(events.map((e) => e.event), ["start", "file", "done"]);
  assert.equal(events[0].files, 2);
  assert.equal(events[2].note, "é");
  assert.equal(sent[0][1].method, "POST");
  assert.equal(sent[0][1].body, '{"from":1,"to":2}');
  assert.equal(sent[0][1].headers.Accept, "application/x-ndjson");
});

test("apiStream turns an error answer into an ApiError before any event", async (t) => {
  t.mock.method(globalThis, "fetch", async () => new Response('{"error":"a restore is already running","code":"Conflict"}',
    { status: 409, headers: { "Content-Type": "application/json" } }));
  const events = [];
  await assert.rejects(apiStream("POST", "/x", { onEvent: (e) => events.push(e) }),
    (err) => err instanceof ApiError && err.status === 409 && err.code === "Conflict");
  assert.deepEqual(events, []);
});
