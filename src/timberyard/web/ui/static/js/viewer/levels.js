// Level names: the canonical name a level is stored under, and the colour group the line list
// (CSS classes) and the timeline canvas (which cannot use classes) share. The same rule as
// parse/levels.py on the server, held to it by tests/conformance/levels.json.

const CANONICAL = {
  EMERG: "EMERGENCY", EMERGENCY: "EMERGENCY", ALERT: "ALERT", FATAL: "FATAL", PANIC: "FATAL",
  CRIT: "CRITICAL", CRITICAL: "CRITICAL", SEVERE: "ERROR", ERR: "ERROR", ERROR: "ERROR",
  WARN: "WARN", WARNING: "WARN", NOTICE: "NOTICE", INFO: "INFO", DEBUG: "DEBUG", TRACE: "TRACE",
};

const GROUPS = {
  fatal: ["EMERGENCY", "ALERT", "FATAL", "CRITICAL"],
  error: ["ERROR"],
  warn: ["WARN"],
  info: ["INFO", "NOTICE"],
  debug: ["DEBUG"],
  trace: ["TRACE"],
};
const GROUP_OF = new Map(Object.entries(GROUPS).flatMap(([group, names]) => names.map((n) => [n, group])));

/** The canonical name of a level as a sender or a person writes it ("warning" -> "WARN"). */
export function canonicalLevel(level) {
  const upper = String(level ?? "").trim().toUpperCase();
  return Object.hasOwn(CANONICAL, upper) ? CANONICAL[upper] : upper;
}

/** "line level-<level lowercase>" class suffix: the level as the contract names it. */
export function levelClass(level) {
  return `level-${String(level || "none").toLowerCase().replace(/[^a-z0-9_-]/g, "_")}`;
}

/** Colour group of a level: fatal, error, warn, info, debug, trace or other. */
export function levelGroup(level) {
  return GROUP_OF.get(canonicalLevel(level)) || "other";
}

/** Colour of a level, read from the stylesheet's --level-* variables. */
export function levelColour(level, styles = getComputedStyle(document.documentElement)) {
  return styles.getPropertyValue(`--level-${levelGroup(level)}`).trim() || "#888";
}

/** Stacking order in the timeline: most severe at the bottom. */
export function levelRank(level) {
  return ["fatal", "error", "warn", "info", "debug", "trace", "other"].indexOf(levelGroup(level));
}
