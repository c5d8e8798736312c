// Level names to the CSS class and colour they share, so the line list (CSS classes) and the
// timeline canvas (which cannot use classes) colour a level the same way.

const GROUPS = {
  fatal: ["fatal", "critical", "emergency", "alert", "crit", "emerg"],
  error: ["error", "err"],
  warn: ["warn", "warning"],
  info: ["info", "notice"],
  debug: ["debug"],
  trace: ["trace"],
};
const GROUP_OF = new Map(Object.entries(GROUPS).flatMap(([group, names]) => names.map((n) => [n, group])));

/** "line level-<level lowercase>" class suffix: the level as the contract names it. */
export function levelClass(level) {
  return `level-${String(level || "none").toLowerCase().replace(/[^a-z0-9_-]/g, "_")}`;
}

/** Colour group of a level: fatal, error, warn, info, debug, trace or other. */
export function levelGroup(level) {
  return GROUP_OF.get(String(level || "").toLowerCase()) || "other";
}

/** Colour of a level, read from the stylesheet's --level-* variables. */
export function levelColour(level, styles = getComputedStyle(document.documentElement)) {
  return styles.getPropertyValue(`--level-${levelGroup(level)}`).trim() || "#888";
}

/** Stacking order in the timeline: most severe at the bottom. */
export function levelRank(level) {
  return ["fatal", "error", "warn", "info", "debug", "trace", "other"].indexOf(levelGroup(level));
}
