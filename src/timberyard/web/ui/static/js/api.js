// JSON client for the server's API: one place that sends the session cookie, adds the CSRF
// token to writes and turns error answers into ApiError, so pages only handle the happy path.

let csrfToken = null;
let unauthenticatedHandler = null;

/** An error answer from the server: `status` (HTTP), `code` and the whole `body`. */
export class ApiError extends Error {
  constructor(message, status, code, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body || {};
    this.position = this.body.position;
    this.hint = this.body.hint;
  }
}

/** Remember the session's CSRF token; writes send it in X-CSRF-Token. */
export function setCsrf(token) {
  csrfToken = token || null;
}

/** Call fn(error) whenever an answer is a 401 (signed out, session ended). */
export function onUnauthenticated(fn) {
  unauthenticatedHandler = fn;
}

/** Build "path?k=v" from params, skipping null/undefined/"" values. */
export function withParams(path, params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value === null || value === undefined || value === "") continue;
    search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `${path}${path.includes("?") ? "&" : "?"}${text}` : path;
}

function send(method, path, { params, json, accept = "application/json" } = {}) {
  const verb = method.toUpperCase();
  const headers = { Accept: accept };
  const init = { method: verb, headers, credentials: "same-origin" };
  if (verb !== "GET" && verb !== "HEAD" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  return fetch(withParams(path, params), init).catch((err) => {
    throw new ApiError(`cannot reach the server (${err.message})`, 0, "NetworkError", {});
  });
}

async function readBody(response) {
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json().catch(() => ({})) : response.text();
}

/** The ApiError for an answer that is not ok (a 401 also tells the unauthenticated handler). */
function failure(response, body) {
  const data = typeof body === "object" && body !== null ? body : { error: String(body) };
  const error = new ApiError(
    data.error || `${response.status} ${response.statusText}`,
    response.status,
    data.code || "HttpError",
    data,
  );
  if (response.status === 401 && unauthenticatedHandler) unauthenticatedHandler(error);
  return error;
}

/**
 * Send a request; resolve to the parsed JSON (or text for non-JSON answers).
 * Throws ApiError carrying the server's error, code, position and hint.
 */
export async function api(method, path, { params, json } = {}) {
  const response = await send(method, path, { params, json });
  const body = await readBody(response);
  if (response.ok) return body;
  throw failure(response, body);
}

/** Complete lines of `text` and what follows the last newline (the start of the next line). */
export function splitLines(text) {
  const lines = text.split("\n");
  const rest = lines.pop();
  return { lines: lines.filter((line) => line.trim() !== ""), rest };
}

/**
 * Send a request whose answer streams one JSON object per line (application/x-ndjson) and call
 * onEvent(object) for each as it arrives; resolves when the stream ends. An error status is
 * an ApiError before any event, as with api().
 */
export async function apiStream(method, path, { params, json, onEvent } = {}) {
  const response = await send(method, path, { params, json, accept: "application/x-ndjson" });
  if (!response.ok) throw failure(response, await readBody(response));
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    const { done, value } = await reader.read();
    pending += done ? decoder.decode() : decoder.decode(value, { stream: true });
    const { lines, rest } = splitLines(done ? `${pending}\n` : pending);
    pending = rest;
    for (const line of lines) onEvent(JSON.parse(line));
    if (done) return;
  }
}
