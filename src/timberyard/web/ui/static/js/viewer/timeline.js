// The timeline: lines per time bucket stacked by level on a <canvas> (drawn here, no library),
// sharp on HiDPI screens. Drag across it to zoom into a span; click a bar to jump the line list
// to that time; arrow keys and Enter do the same from the keyboard.

import { h } from "../dom.js";
import { formatTime, tickLabel } from "./format.js";
import { addLines, total } from "./histogram.js";
import { levelColour, levelRank } from "./levels.js";

const AXIS_PX = 16; // room for time labels under the bars
const TOP_PX = 14; // room for the scale label
const BAR_PX = 8; // target width of one bucket; decides how many buckets to ask for
const DRAG_PX = 5; // a press that moves less than this is a click
const STEPS = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);

export class Timeline {
  /** onZoom(from, to): a span was dragged; onJump(start, end): a bucket was chosen. */
  constructor({ onZoom, onJump }) {
    this.onZoom = onZoom;
    this.onJump = onJump;
    this.data = null; // {from, to, interval, buckets}
    this.drag = null; // {x0, x1} in CSS pixels while dragging
    this.hover = -1;
    this.selected = -1;
    this.summary = h("span", { class: "visually-hidden", id: "timeline-summary" }, "No data yet.");
    this.canvas = h("canvas", {
      "aria-label": "Timeline", role: "img", tabindex: "0", "aria-describedby": "timeline-summary",
      onPointerdown: (e) => this.onDown(e),
      onPointermove: (e) => this.onMove(e),
      onPointerup: (e) => this.onUp(e),
      onPointercancel: () => this.cancelDrag(),
      onPointerleave: () => this.onLeave(),
      onKeydown: (e) => this.onKey(e),
    });
    this.tip = h("div", { class: "timeline-tip", hidden: true });
    this.element = h("div", { class: "timeline-wrap" }, this.canvas, this.tip, this.summary);
    new ResizeObserver(() => this.draw()).observe(this.canvas);
  }

  /** How many buckets fit the canvas's width. */
  bucketCount() {
    const width = this.canvas.getBoundingClientRect().width || 800;
    return Math.max(10, Math.min(1000, Math.floor(width / BAR_PX)));
  }

  /** Show a histogram answer for [from, to]. */
  setData(answer, from, to) {
    this.data = { from, to, interval: answer.interval_ms, buckets: answer.buckets };
    this.selected = -1;
    this.summarise();
    this.draw();
  }

  /** Count lines that live tail brought in, the window slid to end at `now`. */
  addLines(lines, now) {
    if (!this.data) return;
    const { from } = this.data;
    this.data = addLines(this.data, lines, now);
    if (this.data.from !== from) this.selected = -1; // the buckets moved under the selection
    this.summarise();
    this.draw();
  }

  summarise() {
    const { from, to } = this.data;
    this.summary.textContent = `${total(this.data)} lines from ${formatTime(from)} to ${formatTime(to)}.`;
  }

  clear() {
    this.data = null;
    this.summary.textContent = "No data.";
    this.draw();
  }

  // ---- drawing ----

  geometry() {
    const rect = this.canvas.getBoundingClientRect();
    return { width: rect.width, height: rect.height, plot: rect.height - AXIS_PX - TOP_PX };
  }

  xOf(t, width) {
    const { from, to } = this.data;
    return ((t - from) / Math.max(1, to - from)) * width;
  }

  timeAt(x, width) {
    const { from, to } = this.data;
    return Math.round(from + (Math.max(0, Math.min(width, x)) / width) * (to - from));
  }

  bucketAt(x, width) {
    if (!this.data || !this.data.buckets.length) return -1;
    const t = this.timeAt(x, width);
    const index = Math.floor((t - this.data.buckets[0].ts) / this.data.interval);
    return Math.max(0, Math.min(this.data.buckets.length - 1, index));
  }

  draw() {
    const { width, height, plot } = this.geometry();
    if (!width || !height) return;
    const dpr = window.devicePixelRatio || 1;
    const pixelWidth = Math.round(width * dpr);
    const pixelHeight = Math.round(height * dpr);
    if (this.canvas.width !== pixelWidth || this.canvas.height !== pixelHeight) {
      this.canvas.width = pixelWidth;
      this.canvas.height = pixelHeight;
    }
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const styles = getComputedStyle(document.documentElement);
    const muted = styles.getPropertyValue("--muted").trim();
    ctx.font = "11px system-ui, sans-serif";
    if (!this.data) return;
    const { buckets, interval } = this.data;
    const max = buckets.reduce((m, b) => Math.max(m, b.count), 0);
    this.drawAxis(ctx, width, height, muted);
    ctx.fillStyle = muted;
    ctx.textBaseline = "top";
    ctx.textAlign = "left";
    ctx.fillText(max ? `max ${max.toLocaleString()} per ${tickSpan(interval)}` : "no lines", 4, 1);
    if (!max) return;
    const colours = new Map();
    for (let i = 0; i < buckets.length; i++) {
      const bucket = buckets[i];
      if (!bucket.count) continue;
      const x0 = this.xOf(bucket.ts, width);
      const x1 = this.xOf(bucket.ts + interval, width);
      const barWidth = Math.max(1, x1 - x0 - (x1 - x0 > 3 ? 1 : 0));
      let y = TOP_PX + plot;
      const parts = Object.entries(bucket.by || { "": bucket.count }).sort((a, b) => levelRank(a[0]) - levelRank(b[0]));
      for (const [level, count] of parts) {
        const barHeight = (count / max) * plot;
        if (!colours.has(level)) colours.set(level, levelColour(level, styles));
        ctx.fillStyle = colours.get(level);
        ctx.globalAlpha = i === this.hover || i === this.selected ? 1 : 0.82;
        ctx.fillRect(x0, y - barHeight, barWidth, barHeight);
        y -= barHeight;
      }
    }
    ctx.globalAlpha = 1;
    if (this.selected >= 0) this.outline(ctx, this.selected, width, plot);
    if (this.drag) {
      const left = Math.min(this.drag.x0, this.drag.x1);
      ctx.fillStyle = "rgba(36, 86, 201, 0.18)";
      ctx.fillRect(left, 0, Math.abs(this.drag.x1 - this.drag.x0), TOP_PX + plot);
      ctx.strokeStyle = styles.getPropertyValue("--accent").trim();
      ctx.strokeRect(left + 0.5, 0.5, Math.abs(this.drag.x1 - this.drag.x0), TOP_PX + plot - 1);
    }
  }

  outline(ctx, index, width, plot) {
    const bucket = this.data.buckets[index];
    const x0 = this.xOf(bucket.ts, width);
    const x1 = this.xOf(bucket.ts + this.data.interval, width);
    ctx.strokeStyle = getComputedStyle(document.documentElement).getPropertyValue("--focus").trim();
    ctx.lineWidth = 2;
    ctx.strokeRect(x0, TOP_PX, Math.max(2, x1 - x0), plot);
    ctx.lineWidth = 1;
  }

  /** Time labels at a round step that leaves ~110 px between them, aligned to local time. */
  drawAxis(ctx, width, height, colour) {
    const { from, to } = this.data;
    const span = to - from;
    const step = STEPS.find((s) => (s / span) * width >= 110) || STEPS[STEPS.length - 1];
    const offset = new Date(from).getTimezoneOffset() * 60000;
    let t = Math.ceil((from - offset) / step) * step + offset;
    ctx.fillStyle = colour;
    ctx.strokeStyle = colour;
    ctx.textBaseline = "bottom";
    ctx.textAlign = "center";
    for (; t <= to; t += step) {
      const x = this.xOf(t, width);
      ctx.globalAlpha = 0.35;
      ctx.fillRect(Math.round(x), TOP_PX, 1, height - AXIS_PX - TOP_PX);
      ctx.globalAlpha = 1;
      if (x > 20 && x < width - 20) ctx.fillText(tickLabel(t, span), x, height - 1);
    }
  }

  // ---- pointer and keyboard ----

  localX(event) {
    return event.clientX - this.canvas.getBoundingClientRect().left;
  }

  onDown(event) {
    if (!this.data || event.button !== 0) return;
    this.canvas.setPointerCapture(event.pointerId);
    const x = this.localX(event);
    this.drag = { x0: x, x1: x };
  }

  onMove(event) {
    if (!this.data) return;
    const x = this.localX(event);
    const { width } = this.geometry();
    if (this.drag) {
      this.drag.x1 = Math.max(0, Math.min(width, x));
      this.tip.hidden = true;
    } else {
      this.hover = this.bucketAt(x, width);
      this.showTip(this.hover, x, width);
    }
    this.draw();
  }

  onUp(event) {
    if (!this.drag) return;
    const { x0 } = this.drag;
    const x1 = this.localX(event);
    this.drag = null;
    const { width } = this.geometry();
    if (Math.abs(x1 - x0) >= DRAG_PX) {
      const from = this.timeAt(Math.min(x0, x1), width);
      const to = this.timeAt(Math.max(x0, x1), width);
      this.draw();
      if (to > from) this.onZoom(from, to);
    } else {
      this.choose(this.bucketAt(x0, width));
    }
  }

  cancelDrag() {
    this.drag = null;
    this.draw();
  }

  onLeave() {
    this.hover = -1;
    this.tip.hidden = true;
    if (!this.drag) this.draw();
  }

  showTip(index, x, width) {
    if (index < 0) {
      this.tip.hidden = true;
      return;
    }
    const bucket = this.data.buckets[index];
    const parts = Object.entries(bucket.by || {}).map(([level, count]) => `${level || "none"} ${count}`);
    this.tip.textContent = `${formatTime(bucket.ts)} · ${bucket.count} line${bucket.count === 1 ? "" : "s"}${parts.length ? ` (${parts.join(", ")})` : ""}`;
    this.tip.hidden = false;
    const tipWidth = this.tip.offsetWidth;
    this.tip.style.left = `${Math.max(0, Math.min(width - tipWidth, x + 12))}px`;
  }

  choose(index) {
    if (index < 0) return;
    this.selected = index;
    this.draw();
    const bucket = this.data.buckets[index];
    this.onJump(bucket.ts, Math.min(bucket.ts + this.data.interval - 1, this.data.to));
  }

  onKey(event) {
    if (!this.data || !this.data.buckets.length) return;
    const last = this.data.buckets.length - 1;
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      const start = this.selected < 0 ? last : this.selected;
      this.selected = Math.max(0, Math.min(last, start + (event.key === "ArrowLeft" ? -1 : 1)));
      const { width } = this.geometry();
      const bucket = this.data.buckets[this.selected];
      this.showTip(this.selected, this.xOf(bucket.ts, width), width);
      this.draw();
    } else if (event.key === "Enter" && this.selected >= 0) {
      event.preventDefault();
      this.choose(this.selected);
    }
  }
}

/** A bucket width in words: "30 s", "5 min", "2 h". */
function tickSpan(ms) {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3600000) return `${Math.round(ms / 60000)} min`;
  if (ms < 2 * 86400000) return `${Math.round(ms / 3600000)} h`;
  return `${Math.round(ms / 86400000)} d`;
}
