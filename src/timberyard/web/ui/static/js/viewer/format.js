// Times as the viewer shows them: local time, ISO-like so the time-range box can read them back.

const pad = (n, w = 2) => String(n).padStart(w, "0");

/** "2026-11-27 10:00:00" (local), with ".123" milliseconds when `ms` is true. */
export function formatTime(epochMs, ms = false) {
  const d = new Date(epochMs);
  const text = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return ms ? `${text}.${pad(d.getMilliseconds(), 3)}` : text;
}

/** An absolute range as the time-range box shows it (and the server can read back). */
export function rangeText(from, to) {
  return `${formatTime(from)} to ${formatTime(to)}`;
}

/** An absolute range as exact UTC text, for saved views. */
export function isoRange(from, to) {
  return `${new Date(from).toISOString()} to ${new Date(to).toISOString()}`;
}

/** Short axis label for a tick, by the span shown. */
export function tickLabel(epochMs, spanMs) {
  const d = new Date(epochMs);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanMs <= 2 * 60 * 1000) return `${clock}:${pad(d.getSeconds())}`;
  if (spanMs <= 36 * 3600 * 1000) return clock;
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
}

/** The browser's timezone name (e.g. "Europe/Paris"), for the server's time-range reader. */
export function timeZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
