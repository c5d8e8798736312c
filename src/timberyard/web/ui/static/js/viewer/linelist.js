// The line stream: a virtual list (only the rows in view are in the DOM) so 100,000 lines stay
// smooth. Oldest at the top, newest at the bottom like a terminal. Unwrapped rows have one fixed
// height, so positions are arithmetic; wrapped rows are measured once shown and estimated before.

import { h, visible } from "../dom.js";
import { formatTime } from "./format.js";
import { levelClass } from "./levels.js";
import { matchRanges } from "./query.js";

const OVERSCAN = 12; // rows rendered beyond each edge, so fast scrolling shows no gaps
const EDGE_PX = 600; // this close to the top or bottom asks for more lines
const BOTTOM_SLACK_PX = 24; // "at the bottom" tolerance for following live lines

/** Text split into text nodes and <mark> elements where a term matches. */
export function markedText(text, terms, { oneLine = false } = {}) {
  const shown = oneLine ? visible(text).replace(/\n/g, "\u2424") : visible(text);
  const ranges = matchRanges(shown, terms);
  if (!ranges.length) return [shown];
  const parts = [];
  let at = 0;
  for (const [start, end] of ranges) {
    if (start > at) parts.push(shown.slice(at, start));
    parts.push(h("mark", {}, shown.slice(start, end)));
    at = end;
  }
  if (at < shown.length) parts.push(shown.slice(at));
  return parts;
}

/**
 * One line as a row element (also used by the context view). Unwrapped rows have one text line,
 * so a newline inside the log line shows as "␤".
 */
export function lineRow(line, terms, { extraClass = "", wrap = false } = {}) {
  const source = [line.host, line.app].filter(Boolean).join("/");
  const stamp = formatTime(line.ts, true); // "YYYY-MM-DD " is hidden on narrow screens
  return h("div", { class: ["line", levelClass(line.level), extraClass], "data-id": line.id, tabindex: "-1" },
    h("span", { class: "ts" }, h("span", { class: "date" }, stamp.slice(0, 11)), stamp.slice(11)),
    h("span", { class: "src", title: source }, visible(source)),
    h("span", { class: "lvl" }, visible(line.level || "")),
    h("span", { class: "msg" }, markedText(line.line, terms, { oneLine: !wrap })));
}

export class LineList {
  /**
   * onOpen(line): a line was clicked or Enter pressed on it; onNearTop()/onNearBottom(): the
   * view came close to an end (load more); onFollowChange(bool): the user left or reached the bottom.
   */
  constructor({ onOpen, onNearTop, onNearBottom, onFollowChange }) {
    this.onOpen = onOpen;
    this.onNearTop = onNearTop;
    this.onNearBottom = onNearBottom;
    this.onFollowChange = onFollowChange;
    this.lines = [];
    this.terms = [];
    this.wrap = false;
    this.following = true;
    this.heights = new Map(); // wrapped row heights by line id
    this.offsets = null; // wrapped mode: prefix sums of heights, length n + 1
    this.rendered = new Map(); // line id -> row element on screen
    this.framePending = false;
    this.spacer = h("div", { class: "lines-spacer" });
    this.rows = h("div", { class: "lines-rows" });
    this.empty = h("div", { class: "lines-empty", hidden: true }, "No lines match in this time range.");
    this.scroller = h("div", {
      class: "lines", role: "log", "aria-label": "Log lines", "aria-live": "off", tabindex: "0",
      onScroll: () => this.onScroll(),
      onClick: (e) => this.onClick(e),
      onKeydown: (e) => this.onKey(e),
    }, this.spacer, this.empty);
    this.spacer.appendChild(this.rows);
    this.rowHeight = 20;
    new ResizeObserver(() => this.schedule()).observe(this.scroller);
  }

  get element() {
    return this.scroller;
  }

  /** Replace every line (oldest first); the view goes to the bottom unless `anchorId` is given. */
  setLines(lines, { terms = this.terms, anchorId = null } = {}) {
    this.lines = lines.slice();
    this.terms = terms;
    this.heights.clear();
    this.invalidate();
    this.clearRows();
    this.empty.hidden = lines.length > 0;
    this.measureRowHeight();
    if (anchorId !== null) {
      const index = this.lines.findIndex((l) => l.id === anchorId);
      this.setScrollTop(Math.max(0, this.top(index + 1) - this.scroller.clientHeight));
      this.setFollowing(false);
    } else {
      this.setScrollTop(this.totalHeight());
      this.setFollowing(true);
    }
    this.render();
  }

  /** Add older lines (oldest first) above, keeping what is on screen in place. */
  prepend(older) {
    if (!older.length) return;
    const before = this.totalHeight();
    const top = this.scroller.scrollTop;
    this.lines = older.concat(this.lines);
    this.invalidate();
    this.empty.hidden = true;
    this.setScrollTop(top + (this.totalHeight() - before));
    this.render();
  }

  /** Add newer lines (oldest first) below; stays at the bottom when following. */
  append(newer, { cap = Infinity } = {}) {
    if (!newer.length) return;
    for (const line of newer) this.lines.push(line);
    this.empty.hidden = true;
    // Trim the oldest in chunks (10% over the cap), so a fast stream does not copy the array every frame.
    if (this.lines.length > cap * 1.1) this.dropOldest(this.lines.length - cap);
    this.invalidate();
    if (this.following) this.setScrollTop(this.totalHeight());
    this.schedule();
  }

  dropOldest(count) {
    const removedHeight = this.top(count);
    for (const line of this.lines.slice(0, count)) this.heights.delete(line.id);
    this.lines.splice(0, count);
    this.invalidate();
    if (!this.following) this.setScrollTop(Math.max(0, this.scroller.scrollTop - removedHeight));
  }

  setWrap(wrap) {
    const anchor = this.firstVisibleIndex();
    this.wrap = wrap;
    this.scroller.classList.toggle("wrap", wrap);
    this.heights.clear();
    this.invalidate();
    this.clearRows();
    if (this.following) this.setScrollTop(this.totalHeight());
    else this.setScrollTop(this.top(anchor));
    this.render();
  }

  scrollToBottom() {
    this.setScrollTop(this.totalHeight());
    this.setFollowing(true);
    this.render();
  }

  // ---- geometry ----

  measureRowHeight() {
    const value = parseFloat(getComputedStyle(this.scroller).getPropertyValue("--row-height"));
    if (value > 0) this.rowHeight = value;
  }

  invalidate() {
    this.offsets = null;
  }

  ensureOffsets() {
    if (!this.wrap || this.offsets) return;
    const n = this.lines.length;
    const offsets = new Float64Array(n + 1);
    const estimate = this.rowHeight;
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + (this.heights.get(this.lines[i].id) || estimate);
    this.offsets = offsets;
  }

  /** Top of row `index` (index = length gives the total height). */
  top(index) {
    if (!this.wrap) return index * this.rowHeight;
    this.ensureOffsets();
    return this.offsets[Math.max(0, Math.min(index, this.lines.length))];
  }

  totalHeight() {
    return this.top(this.lines.length);
  }

  indexAt(y) {
    if (!this.wrap) return Math.max(0, Math.min(this.lines.length - 1, Math.floor(y / this.rowHeight)));
    this.ensureOffsets();
    let lo = 0;
    let hi = this.lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= y) lo = mid;
      else hi = mid - 1;
    }
    return Math.max(0, lo);
  }

  firstVisibleIndex() {
    return this.indexAt(this.scroller.scrollTop);
  }

  setScrollTop(value) {
    this.spacer.style.height = `${this.totalHeight() + this.pad()}px`;
    this.scroller.scrollTop = value;
  }

  // ---- rendering ----

  schedule() {
    if (this.framePending) return;
    this.framePending = true;
    requestAnimationFrame(() => {
      this.framePending = false;
      this.render();
    });
  }

  clearRows() {
    this.rendered.clear();
    this.rows.replaceChildren();
  }

  /** Empty space above the lines when they do not fill the view, so they sit at the bottom. */
  pad() {
    return this.lines.length ? Math.max(0, this.scroller.clientHeight - this.totalHeight()) : 0;
  }

  /** Put the rows in view (plus overscan) in the DOM, reusing the rows already there. */
  render() {
    this.spacer.style.height = `${this.totalHeight() + this.pad()}px`;
    if (this.following) this.scroller.scrollTop = this.totalHeight();
    const n = this.lines.length;
    if (!n) {
      this.clearRows();
      return;
    }
    const viewTop = this.scroller.scrollTop;
    const viewBottom = viewTop + (this.scroller.clientHeight || 600);
    const first = Math.max(0, this.indexAt(viewTop) - OVERSCAN);
    const last = Math.min(n - 1, this.indexAt(viewBottom) + OVERSCAN);
    const next = new Map();
    const children = [];
    for (let i = first; i <= last; i++) {
      const line = this.lines[i];
      const row = this.rendered.get(line.id) || lineRow(line, this.terms, { wrap: this.wrap });
      row.dataset.index = String(i);
      next.set(line.id, row);
      children.push(row);
    }
    for (const [id, row] of this.rendered) if (!next.has(id)) row.remove();
    this.rendered = next;
    this.placeRows(children);
    this.rows.style.transform = `translateY(${this.top(first) + this.pad()}px)`;
    if (this.wrap) this.measure(children, first);
  }

  /**
   * Make the rows container hold `children` in order, touching only rows that come or go: a row
   * under the pointer must stay in the DOM, or the browser drops the click on it.
   */
  placeRows(children) {
    let cursor = this.rows.firstChild;
    for (const row of children) {
      if (row === cursor) {
        cursor = cursor.nextSibling;
      } else {
        this.rows.insertBefore(row, cursor);
      }
    }
    while (cursor) {
      const next = cursor.nextSibling;
      cursor.remove();
      cursor = next;
    }
  }

  /** Wrapped rows: record real heights; if any estimate was wrong, lay out again in place. */
  measure(children, first) {
    let changed = false;
    for (const row of children) {
      const id = row.dataset.id;
      const height = row.offsetHeight;
      if (height && this.heights.get(id) !== height) {
        this.heights.set(id, height);
        changed = true;
      }
    }
    if (!changed) return;
    const anchor = this.indexAt(this.scroller.scrollTop);
    const within = this.scroller.scrollTop - this.top(anchor);
    this.invalidate();
    this.spacer.style.height = `${this.totalHeight() + this.pad()}px`;
    this.rows.style.transform = `translateY(${this.top(first) + this.pad()}px)`;
    this.scroller.scrollTop = this.following ? this.totalHeight() : this.top(anchor) + within;
  }

  // ---- events ----

  isAtBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight <= BOTTOM_SLACK_PX;
  }

  setFollowing(value) {
    if (this.following === value) return;
    this.following = value;
    this.onFollowChange(value);
  }

  // Following is where the view is, whoever scrolled: at the bottom means follow new lines.
  onScroll() {
    this.setFollowing(this.isAtBottom());
    this.schedule();
    const s = this.scroller;
    if (s.scrollTop < EDGE_PX) this.onNearTop();
    if (s.scrollHeight - s.scrollTop - s.clientHeight < EDGE_PX) this.onNearBottom();
  }

  lineOf(row) {
    const index = Number(row.dataset.index);
    const line = this.lines[index];
    return line && line.id === row.dataset.id ? line : this.lines.find((l) => l.id === row.dataset.id);
  }

  onClick(event) {
    const row = event.target.closest(".line");
    if (!row || window.getSelection().toString()) return; // selecting text is not opening
    const line = this.lineOf(row);
    if (line) this.onOpen(line);
  }

  /** Arrow keys move between lines, Enter opens one, End follows the newest. */
  onKey(event) {
    const current = document.activeElement && document.activeElement.closest(".line");
    let index = current ? Number(current.dataset.index) : null;
    if (event.key === "Enter" && current) {
      event.preventDefault();
      const line = this.lineOf(current);
      if (line) this.onOpen(line);
      return;
    }
    if (event.key === "End") {
      event.preventDefault();
      this.scrollToBottom();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    if (!this.lines.length) return;
    if (index === null) index = event.key === "ArrowUp" ? this.indexAt(this.scroller.scrollTop + this.scroller.clientHeight - 1) + 1 : this.firstVisibleIndex() - 1;
    index = Math.max(0, Math.min(this.lines.length - 1, index + (event.key === "ArrowDown" ? 1 : -1)));
    this.focusIndex(index);
  }

  focusIndex(index) {
    const top = this.top(index);
    const bottom = this.top(index + 1);
    const s = this.scroller;
    if (top < s.scrollTop) s.scrollTop = top;
    else if (bottom > s.scrollTop + s.clientHeight) s.scrollTop = bottom - s.clientHeight;
    this.render();
    const row = this.rendered.get(this.lines[index].id);
    if (row) row.focus({ preventScroll: true });
  }
}
