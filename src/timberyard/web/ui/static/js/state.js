// The viewer's state lives in the query string of "/" so any URL can be shared and restores
// the same search: q, an absolute from/to (ms) or a relative range text, filters and a view.

const LIST_KEYS = ["apps", "hosts", "levels", "tags"];

/** Empty state: the last hour, no query, no filters. */
export function emptyState() {
  return { q: "", from: null, to: null, range: "1h", apps: [], hosts: [], levels: [], tags: [], view: null };
}

// Filter values are joined by commas; a comma inside a value is escaped as "\,".
function splitList(text) {
  if (!text) return [];
  const out = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
    } else if (c === ",") {
      out.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  out.push(current);
  return out.filter((v) => v !== "");
}

function joinList(values) {
  return values.map((v) => String(v).replace(/\\/g, "\\\\").replace(/,/g, "\\,")).join(",");
}

function toMs(text) {
  if (text === null || text === "") return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** State from a query string (default: the current location). */
export function readState(search = window.location.search) {
  const params = new URLSearchParams(search);
  const state = emptyState();
  state.q = params.get("q") || "";
  state.from = toMs(params.get("from"));
  state.to = toMs(params.get("to"));
  state.range = params.get("range") || (state.from !== null ? "" : "1h");
  for (const key of LIST_KEYS) state[key] = splitList(params.get(key));
  state.view = params.get("view") || null;
  return state;
}

/** Query string (with "?", or "") for a state; absolute from/to win over range. */
export function stateToSearch(state) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.from !== null && state.from !== undefined) {
    params.set("from", String(state.from));
    if (state.to !== null && state.to !== undefined) params.set("to", String(state.to));
  } else if (state.range) {
    params.set("range", state.range);
  }
  for (const key of LIST_KEYS) {
    if (state[key] && state[key].length) params.set(key, joinList(state[key]));
  }
  if (state.view) params.set("view", state.view);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** Put the state in the address bar (pushState, or replaceState with {replace: true}). */
export function writeState(state, { replace = false } = {}) {
  const url = `${window.location.pathname}${stateToSearch(state)}${window.location.hash}`;
  if (url === `${window.location.pathname}${window.location.search}${window.location.hash}`) return;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
}
