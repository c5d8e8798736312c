// The pure part of "Restore this range" (no DOM): the restore endpoint's streamed events
// (POST /api/v1/archive/restore: `start`, one `file` per archive file, then `done` or `error`)
// folded into one progress state, and the sentence that states it. tests/js/restore.test.mjs
// checks them.

/** The state before the first event. */
export function startProgress() {
  return { files: 0, filesDone: 0, lines: 0, restored: 0, duplicates: 0, expired: 0, finished: false, inStore: null, error: null };
}

/** The state after `event` (an unknown event changes nothing). */
export function restoreProgress(state, event) {
  switch (event && event.event) {
    case "start":
      return { ...state, files: event.files, lines: event.lines };
    case "file":
      return {
        ...state, filesDone: state.filesDone + 1, restored: state.restored + (event.restored || 0),
        duplicates: state.duplicates + (event.duplicates || 0), expired: state.expired + (event.expired || 0),
      };
    case "done":
      return {
        ...state, filesDone: state.files, restored: event.restored, duplicates: event.duplicates, expired: event.expired,
        finished: true, inStore: event.in_store,
      };
    case "error":
      return { ...state, finished: true, error: event.error || "the restore failed" };
    default:
      return state;
  }
}

const count = (n) => Number(n || 0).toLocaleString("en-US");

/** What the progress line says. */
export function progressText(state) {
  const tally = `${count(state.restored)} lines restored, ${count(state.duplicates)} already in the store` +
    (state.expired ? `, ${count(state.expired)} past retention` : "");
  if (state.error) return `The restore stopped after ${count(state.filesDone)} of ${count(state.files)} files: ${tally}.`;
  if (!state.finished) return `Restoring: file ${count(state.filesDone)} of ${count(state.files)} (${count(state.lines)} archived lines); ${tally}.`;
  if (!state.files) return "Nothing to restore: the archive has no files in this range.";
  const waiting = state.inStore === false ? " Some are still on their way to the store: search again in a minute." : "";
  return `Restore finished: ${tally}.${waiting}`;
}
